"""beancount_backflush: standard-cost backflush costing for Beancount.

    plugin "beancount_backflush" "standards.yaml"

See :mod:`beancount_backflush.plugin` for the entry point and README.md for the contract.
"""

from __future__ import annotations

from .plugin import backflush

__plugins__ = ("backflush",)
__all__ = ["backflush"]
