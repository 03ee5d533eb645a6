"""Golden files, one folder per event (autobean's style): input ledger + standards, the
transactions the plugin generates (expected.beancount) and its errors (expected_errors.txt).

Each expected file was checked by hand against the standards; regenerate after an intended
change with `BACKFLUSH_UPDATE_GOLDEN=1 pytest tests/test_golden.py` and review the diff.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from beancount import loader
from beancount.parser import printer

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.beancount").exists())


def render(case: Path) -> tuple[str, str]:
    entries, errors, _ = loader.load_file(str(case / "input.beancount"))
    generated = [e for e in entries if "backflush" in getattr(e, "meta", {})]
    out = io.StringIO()
    printer.print_entries(generated, file=out)
    # Entries caused by the standards file name it in full: keep the expected files portable.
    text = out.getvalue().replace(str(case) + os.sep, "")
    error_lines = "".join(
        f"{os.path.basename(e.source['filename'])}:{e.source['lineno']}: {e.message}\n"
        for e in errors
    )
    return text, error_lines


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    case = GOLDEN / name
    output, errors = render(case)
    expected_out, expected_err = case / "expected.beancount", case / "expected_errors.txt"
    if os.environ.get("BACKFLUSH_UPDATE_GOLDEN"):
        expected_out.write_text(output)
        expected_err.write_text(errors)
    assert output == expected_out.read_text()
    assert errors == expected_err.read_text()
