"""Fava's own Edit and Delete buttons on what the plugin generates (through Fava's API).

Fava edits and deletes "the source" of any entry whose filename is a real file. A generated
entry pointing at a directive edits that directive (fine); one pointing at the standards
file would let Delete remove a block of the YAML. Revaluations, scheduled closes and
accounts opened by auto_open are therefore `<backflush>` entries: Fava refuses them, and
the standards file never changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from beancount.core import data
from fava.application import create_app
from fava.beans.funcs import hash_entry
from standards_bike import bike_standards

LEDGER = """plugin "beancount_backflush" "standards.yaml"
2026-01-01 custom "fava-extension" "beancount_backflush.fava"

2026-01-05 custom "backflush" "purchase" 100 STEEL 250.00 USD
2026-01-05 custom "backflush" "purchase" 1000 BOLT 50.00 USD
2026-06-02 custom "backflush" "produce" 10 FRAME
2026-07-03 custom "backflush" "sell" 1 FRAME
"""


def test_fava_cannot_edit_or_delete_the_standards_file_through_generated_entries(tmp_path):
    standards = tmp_path / "standards.yaml"
    standards.write_text("auto_open: true\n" + bike_standards(schedule="monthly"))
    ledger = tmp_path / "ledger.beancount"
    ledger.write_text(LEDGER)
    before = standards.read_bytes()
    app = create_app([str(ledger)], load=True)
    slug = next(iter(app.config["LEDGERS"].ledgers_by_slug))
    client = app.test_client()
    entries = app.config["LEDGERS"][slug].all_entries
    caused = [
        e
        for e in entries
        if e.meta.get("backflush") in ("revalue", "close") or (
            isinstance(e, data.Open) and "backflush_source" in e.meta
        )
    ]
    assert {e.meta.get("backflush") for e in caused} >= {"revalue", "close", None}
    fake = hashlib.sha256(before).hexdigest()
    for entry in caused:
        assert entry.meta["filename"] == "<backflush>"
        entry_hash = hash_entry(entry)
        got = client.get(f"/{slug}/api/source_slice", query_string={"entry_hash": entry_hash})
        assert got.status_code != 200, entry
        deleted = client.delete(
            f"/{slug}/api/source_slice",
            query_string={"entry_hash": entry_hash, "sha256sum": fake},
        )
        assert deleted.status_code != 200, entry
        put = client.put(
            f"/{slug}/api/source_slice",
            json={"entry_hash": entry_hash, "source": "", "sha256sum": fake},
        )
        assert put.status_code != 200, entry
    assert standards.read_bytes() == before


def test_a_directives_generated_entry_opens_the_directive_itself(tmp_path):
    (tmp_path / "standards.yaml").write_text(bike_standards())
    ledger = tmp_path / "ledger.beancount"
    ledger.write_text(LEDGER)
    app = create_app([str(ledger)], load=True)
    slug = next(iter(app.config["LEDGERS"].ledgers_by_slug))
    entries = app.config["LEDGERS"][slug].all_entries
    produce = next(e for e in entries if e.meta.get("backflush") == "produce")
    got = app.test_client().get(
        f"/{slug}/api/source_slice", query_string={"entry_hash": hash_entry(produce)}
    )
    assert got.status_code == 200
    assert got.get_json()["data"]["slice"] == '2026-06-02 custom "backflush" "produce" 10 FRAME'
    assert Path(ledger).read_text() == LEDGER
