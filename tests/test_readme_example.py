"""The README's worked example runs as written: its standards file reference and its ledger
load with no error, and the expansion it shows is what the plugin generates. The commands of
example-ledger/README.md work from the repository root."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import data

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def block(text: str, after: str, language: str, skip: int = 0) -> str:
    """The body of the (skip+1)-th fenced block of ``language`` after the text ``after``."""
    rest = text[text.index(after) :]
    blocks = re.findall(rf"```{language}\n(.*?)```", rest, re.S)
    return blocks[skip]


def balances(entries) -> dict:
    totals: dict = defaultdict(Decimal)
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                totals[(p.account, p.units.currency, p.cost)] += p.units.number
    return {k: v for k, v in totals.items() if v}


def test_the_worked_example_loads_without_errors_and_expands_as_shown(tmp_path):
    standards = block(README, "## Standards file reference", "yaml")
    ledger = block(README, "Example — a complete ledger", "beancount")
    shown = block(README, "Example — a complete ledger", "beancount", skip=1)
    (tmp_path / "standards.yaml").write_text(standards)
    (tmp_path / "ledger.beancount").write_text(ledger)
    entries, errors, _ = loader.load_file(str(tmp_path / "ledger.beancount"))
    assert [e.message for e in errors] == []
    generated = [e for e in entries if isinstance(e, data.Transaction)]
    assert len(generated) == 3
    # The expansion shown, loaded without the plugin (with the ledger's open lines), has
    # the very balances, units and lots the plugin generates.
    opens = "\n".join(line for line in ledger.splitlines() if " open " in line)
    expanded, errors, _ = loader.load_string(opens + "\n\n" + shown)
    assert [e.message for e in errors] == []
    assert balances(expanded) == balances(entries)


COMMANDS = re.findall(
    r"^(bean-\S+ .*?)(?:\s+#.*)?$",
    block((ROOT / "example-ledger" / "README.md").read_text(), "", "sh"),
    re.M,
)


@pytest.mark.parametrize("command", COMMANDS)
def test_example_ledger_readme_commands_work_from_the_repository_root(command):
    argv = shlex.split(command)
    binary = Path(sys.executable).parent / argv[0]
    env = dict(os.environ, BEANCOUNT_DISABLE_LOAD_CACHE="1")
    result = subprocess.run(
        [str(binary), *argv[1:]], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120
    )
    assert "No such file" not in result.stderr and "no such ledger" not in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout or result.returncode == 0, result.stderr
