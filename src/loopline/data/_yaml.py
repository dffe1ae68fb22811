"""Contract YAML: read with line numbers (the shared reader in `loopline._yaml`), so every
mistake names file, line and key.

`Contract.from_yaml` and `to_yaml` call this module, so it takes the model class as an
argument and learns the shape of the file from its field types, instead of importing
`_contract` back."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from loopline._yaml import Path_, dotted, line_of, load_marked, unknown_key
from loopline.data._errors import ContractError

_HINT = "see docs/data-contracts.md for the contract format"


M = TypeVar("M", bound=BaseModel)


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X (an optional section is still the section)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _model_at(root: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    """Which model the mapping at `path` is, to list the keys it accepts, read from the field
    types: `columns.<name>` is a Column because the field is `dict[str, Column]`."""
    node: Any = root
    for part in path:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part) if isinstance(part, str) else None
            node = field.annotation if field is not None else None
        else:  # a key of a mapping or an index of a list: its value type
            args = typing.get_args(node)
            node = args[-1] if args else None
        node = _unwrap(node)
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _error_for(
    root: type[BaseModel], exc: ValidationError, marks: dict[Path_, int], source: str
) -> ContractError:
    err = exc.errors()[0]
    loc: Path_ = tuple(err["loc"])
    # Union members add their type names to `loc`; keep only the part that exists in the file.
    path: Path_ = ()
    for part in loc:
        if (*path, part) in marks or (err["type"] == "extra_forbidden" and part == loc[-1]):
            path = (*path, part)
        else:
            break
    where = f"{source}:{line_of(marks, path)}"
    if err["type"] == "extra_forbidden":
        key, parent = str(path[-1]), path[:-1]
        model = _model_at(root, parent)
        known = [n for n in (model.model_fields if model else {}) if n != "source"]
        return unknown_key(ContractError, where, key, parent, known, _HINT)
    if err["type"] == "missing":
        return ContractError(
            f"{where}: {dotted(path)} is missing the required key {loc[-1]!r}", hint=_HINT
        )
    msg = str(err["msg"]).removeprefix("Value error, ").replace("Input should", "should")
    if path and path[-1] in ("min", "max") and len(loc) > len(path):
        msg = "should be a number or a date"  # a union: pydantic reports each member
    if path and path[-1] == "severity" and err.get("input") == "quarantine":
        msg += " (quarantine applies to rules about single rows only)"
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or "got" in msg else f" (got {got!r})"
    return ContractError(f"{where}: {dotted(path)}: {msg}{shown}", hint=_HINT)


def parse_model(model: type[M], text: str, source: str = "<contract>") -> M:
    """A contract (`model`) from YAML text; any problem is a ContractError naming `source`,
    line and key."""
    data, marks = load_marked(text, source, ContractError, _HINT)
    if not isinstance(data, dict):
        raise ContractError(
            f"{source}:1: a contract is a mapping (name:, columns:, …), "
            f"got {'nothing' if data is None else type(data).__name__}",
            hint=_HINT,
        )
    try:
        return model.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise _error_for(model, exc, marks, source) from None


def load_model_file(model: type[M], path: Path) -> M:
    if not path.is_file():
        raise ContractError(
            f"contract file {str(path)!r} does not exist",
            hint="pass the path of a YAML contract, or write one with "
            "`loopline data infer-contract DATA`",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ContractError(f"{path}: not a text file", hint="contracts are UTF-8 YAML") from None
    return parse_model(model, text, str(path))


class _Dumper(yaml.SafeDumper):
    """SafeDumper that writes short scalar lists on one line."""


def _list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    # Short lists of scalars (allowed values, key columns) read best on one line.
    flat = all(not isinstance(i, dict | list) for i in items) and len(str(items)) < 80
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_Dumper.add_representer(list, _list)


def dump_yaml(data: dict[str, Any]) -> str:
    """YAML as people write contracts: keys in field order, short lists on one line."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


__all__ = ["dump_yaml", "load_model_file", "parse_model"]
