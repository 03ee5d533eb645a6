"""bean-backflush compare-policies: the ledger under 3 trigger variants x 2 dispositions."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

from beancount import loader
from beancount.core import data
from test_tools_common import EXAMPLE, line_of, run_cli, write_workshop

from beancount_backflush import policies, toolbox

D = Decimal


def _by_policy(report: policies.Comparison, month: str) -> dict[str, policies.Month]:
    return {r.policy.label: r.months[month] for r in report.results}


def test_hand_computed_figures_under_each_trigger_variant(tmp_path):
    """See test_tools_common: [purchase, completion, sale] / cogs is the ledger's policy.

    [purchase, sale] / cogs: nothing posted at completion; the sale of 6 FRAME relieves RIP
    by 12 STEEL and 24 BOLT and allocates labor 18.00, overhead 6.00. The count finds 78 kg
    of the 88 the books hold (8 kg sit in the 4 unsold frames): usage 20.00. The close:
    labor 15.00 + overhead 6.00 + PPV 10.00 + usage 20.00 = 51.00. RIP 78 STEEL + 76 BOLT =
    163.60; COGS 50.40 + 51.00 = 101.40; uninventoried: the conversion of the 4 completed
    unsold frames, 4 x 4.00 = 16.00.

    [completion, sale] / cogs: purchases at actual into clearing (220.00); completion relieves
    it by 44.00 at standard; the count of a material is rejected. FG 33.60. Conversion: labor
    3.00 + overhead 2.00 under-allocated, to COGS. What stays in clearing (bought, not yet
    used) is what is left uninventoried; the price variance on the materials used may be
    moved from clearing to COGS by the close, so clearing + COGS = 176.00 + 55.40 = 231.40.
    """
    ledger = write_workshop(tmp_path)
    report = policies.compare_policies(str(ledger))
    assert report.base == policies.Policy("purchase-completion-sale", "cogs")
    assert report.months == ["2026-01"]
    jan = _by_policy(report, "2026-01")
    pcs, ps, cs = jan["P-C-S cogs"], jan["P-S cogs"], jan["C-S cogs"]
    assert (pcs.inventory, pcs.cogs, pcs.variances, pcs.clearing) == (D("195.60"), D("69.40"), 0, 0)
    assert pcs.uninventoried is None
    assert (ps.inventory, ps.cogs, ps.variances, ps.uninventoried) == (
        D("163.60"),
        D("101.40"),
        0,
        D("16.00"),
    )
    assert cs.inventory == D("33.60")
    assert cs.clearing + cs.cogs == D("231.40") and cs.cogs >= D("55.40")
    assert cs.uninventoried == cs.clearing
    results = {r.policy.label: r for r in report.results}
    assert report.delta(results["P-S cogs"], "2026-01", "inventory") == D("-32.00")
    assert report.delta(results["C-S cogs"], "2026-01", "inventory") == D("-162.00")
    # The count of a material cannot be posted under [completion, sale]: counted, not fatal.
    count_line = line_of(ledger, '"count" 78 STEEL')
    for label in ("C-S cogs", "C-S prorate"):
        rejected = [p for p in results[label].problems if p.kind == "event"]
        assert [p.source for p in rejected] == [f"ledger.beancount:{count_line}"]
        assert "not possible with triggers [completion, sale]" in rejected[0].message
    for label in ("P-C-S cogs", "P-C-S prorate", "P-S cogs", "P-S prorate"):
        assert results[label].count("event") == 0
    # the close's asserted total (19.00) holds for the ledger's own policy only; it is not
    # checked under the others, and the ledger's own policy has no error at all
    assert results["P-C-S cogs"].problems == []


def test_costs_are_only_moved_never_created(tmp_path):
    """inventory + COGS + variances + clearing = 265.00 (what was bought and incurred)
    under all six policies."""
    report = policies.compare_policies(str(write_workshop(tmp_path)))
    assert len(report.results) == 6
    for result in report.results:
        m = result.months["2026-01"]
        assert m.inventory + m.cogs + m.variances + m.clearing == D("265.00"), result.policy
    prorate = _by_policy(report, "2026-01")["P-C-S prorate"]
    assert prorate.inventory > D("195.60")  # part of the variances capitalised


def test_base_policy_is_the_ledger_as_beancount_loads_it():
    entries, errors, _ = loader.load_file(str(EXAMPLE))
    assert not errors
    loaded = toolbox.load(str(EXAMPLE))
    assert not loaded.errors

    def balances(entries: list[data.Directive]) -> dict[tuple[str, str], Decimal]:
        result: dict[tuple[str, str], Decimal] = {}
        for entry in entries:
            if isinstance(entry, data.Transaction):
                for p in entry.postings:
                    key = (p.account, p.units.currency)
                    result[key] = result.get(key, D(0)) + p.units.number
        return {k: v for k, v in result.items() if v}

    assert balances(loaded.entries) == balances(entries)


def test_example_ledger_side_by_side():
    status, out, err = run_cli("compare-policies", str(EXAMPLE))
    assert status == 0, err
    assert "(*) is the ledger's own: [purchase, completion, sale], disposition prorate." in out
    for month in ("2026-01", "2026-02", "2026-03", "2026-04"):
        assert month in out
    report = policies.compare_policies(str(EXAMPLE))
    results = {r.policy.label: r for r in report.results}
    # events that cannot be posted under another policy are counted per policy
    assert results["P-S cogs"].count("event") == 1  # scrap of a FRAME (a product)
    assert results["C-S cogs"].count("event") == 2  # scrap of RIM, count of SPOKE
    assert results["P-C-S prorate"].problems == []
    # the same total cost under every policy, month after month
    totals = set()
    for result in report.results:
        cumulative = D(0)
        for month in report.months:
            m = result.months[month]
            cumulative += m.cogs + m.variances
        totals.add(cumulative + m.inventory + m.clearing)
    assert len(totals) == 1
    # the ledger's own figures: January's COGS after the close (example-ledger/README.md)
    assert results["P-C-S prorate"].months["2026-01"].cogs == D("13755.34")


def test_csv_and_json(tmp_path):
    ledger = write_workshop(tmp_path)
    status, out, _ = run_cli("compare-policies", str(ledger), "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 6
    base = [r for r in rows if r["ledger_policy"] == "yes"]
    assert [(r["triggers"], r["disposition"], r["inventory"], r["cogs"]) for r in base] == [
        ("purchase-completion-sale", "cogs", "195.60", "69.40")
    ]
    ps = next(r for r in rows if r["triggers"] == "purchase-sale" and r["disposition"] == "cogs")
    assert (ps["d_inventory"], ps["d_cogs"], ps["uninventoried"]) == ("-32.00", "32.00", "16.00")
    status, out, _ = run_cli("compare-policies", str(ledger), "--format", "json")
    document = json.loads(out)
    assert document["ledger_policy"] == {
        "triggers": "purchase-completion-sale",
        "disposition": "cogs",
    }
    cs = next(
        p
        for p in document["policies"]
        if p["triggers"] == "completion-sale" and p["disposition"] == "cogs"
    )
    assert cs["months"][0]["clearing"] == cs["months"][0]["uninventoried"]
    assert cs["months"][0]["inventory"] == "33.60"
    assert [e["kind"] for e in cs["errors"]].count("event") == 1


def test_not_a_backflush_ledger_is_one_line(tmp_path):
    path = tmp_path / "plain.beancount"
    path.write_text("2026-01-01 open Assets:Bank\n")
    status, out, err = run_cli("compare-policies", str(path))
    assert status == 2 and out == ""
    assert err.startswith("bean-backflush compare-policies: ") and len(err.splitlines()) == 1
