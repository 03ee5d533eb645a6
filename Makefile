# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LEDGER := example-ledger/ledger.beancount
PORT ?= 5000

.PHONY: demo test venv lint typecheck check-example clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/activate

venv: $(BIN)/activate

demo: venv
	$(BIN)/bean-check $(LEDGER)
	$(BIN)/fava --host 127.0.0.1 --port $(PORT) $(LEDGER)

lint: venv
	$(BIN)/ruff check beancount_backflush tests benchmarks
	$(BIN)/ruff format --check beancount_backflush

typecheck: venv
	$(BIN)/mypy beancount_backflush

check-example: venv
	BEANCOUNT_DISABLE_LOAD_CACHE=1 $(BIN)/bean-check $(LEDGER)

test: venv check-example lint typecheck
	$(BIN)/python -m pytest -rs  # -rs: say why a test is skipped

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .hypothesis
