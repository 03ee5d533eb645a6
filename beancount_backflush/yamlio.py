"""Safe YAML loading for the standards file.

PyYAML's ``safe_load`` is unfit for money and item codes: ``2.50`` becomes a float, ``0123``
an octal integer, and keys such as ``NO``, ``ON`` or ``OFF`` booleans. This loader keeps
every number as a ``Decimal`` (read from its text, never through a float), reads integers in
base 10, accepts only ``true``/``false`` as booleans, executes no tags, and keeps the
1-based line number of every mapping key and value so that errors point at the file's line.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml


class YamlProblem(Exception):
    """A problem in the YAML text, at a 1-based line."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


class Map(dict):  # type: ignore[type-arg]
    """A YAML mapping: a dict that remembers its own line and each key's line."""

    line: int
    key_lines: dict[Any, int]


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


def _construct_number(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise YamlProblem(f"{text!r} is not a number", node.start_mark.line + 1) from None
    if not value.is_finite():
        raise YamlProblem(f"{text!r} is not a finite number", node.start_mark.line + 1)
    return value


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_number)


_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp", "merge")
)


def _to_python(loader: _Loader, node: yaml.Node) -> Any:
    line = node.start_mark.line + 1
    if node.tag not in _PLAIN_TAGS:
        raise YamlProblem(f"unsupported YAML tag {node.tag!r} (tags are not executed)", line)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result = Map()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _to_python(loader, key_node)
            key_line = key_node.start_mark.line + 1
            if isinstance(key, (Map, Seq)):
                raise YamlProblem("a mapping key must be a plain value", key_line)
            if key in result:
                raise YamlProblem(
                    f"duplicate key {key!r} (first at line {result.key_lines[key]})", key_line
                )
            result[key] = _to_python(loader, value_node)
            result.key_lines[key] = key_line
        return result
    if isinstance(node, yaml.SequenceNode):
        seq = Seq(_to_python(loader, item) for item in node.value)
        seq.line = line
        seq.item_lines = [item.start_mark.line + 1 for item in node.value]
        return seq
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        raise YamlProblem(
            f"unsupported YAML tag {node.tag!r} (tags are not executed)", line
        ) from None
    if isinstance(value, datetime.datetime):
        raise YamlProblem(f"expects a date, not a date and time: {node.value!r}", line)
    return value


def load(text: str) -> Any:
    """Parse YAML text into Map/Seq/scalars. Raises YamlProblem with a line number."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            return _to_python(loader, node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlProblem(f"invalid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", 1) from None
