"""Error types, in Beancount's convention: namedtuples of (source, message, entry).

``source`` is a metadata dict with ``filename`` and ``lineno``: the directive's, or the
standards file's own line for a problem in the standards file, so that bean-check prints
``file:line: message`` and Fava links the error to its place.
"""

from __future__ import annotations

import difflib
from collections import namedtuple
from collections.abc import Iterable
from typing import Any

StandardsError = namedtuple("StandardsError", "source message entry")
BackflushError = namedtuple("BackflushError", "source message entry")
# Not an accounting error but a condition the accountant must see (GAAP drift). Beancount has
# no warning level: it is reported like an error, and `warn_uninventoried` sets its threshold.
BackflushWarning = namedtuple("BackflushWarning", "source message entry")


def source(filename: str, lineno: int) -> dict[str, Any]:
    """Return a Beancount metadata dict pointing at a file and (1-based) line."""
    return {"filename": filename, "lineno": lineno}


def did_you_mean(value: object, choices: Iterable[str], otherwise: str) -> str:
    """'; did you mean X?' for a near miss among ``choices``, else ``otherwise``."""
    hint = difflib.get_close_matches(str(value), list(choices), n=1)
    return f"; did you mean {hint[0]!r}?" if hint else otherwise


def describe_fault(exc: BaseException, limit: int = 160) -> str:
    """'Type: message' of an unexpected exception, cut short for an error line."""
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
