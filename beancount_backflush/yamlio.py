"""Safe YAML loading for the standards file.

PyYAML's ``safe_load`` is unfit for money and item codes: ``2.50`` becomes a float, ``0123``
an octal integer, and keys such as ``NO``, ``ON`` or ``OFF`` booleans. This loader keeps
every number as a ``Decimal`` (read from its text, never through a float), reads integers in
base 10, accepts only ``true``/``false`` as booleans, executes no tags, and keeps the
1-based line number of every mapping key and value so that errors point at the file's line.

It is also safe against hostile text: it builds the tree itself from the parser's event
stream (libyaml's C parser when PyYAML has it, else PyYAML's pure-Python parser), without
recursion, so that

- nesting deeper than :data:`MAX_NESTING` levels, or more than :data:`MAX_VALUES` values,
  is refused at the line where it happens;
- an alias is the anchored value itself (shared, never copied), a recursive alias
  (``x: &a [*a]``) is refused, and aliases may stand for at most :data:`ALIAS_BUDGET` values
  in all (a "billion laughs" is refused at the alias that goes over, in bounded time and
  memory);
- an impossible date (``2026-02-30``, ``0000-01-01``), a number with an absurd text or a
  character YAML does not allow is a :class:`YamlProblem` at its line, never an exception
  from deep inside the parser.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

try:  # libyaml's parser: the same events, several times faster
    from yaml import cyaml

    _CParser: Any = cyaml.CParser  # type: ignore[attr-defined]
except (ImportError, AttributeError):  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

# A standards file nests five or six levels (products > BIKE > bom > date > item).
MAX_NESTING = 50
# Values that aliases may stand for in all (each *alias counts the values of its anchor).
ALIAS_BUDGET = 10_000
# Values (scalars, mappings, lists) in the file: a standards file holds a few thousand.
MAX_VALUES = 200_000
# The longest text read as a number (a cost with 12 decimals has about 25 characters).
MAX_NUMBER_TEXT = 100


class YamlProblem(Exception):
    """A problem in the YAML text, at a 1-based line."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


class Map(dict):  # type: ignore[type-arg]
    """A YAML mapping: a dict that remembers its own line and each key's line.

    ``key_texts`` holds each scalar key as written (``NULL``, ``~``, ``FALSE``), for
    messages about keys that YAML reads as something else than text.
    """

    line: int
    key_lines: dict[Any, int]
    key_texts: dict[Any, str]

    def text_of(self, key: Any) -> str:
        """The key as written in the file (its value's ``str`` if unknown)."""
        texts = getattr(self, "key_texts", None)
        if texts and key in texts:
            return texts[key]
        return str(key)


class Seq(list):  # type: ignore[type-arg]
    """A YAML sequence that remembers its line and each element's line."""

    line: int
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like scalars: Decimal numbers, strict booleans."""


# Rebuild the implicit resolvers: drop YAML 1.1's yes/no/on/off booleans and its octal,
# sexagesimal and float forms; numbers are resolved by our own patterns below.
_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_NUMBER = re.compile(r"^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _NUMBER, list("-+0123456789."))

_TAG = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT = (_TAG + n for n in ("str", "null", "bool", "int", "float"))
TIMESTAMP, MERGE, MAP, SEQ = (_TAG + n for n in ("timestamp", "merge", "map", "seq"))
_PLAIN_TAGS = frozenset((MAP, SEQ, STR, INT, FLOAT, BOOL, NULL, TIMESTAMP, MERGE))
_TIMESTAMP = SafeConstructor.timestamp_regexp
# Characters YAML does not allow in a stream (the reader's own set).
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


_WILDCARD = list(_Loader.yaml_implicit_resolvers.get(None, []))
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: [*resolvers, *_WILDCARD]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()
    if first is not None
}


def _resolve_scalar(value: str, implicit: tuple[bool, bool]) -> str:
    """The tag of an untagged scalar, by our resolvers (PyYAML's BaseResolver.resolve)."""
    if implicit[0]:
        for tag, regexp in _RESOLVERS.get(value[:1], _WILDCARD):
            if regexp.match(value):
                return str(tag)
    return STR


def _number(text: str, line: int) -> Decimal:
    if len(text) > MAX_NUMBER_TEXT:
        raise YamlProblem(
            f"a number written with {len(text)} characters is too long (at most {MAX_NUMBER_TEXT})",
            line,
        )
    clean = text.replace("_", "")
    try:
        value = Decimal(clean)
    except InvalidOperation:
        raise YamlProblem(f"{text!r} is not a number", line) from None
    if not value.is_finite():
        raise YamlProblem(f"{text!r} is not a finite number", line)
    return value


def _date(text: str, line: int) -> datetime.date:
    match = _TIMESTAMP.match(text)
    if match is None:
        raise YamlProblem(f"{_short(text)!r} is not a date (YYYY-MM-DD)", line)
    if match.group("hour") is not None:
        raise YamlProblem(f"expects a date, not a date and time: {_short(text)!r}", line)
    try:
        return datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise YamlProblem(
            f"{text!r} is not a valid date (no such day; years run from 0001)", line
        ) from None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scalar(tag: str, text: str, line: int) -> Any:
    if tag == STR or tag == MERGE:  # `<<` anywhere but as a key is just text
        return text
    if tag == NULL:
        return None
    if tag == BOOL:
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise YamlProblem(f"{_short(text)!r} is not a boolean (write true or false)", line)
    if tag in (INT, FLOAT):
        return _number(text, line)
    if tag == TIMESTAMP:
        return _date(text, line)
    raise YamlProblem(f"unsupported YAML tag {tag!r} (tags are not executed)", line)


_NO_KEY = object()
_MERGE_KEY = object()


class _Frame:
    """A mapping or sequence being built: its container, weight and pending key."""

    __slots__ = ("container", "anchor", "line", "weight", "key", "key_line", "merges")

    def __init__(self, container: Map | Seq, anchor: str | None, line: int):
        self.container = container
        self.anchor = anchor
        self.line = line
        self.weight = 1  # values in its full expansion, itself included
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.merges: list[tuple[Any, int]] = []


def _merge(frame: _Frame) -> None:
    """Apply `<<` merge keys: explicit keys win; among merged mappings, the first wins."""
    result = frame.container
    assert isinstance(result, Map)
    for value, line in frame.merges:
        sources = value if isinstance(value, Seq) else [value]
        for source in sources:
            if not isinstance(source, Map):
                raise YamlProblem("a merge key (<<) expects a mapping or a list of mappings", line)
            for key, item in source.items():
                if key not in result:
                    result[key] = item
                    result.key_lines[key] = source.key_lines.get(key, line)
                    result.key_texts[key] = source.text_of(key)


class _Builder:
    """Builds Map/Seq/scalars from parser events with an explicit stack (no recursion)."""

    def __init__(self, parser: Any):
        self.parser = parser
        self.anchors: dict[str, tuple[Any, int, str | None]] = {}
        self.open: set[str] = set()
        self.aliased = 0
        self.values = 0

    def document(self) -> Any:
        parser = self.parser
        parser.get_event()  # StreamStart
        event = parser.get_event()
        if isinstance(event, yaml.StreamEndEvent):
            return None
        root = self._node()
        parser.get_event()  # DocumentEnd
        event = parser.get_event()
        if not isinstance(event, yaml.StreamEndEvent):
            raise YamlProblem(
                "invalid YAML: expected a single document (remove the second '---')",
                event.start_mark.line + 1,
            )
        return root

    def _anchor(self, name: str | None, line: int) -> None:
        if name is not None and (name in self.anchors or name in self.open):
            raise YamlProblem(f"the anchor &{name} is defined twice", line)

    def _node(self) -> Any:  # noqa: C901 - one loop over the event kinds
        stack: list[_Frame] = []
        get_event = self.parser.get_event
        ScalarEvent, MappingEndEvent, SequenceEndEvent = (  # noqa: N806 - local aliases
            yaml.ScalarEvent,
            yaml.MappingEndEvent,
            yaml.SequenceEndEvent,
        )
        while True:
            event = get_event()
            line = event.start_mark.line + 1
            kind = type(event)
            if kind is not MappingEndEvent and kind is not SequenceEndEvent:
                self.values += 1
                if self.values > MAX_VALUES:
                    raise YamlProblem(
                        f"the file holds more than {MAX_VALUES:,} values "
                        "(a standards file holds a few thousand)",
                        line,
                    )
            text: str | None = None
            is_merge = False
            if kind is ScalarEvent:
                self._anchor(event.anchor, line)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = _resolve_scalar(event.value, event.implicit)
                value = _scalar(tag, event.value, line)
                weight = 1
                text = event.value
                is_merge = tag == MERGE
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, text)
            elif isinstance(event, yaml.AliasEvent):
                name = event.anchor
                if name in self.open:
                    raise YamlProblem(
                        f"the alias *{name} refers to the value that contains it "
                        "(a recursive alias)",
                        line,
                    )
                if name not in self.anchors:
                    raise YamlProblem(f"the alias *{name} has no anchor &{name} before it", line)
                value, weight, text = self.anchors[name]
                self.aliased += weight
                if self.aliased > ALIAS_BUDGET:
                    raise YamlProblem(
                        f"aliases (*name) stand for more than {ALIAS_BUDGET:,} values in all; "
                        "write the values out",
                        line,
                    )
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self._anchor(event.anchor, line)
                mapping = isinstance(event, yaml.MappingStartEvent)
                expected = MAP if mapping else SEQ
                if event.tag not in (None, "!", expected):
                    raise YamlProblem(
                        f"unsupported YAML tag {event.tag!r} (tags are not executed)", line
                    )
                if len(stack) >= MAX_NESTING:
                    raise YamlProblem(
                        f"values are nested more than {MAX_NESTING} levels deep", line
                    )
                container: Map | Seq
                if mapping:
                    container = Map()
                    container.key_lines, container.key_texts = {}, {}
                else:
                    container = Seq()
                    container.item_lines = []
                container.line = line
                if event.anchor is not None:
                    self.open.add(event.anchor)
                stack.append(_Frame(container, event.anchor, line))
                continue
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.merges:
                    _merge(frame)
                value, weight, line = frame.container, frame.weight, frame.line
                if frame.anchor is not None:
                    self.open.discard(frame.anchor)
                    self.anchors[frame.anchor] = (value, weight, None)
            else:  # pragma: no cover - the parser guarantees the event order
                raise YamlProblem(f"invalid YAML: unexpected {type(event).__name__}", line)

            if not stack:
                return value
            top = stack[-1]
            top.weight += weight
            target = top.container
            if isinstance(target, Seq):
                target.append(value)
                target.item_lines.append(line)
            elif top.key is _NO_KEY:
                if isinstance(value, (Map, Seq)):
                    raise YamlProblem("a mapping key must be a plain value", line)
                top.key = _MERGE_KEY if is_merge else value
                top.key_line = line
                if text is not None:
                    target.key_texts[value] = text
            else:
                key, key_line = top.key, top.key_line
                top.key = _NO_KEY
                if key is _MERGE_KEY:
                    top.merges.append((value, key_line))
                    continue
                if key in target:
                    raise YamlProblem(
                        f"duplicate key {target.text_of(key)!r} "
                        f"(first at line {target.key_lines[key]})",
                        key_line,
                    )
                target[key] = value
                target.key_lines[key] = key_line


def check_text(text: str) -> None:
    """Refuse characters YAML does not allow, at their line."""
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise YamlProblem(
            f"the character U+{ord(bad.group()):04X} is not allowed in a YAML file", line
        )


def decode(data: bytes) -> str:
    """UTF-8 bytes to text; a byte that is not UTF-8 is a problem at its own line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(
            f"the file is not UTF-8 text: byte 0x{data[exc.start]:02X} at line {line}, "
            f"column {column} (save the file as UTF-8)",
            line,
        ) from None


def load(text: str, fast: bool = True) -> Any:
    """Parse YAML text into Map/Seq/scalars. Raises YamlProblem with a line number.

    ``fast`` uses libyaml's C parser when available; both parsers give the same tree.
    """
    check_text(text)
    parser = _CParser(text) if fast and _CParser is not None else _Loader(text)
    try:
        return _Builder(parser).document()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = str(exc.problem or exc.context)
        if "nesting depth" in problem:  # libyaml's own limit (1,000), ahead of its events
            raise YamlProblem(
                f"values are nested more than {MAX_NESTING} levels deep", line
            ) from None
        raise YamlProblem(f"invalid YAML: {problem}", line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(0, exc.position)) + 1
        raise YamlProblem(f"invalid YAML: {exc.reason}", line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", 1) from None
    except RecursionError:  # pragma: no cover - the builder does not recurse
        raise YamlProblem(f"values are nested more than {MAX_NESTING} levels deep", 1) from None
    finally:
        parser.dispose()
