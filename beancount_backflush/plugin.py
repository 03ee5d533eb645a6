"""Backflush costing: expand `custom "backflush"` directives into standard-cost postings.

    plugin "beancount_backflush" "standards.yaml"

The config string is the standards file, relative to the ledger that holds the plugin line.
With the SPEC's standards (FRAME = 2 kg STEEL + 8 BOLT, labor 3.00, overhead 1.50):

    2026-01-05 custom "backflush" "purchase" 100 STEEL 260.00 USD
    2026-01-06 custom "backflush" "produce" 10 FRAME

becomes

    2026-01-05 * "Backflush purchase 100 STEEL" #backflush ^bf-ledger-12
      Assets:Inventory:RawInProcess     100 STEEL {2.50 USD, 2026-01-01}
      Expenses:Variances:PurchasePrice  10.00 USD
      Liabilities:AccountsPayable      -260.00 USD

    2026-01-06 * "Backflush produce 10 FRAME" #backflush ^bf-ledger-13
      Assets:Inventory:FinishedGoods           10 FRAME {9.90 USD, 2026-01-01}
      Assets:Inventory:RawInProcess           -20 STEEL {2.50 USD, 2026-01-01}
      Assets:Inventory:RawInProcess           -80 BOLT {0.05 USD, 2026-01-01}
      Expenses:Conversion:Labor:Allocated    -30.00 USD
      Expenses:Conversion:Overhead:Allocated -15.00 USD

Errors are located at the directive, or at the standards file's line; nothing is raised.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Mapping
from typing import Any

from beancount.core import data

from . import engine
from .errors import BackflushError, StandardsError, describe_fault, source
from .standards import Standards, check_account_roots, load_standards

__plugins__ = ("backflush",)

DEFAULT_STANDARDS = "standards.yaml"


def standards_path(options_map: Mapping[str, Any], config: str | None) -> str:
    """The standards file, resolved relative to the top-level ledger file."""
    name = (config or DEFAULT_STANDARDS).strip() or DEFAULT_STANDARDS
    ledger = options_map.get("filename") or ""
    base = (
        os.path.dirname(os.path.abspath(ledger))
        if ledger and not ledger.startswith("<")
        else os.getcwd()
    )
    return os.path.normpath(os.path.join(base, os.path.expanduser(name)))


def backflush(
    entries: list[data.Directive], options_map: dict[str, Any], config: str | None = None
) -> tuple[list[data.Directive], list[Any]]:
    """The plugin entry point. Never raises: problems are returned as located errors."""
    try:
        return _backflush(entries, options_map, config)
    except Exception as exc:  # noqa: BLE001 - the fault barrier: never lose the ledger
        where = next(
            (e.meta for e in entries if isinstance(e, data.Custom) and e.type == "backflush"),
            None,
        )
        if where is None:
            # No directive to point at: the standards file (never Beancount's <load>:0).
            try:
                where = source(standards_path(options_map, config), 1)
            except Exception:  # noqa: BLE001
                where = source(str(options_map.get("filename") or "<backflush>"), 1)
        return entries, [
            BackflushError(
                where,
                f"backflush plugin failed and posted nothing ({describe_fault(exc)}); "
                "the ledger is shown without backflush postings. Please report this with your "
                "standards file.",
                None,
            )
        ]


def _backflush(
    entries: list[data.Directive], options_map: dict[str, Any], config: str | None
) -> tuple[list[data.Directive], list[Any]]:
    path = standards_path(options_map, config)
    includes = options_map.get("include")
    if isinstance(includes, list) and path not in includes:
        # bean-check's cache and Fava's auto-reload then notice edits to the standards.
        includes.append(path)
    standards, errors = load_standards(path)
    if standards is not None:
        # Accounts under a root the ledger does not have: Beancount would reject them.
        roots = check_account_roots(standards, options_map)
        if roots:
            standards, errors = None, [*errors, *roots]
    if standards is None:
        if not errors:
            errors = [StandardsError(source(path, 1), "the standards file is unusable", None)]
        return _without_directives(entries, errors)
    new_entries, engine_errors = apply_standards(entries, options_map, standards)
    return new_entries, list(errors) + engine_errors


def apply_standards(
    entries: list[data.Directive], options_map: dict[str, Any], standards: Standards
) -> tuple[list[data.Directive], list[Any]]:
    """Expand the directives of ``entries`` (as the loader hands them to plugins) under
    ``standards``; the seam for tools that rerun a ledger under other standards."""
    if entries:
        standards.base_date = entries[0].date
    with _collector_paused():
        return engine.run(standards, entries)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector, kept off the loaded ledger.

    The pass allocates hundreds of thousands of small acyclic objects; with the collector on,
    a collection every few hundred of them would scan the growing ledger. Once the pass is
    done, the ledger (parsed and generated entries alike) is long-lived: frozen, it is never
    scanned again by the collections that Beancount's validation and Fava's requests trigger,
    and the collection deferred by the pass does not happen. Frozen objects are still freed
    by reference counting when the ledger is dropped; the next pass unfreezes first, so a
    reload leaves no more than what one load froze outside the collector's reach.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _without_directives(
    entries: list[data.Directive], errors: list[Any]
) -> tuple[list[data.Directive], list[Any]]:
    """Standards unusable: the ledger's other entries as they are; directives not posted."""
    kept = [e for e in entries if not (isinstance(e, data.Custom) and e.type == "backflush")]
    skipped = len(entries) - len(kept)
    if skipped:
        first = next(e for e in entries if isinstance(e, data.Custom) and e.type == "backflush")
        errors = [
            *errors,
            BackflushError(
                first.meta,
                f"{skipped} backflush directive(s) not posted: the standards file "
                "has errors (see above)",
                first,
            ),
        ]
    return kept, errors


def standards_for(options_map: Mapping[str, Any]) -> Standards | None:
    """The standards of a loaded ledger (from its plugin line), for reports and the CLI."""
    for name, config in options_map.get("plugin", ()):
        if name == "beancount_backflush" or name.startswith("beancount_backflush."):
            standards, _ = load_standards(standards_path(options_map, config))
            return standards
    return None
