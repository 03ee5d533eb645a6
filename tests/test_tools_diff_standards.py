"""bean-backflush diff-standards: files and git revisions, revaluation and margin change.

Old standards (first commit): STEEL 2.00, labor 3.00 on FRAME: FRAME = 4.40 + 3.00 + 1.00
= 8.40. New (second commit): STEEL 2.50, labor 3.50: FRAME materials 2 x 2.50 + 4 x 0.10 =
5.40, labor 3.50, overhead 1.00, total 9.90 (+1.50).

On the workshop ledger at 2026-01-31: 78 STEEL x +0.50 = +39.00, 60 BOLT x 0 = 0,
4 FRAME x +1.50 = +6.00: revaluation +45.00 (the revaluation variance -45.00). Last period
(the January close): 6 FRAME sold, margin change -6 x 1.50 = -9.00.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from test_tools_common import EVENTS, EXAMPLE, run_cli, standards_text, write_workshop

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose books/standards.yaml has two commits (old, then new). The
    ledger's close asserts no total: the new standards change what it disposes."""
    root = tmp_path / "repo"
    write_workshop(root / "books", events=EVENTS.replace('"close" 19.00 USD', '"close"'))
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "old standards")
    (root / "books" / "standards.yaml").write_text(standards_text(steel="2.50", labor="3.50"))
    git(root, "commit", "-q", "-am", "new standards")
    return root


def test_git_revisions_by_element(repo, monkeypatch):
    monkeypatch.chdir(repo)
    status, out, err = run_cli(
        "diff-standards", "HEAD~1:books/standards.yaml", "HEAD:books/standards.yaml",
        "--date", "2026-01-31",
    )  # fmt: skip
    assert status == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert ["STEEL", "cost", "2.00", "2.50", "+0.50"] in rows
    assert ["FRAME", "materials", "4.40", "5.40", "+1.00"] in rows
    assert ["labor", "3.00", "3.50", "+0.50"] in rows
    assert ["overhead", "1.00", "1.00", "0.00"] in rows
    assert ["total", "8.40", "9.90", "+1.50"] in rows
    assert "1 item(s) unchanged" in out  # BOLT


def test_revaluation_and_margin_with_a_ledger(repo, monkeypatch):
    monkeypatch.chdir(repo / "books")
    status, out, err = run_cli(
        "diff-standards", "HEAD~1:standards.yaml", "standards.yaml",
        "--ledger", "ledger.beancount", "--format", "json",
    )  # fmt: skip
    assert status == 0, err
    report = json.loads(out)
    assert report["date"] == "2026-01-31"  # the ledger's last date
    revaluation = {r["item"]: (r["on_hand"], r["amount"]) for r in report["revaluation"]["items"]}
    assert revaluation == {
        "BOLT": ("60", "0.00"),
        "FRAME": ("4", "6.00"),
        "STEEL": ("78", "39.00"),
    }
    assert report["revaluation"]["total"] == "45.00"
    assert report["margin"]["items"] == [
        {"item": "FRAME", "units_sold": "6", "old": "8.40", "new": "9.90", "amount": "-9.00"}
    ]
    assert report["margin"]["total"] == "-9.00"
    status, text, _ = run_cli(
        "diff-standards", "HEAD~1:standards.yaml", "standards.yaml", "--ledger", "ledger.beancount"
    )
    assert "Revaluation of inventory: +45.00 USD" in text
    assert "Expenses:Variances:Revaluation: -45.00 USD" in text
    assert "Margin change: -9.00 USD per period at these volumes" in text
    assert "last period, 2026-01-02 to 2026-01-31, closed at ledger.beancount:" in text


def test_revaluation_matches_what_the_plugin_posts(tmp_path):
    """The same change made as an effective-dated revision in the standards file: the
    plugin's revaluation on 2026-02-01 is the figure diff-standards predicts."""
    events = (
        '2026-01-02 custom "backflush" "purchase" 100 STEEL 210.00 USD\n'
        '2026-01-02 custom "backflush" "purchase" 100 BOLT 10.00 USD\n'
        '2026-01-05 custom "backflush" "produce" 10 FRAME\n'
        '2026-01-10 custom "backflush" "sell" 6 FRAME 120.00 USD\n'
        '2026-02-02 custom "backflush" "sell" 1 FRAME 20.00 USD\n'
    )
    dated = standards_text(steel="{2026-01-01: 2.00, 2026-02-01: 2.50}")
    ledger = write_workshop(tmp_path / "dated", events=events, standards=dated)
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(standards_text())
    new.write_text(standards_text(steel="2.50"))
    status, out, _ = run_cli(
        "diff-standards", str(old), str(new), "--ledger", str(ledger),
        "--date", "2026-01-31", "--format", "json",
    )  # fmt: skip
    assert status == 0
    predicted = json.loads(out)["revaluation"]["total"]
    from beancount import loader

    entries, errors, _ = loader.load_file(str(ledger))
    assert not errors
    posted = sum(
        p.units.number
        for e in entries
        if getattr(e, "meta", {}).get("backflush") == "revalue"
        for p in e.postings
        if p.account == "Expenses:Variances:Revaluation"
    )
    # 80 STEEL x 0.50 = 40.00 and 4 FRAME x 1.00 = 4.00, against the variance
    assert predicted == "44.00" and posted == -44


def test_csv_rows(tmp_path):
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(standards_text())
    new.write_text(standards_text(labor="3.25"))
    status, out, _ = run_cli("diff-standards", str(old), str(new), "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    frame = {r["element"]: (r["old"], r["new"], r["change"]) for r in rows if r["item"] == "FRAME"}
    assert frame["labor"] == ("3.00", "3.25", "0.25")
    assert frame["total"] == ("8.40", "8.65", "0.25")


def test_example_standards_against_themselves_differ_nowhere():
    standards = str(EXAMPLE.parent / "standards.yaml")
    status, out, _ = run_cli("diff-standards", standards, standards, "--date", "2026-03-01")
    assert status == 0
    assert "No standard differs." in out


def test_outside_a_repository_and_unknown_revision_are_one_line(tmp_path, repo, monkeypatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "standards.yaml").write_text(standards_text())
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    status, out, err = run_cli("diff-standards", "HEAD:standards.yaml", "standards.yaml")
    assert status == 2 and out == ""
    assert err == (
        "bean-backflush diff-standards: HEAD:standards.yaml: . is not inside a git repository\n"
    )
    monkeypatch.chdir(repo)
    status, _, err = run_cli("diff-standards", "v9.9:books/standards.yaml", "books/standards.yaml")
    assert status == 2
    assert err == (
        "bean-backflush diff-standards: v9.9:books/standards.yaml: unknown git revision 'v9.9'\n"
    )
    status, _, err = run_cli("diff-standards", "HEAD:books/nothing.yaml", "books/standards.yaml")
    assert status == 2 and "books/nothing.yaml is not in revision HEAD" in err
    status, _, err = run_cli("diff-standards", "missing.yaml", "books/standards.yaml")
    assert status == 2 and "missing.yaml: no such standards file" in err


def test_a_revision_with_invalid_standards_is_located(repo, monkeypatch):
    monkeypatch.chdir(repo)
    (repo / "books" / "standards.yaml").write_text("currency: [USD\n")
    git(repo, "commit", "-q", "-am", "broken")
    status, _, err = run_cli(
        "diff-standards", "HEAD:books/standards.yaml", "HEAD~1:books/standards.yaml"
    )
    assert status == 2
    assert err.startswith("bean-backflush diff-standards: HEAD:books/standards.yaml:")
    assert len(err.splitlines()) == 1


def test_under_prorate_the_revaluation_goes_to_the_adjustment_accounts(tmp_path):
    """The example ledger prorates with purchase_price closed: raising RIM 16.00 -> 16.50 and
    BIKE's labor 40.00 -> 42.00 on 2026-05-01 revalues 20 RIM (+10.00, raw and in-process),
    8 BIKE (+3.00 each: +1.00 of rims, +2.00 of labor: +24.00) and 1 CARGO (+1.00 of rims),
    +35.00 in all. The plugin posts the material parts against the capitalised purchase
    price variance in the :Adjustment accounts (-10.00 RIP, -8.00 - 1.00 = -9.00 FG) and
    the labor part against the pool (-16.00 FG): -25.00 FG, -10.00 RIP, nothing to the
    revaluation variance; diff-standards predicts exactly that."""
    import shutil

    from beancount import loader

    root = Path(__file__).resolve().parent.parent / "example-ledger"
    books = tmp_path / "books"
    shutil.copytree(root, books)
    standards = (books / "standards.yaml").read_text()
    old = books / "old.yaml"
    old.write_text(standards)
    new = books / "new.yaml"
    new.write_text(
        standards.replace("RIM:   {cost: 16.00,", "RIM:   {cost: 16.50,").replace(
            "conversion: {labor: 40.00, overhead: 20.00}",
            "conversion: {labor: 42.00, overhead: 20.00}",
        )
    )
    dated = standards.replace(
        "RIM:   {cost: 16.00,", "RIM:   {cost: {2026-01-01: 16.00, 2026-05-01: 16.50},"
    ).replace(
        "conversion: {labor: 40.00, overhead: 20.00}",
        "conversion: {2026-01-01: {labor: 40.00, overhead: 20.00}, "
        "2026-05-01: {labor: 42.00, overhead: 20.00}}",
    )
    assert dated.count("2026-05-01") == 2
    (books / "standards.yaml").write_text(dated)
    ledger = books / "ledger.beancount"
    args = ("diff-standards", str(old), str(new), "--ledger", str(ledger), "--date", "2026-04-30")
    status, out, err = run_cli(*args)
    assert status == 0, err
    assert "Revaluation of inventory: +35.00 USD. Under disposition: prorate" in out
    assert "against Expenses:Variances:Revaluation" not in out
    rows = [line.split() for line in out.splitlines()]
    assert ["Assets:Inventory:FinishedGoods:Adjustment", "conversion:", "nets", "against",
            "the", "labor", "pool", "-16.00"] in rows  # fmt: skip
    rip = next(r for r in rows if r[:1] == ["Assets:Inventory:RawInProcess:Adjustment"])
    assert rip[-1] == "-10.00"
    status, out, err = run_cli(*args, "--format", "json")
    predicted = {
        (p["account"], p["element"]): p["amount"]
        for p in json.loads(out)["revaluation"]["postings"]
    }
    assert predicted == {
        ("Assets:Inventory:FinishedGoods:Adjustment", "labor"): "-16.00",
        ("Assets:Inventory:FinishedGoods:Adjustment", "materials"): "-9.00",
        ("Assets:Inventory:RawInProcess:Adjustment", "materials"): "-10.00",
    }
    entries, errors, _ = loader.load_file(str(ledger))
    assert not errors, [e.message for e in errors]
    posted: dict[str, object] = {}
    for entry in entries:
        revalue = getattr(entry, "meta", {}).get("backflush") == "revalue"
        if revalue and str(entry.date) == "2026-05-01":
            for p in entry.postings:
                if p.cost is None:
                    posted[p.account] = posted.get(p.account, 0) + p.units.number
    assert posted == {
        "Assets:Inventory:FinishedGoods:Adjustment": -25,
        "Assets:Inventory:RawInProcess:Adjustment": -10,
    }
