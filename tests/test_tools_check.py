"""bean-backflush check: bean-check plus health thresholds, and the CI / pre-commit recipes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_tools_common import EVENTS, EXAMPLE, line_of, run_cli, write_workshop

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOOK = ROOT / "docs" / "recipes" / "pre-commit"
WORKFLOW = ROOT / "docs" / "recipes" / "ledger-check.yml"
OVERSOLD = EVENTS.replace('"sell" 6 FRAME', '"sell" 60 FRAME')


def test_a_good_ledger_passes_silently(tmp_path):
    assert run_cli("check", str(write_workshop(tmp_path))) == (0, "", "")
    assert run_cli("check", str(EXAMPLE), "--max-uninventoried", "0.05") == (0, "", "")


def test_errors_print_as_bean_check_prints_them(tmp_path):
    ledger = write_workshop(tmp_path, events=OVERSOLD)
    status, out, err = run_cli("check", str(ledger))
    assert status == 1 and out == ""
    bean_check = subprocess.run(
        [str(BIN / "bean-check"), "-C", str(ledger)],
        capture_output=True,
        text=True,
        env={**os.environ, "BEANCOUNT_DISABLE_LOAD_CACHE": "1"},
    )
    assert bean_check.returncode == 1 and bean_check.stderr
    assert (
        err
        == bean_check.stderr + "ledger.beancount: 1 Beancount error(s), 0 threshold failure(s)\n"
    )
    assert f"{ledger}:{line_of(ledger, 'sell')}: " in err


def test_uninventoried_threshold_at_each_close(tmp_path):
    """[purchase, sale]: the close leaves the conversion of 4 completed, unsold frames
    uninventoried, 4 x 4.00 = 16.00, against a period COGS at standard of 6 x 8.40 = 50.40:
    31.7%. (warn_uninventoried is set high so that the plugin itself does not warn.)"""
    events = EVENTS.replace('"close" 19.00 USD', '"close"')
    ledger = write_workshop(tmp_path, events=events, triggers="[purchase, sale]", warn="0.9")
    assert run_cli("check", str(ledger), "--max-uninventoried", "0.35") == (0, "", "")
    status, out, err = run_cli("check", str(ledger), "--max-uninventoried", "30%")
    assert status == 1 and out == ""
    close = line_of(ledger, '"close"')
    assert err.splitlines()[0] == (
        f"{ledger}:{close}: 16.00 left uninventoried at the close of 2026-01-31, 31.7% of the "
        "period's COGS (50.40): above --max-uninventoried 30%"
    )
    assert err.splitlines()[-1] == "ledger.beancount: 0 Beancount error(s), 1 threshold failure(s)"


def test_days_since_count(tmp_path):
    """Last date 2026-01-31. STEEL counted that day; BOLT never, in stock since 2026-01-02
    (29 days); FRAME never, since 2026-01-05 (26 days)."""
    ledger = write_workshop(tmp_path)
    assert run_cli("check", str(ledger), "--max-days-since-count", "29")[0] == 0
    status, out, err = run_cli(
        "check", str(ledger), "--max-days-since-count", "28", "--format", "json"
    )
    assert status == 1 and err == ""
    report = json.loads(out)
    assert report["ok"] is False and report["errors"] == []
    assert report["items_checked"] == 3
    assert [(f["check"], f["lineno"]) for f in report["failures"]] == [
        ("count", line_of(ledger, '"purchase" 100 BOLT'))
    ]
    assert report["failures"][0]["message"].startswith(
        "BOLT never counted, in stock since 2026-01-02 (29 days before the ledger's last date "
        "2026-01-31"
    )
    # an old count fails at the count's line
    late = EVENTS + '2026-03-15 custom "backflush" "sell" 1 FRAME 20.00 USD\n'
    ledger = write_workshop(tmp_path / "later", events=late)
    status, _, err = run_cli("check", str(ledger), "--max-days-since-count", "30")
    assert status == 1
    count = line_of(ledger, '"count" 78 STEEL')
    assert (
        f"{ledger}:{count}: STEEL last counted on 2026-01-31, "
        "43 days before the ledger's last date 2026-03-15" in err
    )


def test_example_counts_are_overdue_after_ninety_days():
    status, _, err = run_cli("check", str(EXAMPLE), "--max-days-since-count", "90")
    assert status == 1
    assert "SPOKE" not in err  # counted on 2026-03-31
    assert "STEEL never counted, in stock since 2026-01-05 (116 days" in err


def test_bad_threshold_values(tmp_path):
    ledger = str(write_workshop(tmp_path))
    status, _, err = run_cli("check", ledger, "--max-uninventoried", "lots")
    assert status == 2 and "expects a share like 0.05 or 5%" in err
    with pytest.raises(SystemExit) as exit_:
        run_cli("check", ledger, "--max-days-since-count", "-3")
    assert exit_.value.code == 2
    assert run_cli("check", str(tmp_path / "missing.beancount"))[0] == 2


# -- the recipes -------------------------------------------------------------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "BEANCOUNT_DISABLE_LOAD_CACHE": "1",
}


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )


def test_pre_commit_hook_refuses_a_broken_ledger_and_accepts_a_good_one(tmp_path):
    repo = tmp_path / "books"
    write_workshop(repo)
    assert git(repo, "init", "-q").returncode == 0
    hook = repo / ".git" / "hooks" / "pre-commit"
    shutil.copy(HOOK, hook)
    hook.chmod(0o755)
    git(repo, "config", "backflush.command", str(BIN / "bean-backflush"))

    git(repo, "add", ".")
    good = git(repo, "commit", "-q", "-m", "January")
    assert good.returncode == 0, good.stderr
    head = git(repo, "rev-parse", "HEAD").stdout

    ledger = repo / "ledger.beancount"
    ledger.write_text(ledger.read_text().replace('"sell" 6 FRAME', '"sell" 60 FRAME'))
    git(repo, "add", "ledger.beancount")
    broken = git(repo, "commit", "-q", "-m", "oversold")
    assert broken.returncode != 0
    assert "commit refused" in broken.stderr
    # located in the repository's own terms, not in the hook's temporary copy
    sell = line_of(ledger, '"sell" 60 FRAME')
    assert f"\nledger.beancount:{sell}: " in "\n" + broken.stderr
    assert "bean-backflush-pre-commit" not in broken.stderr
    assert git(repo, "rev-parse", "HEAD").stdout == head

    # What is checked is what is staged: fixing the working tree alone does not help ...
    ledger.write_text(ledger.read_text().replace('"sell" 60 FRAME', '"sell" 6 FRAME'))
    assert git(repo, "commit", "-q", "-m", "still staged broken").returncode != 0
    # ... staging the fix does.
    git(repo, "add", "ledger.beancount")
    (repo / "notes.txt").write_text("ok\n")
    git(repo, "add", "notes.txt")
    fixed = git(repo, "commit", "-q", "-m", "fixed")
    assert fixed.returncode == 0, fixed.stderr

    # thresholds from git config: BOLT was never counted in 29 days
    git(repo, "config", "backflush.checkArgs", "--max-days-since-count 20")
    ledger.write_text(ledger.read_text() + "\n; a comment\n")
    git(repo, "add", "ledger.beancount")
    overdue = git(repo, "commit", "-q", "-m", "comment")
    assert overdue.returncode != 0 and "BOLT never counted" in overdue.stderr


def test_pre_commit_hook_ignores_commits_without_ledger_files(tmp_path):
    repo = tmp_path / "r"
    write_workshop(repo, events=OVERSOLD)
    git(repo, "init", "-q")
    git(repo, "config", "backflush.command", str(BIN / "bean-backflush"))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "before the hook")
    shutil.copy(HOOK, repo / ".git" / "hooks" / "pre-commit")
    (repo / ".git" / "hooks" / "pre-commit").chmod(0o755)
    (repo / "README").write_text("hello\n")
    git(repo, "add", "README")
    assert git(repo, "commit", "-q", "-m", "docs only").returncode == 0


def test_ci_workflow_runs_check():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["check"]["steps"]
    commands = " ".join(step.get("run", "") for step in steps)
    assert "bean-backflush check ledger.beancount" in commands
    assert "--max-uninventoried" in commands and "--max-days-since-count" in commands
    assert any(step.get("uses", "").startswith("actions/checkout") for step in steps)
    # PyYAML reads the bare key `on` as True
    assert set(workflow.get(True, workflow.get("on"))) == {"push", "pull_request"}
