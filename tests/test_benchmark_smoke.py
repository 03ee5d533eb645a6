"""The benchmark keeps working: a tiny run of each of its modes, no timing assertion (figures
are in its README)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_run_loads_compact_and_expanded_alike():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "whole load compact / expanded" in run.stdout
    assert "garbage collection, whole load" in run.stdout
    assert "page weight" in run.stdout  # the Fava pages were served
    assert "Revisions:" in run.stdout
    assert "FUNCTIONAL FAILURE" not in run.stdout


def test_generated_ledger_is_valid_for_the_plugin(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from beancount import loader
    from generate import generate

    ledger, standards = generate(1500, width=4, depth=3, revisions=2, seed=11)
    (tmp_path / "standards.yaml").write_text(standards)
    (tmp_path / "ledger.beancount").write_text(ledger)
    entries, errors, _ = loader.load_file(str(tmp_path / "ledger.beancount"))
    assert errors == []
    events = {e.meta["backflush"] for e in entries if "backflush" in getattr(e, "meta", {})}
    assert {"purchase", "produce", "sell", "count", "close", "revalue"} <= events


def test_loaded_ledger_is_frozen_for_the_collector_and_released_by_the_next_load(tmp_path):
    """The plugin freezes the ledger after its pass (later collections skip it) and unfreezes
    first on the next pass: reloading does not pile up frozen objects, and the collector is
    left as it was found."""
    import gc

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from beancount import loader
    from generate import generate

    ledger, standards = generate(600)
    (tmp_path / "standards.yaml").write_text(standards)
    (tmp_path / "ledger.beancount").write_text(ledger)
    frozen = []
    for _ in range(3):
        entries, errors, _ = loader.load_file(str(tmp_path / "ledger.beancount"))
        assert errors == []
        del entries
        frozen.append(gc.get_freeze_count())
        assert gc.isenabled()
    assert frozen[0] > 0
    assert frozen[2] <= frozen[1] * 1.05  # the earlier loads' ledgers were released
    gc.unfreeze()
