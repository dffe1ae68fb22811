"""Command-line values converted without Pydantic, for the types Loopline's options use.

Typer 0.29 converts every parameter value (defaults included) through a Pydantic
`TypeAdapter` built on first use: importing Pydantic and building one adapter per parameter
was about a tenth of `loopline runs list`. Loopline's options are only str, int, float, bool,
Path and list[str] (no parsers, choices or clamps), and for those a plainly valid value has
one obvious conversion: `quick_runtime_param` does it. Anything else (a malformed number, a
value out of range, another type) goes to Typer's own conversion, so the results and every
error message stay Typer's; tests/cli/test_coerce.py compares both on valid and invalid values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.models import ParameterInfo

# Only the spellings Pydantic's lax mode reads the same way; others take Typer's path.
_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")

# (value, parameter, context) -> the converted value, or `_Typer` raised to let Typer decide.
Convert = Callable[[Any, Any, Any], Any]


class _Typer(Exception):
    """Not a plainly valid value: Typer converts it (or says what is wrong with it)."""


def _str(value: Any, _param: Any, _ctx: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Typer


def _bool(value: Any, _param: Any, _ctx: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Typer


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT.fullmatch(value):
        return int(value)
    raise _Typer


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _FLOAT.fullmatch(value):
        return float(value)
    raise _Typer


def _number(parse: Callable[[Any], Any], info: ParameterInfo) -> Convert:
    low, high = info.min, info.max

    def convert(value: Any, _param: Any, _ctx: Any) -> Any:
        number = parse(value)
        if (low is not None and number < low) or (high is not None and number > high):
            raise _Typer  # Typer words the range error
        return number

    return convert


def _path(kind: type[Path], info: ParameterInfo) -> Convert:
    def convert(value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str):
            value = kind(value)
        elif not isinstance(value, kind):
            raise _Typer
        # Typer's own checks (exists, file_okay, dir_okay, ...), on the value as a Path.
        return coerce_cli_path(value, info, path_type=kind, param=param, ctx=ctx)

    return convert


def _leaf(annotation: Any, info: ParameterInfo) -> Convert | None:
    if annotation is str:
        return _str
    if annotation is bool:
        return _bool
    if annotation in (int, float) and not info.clamp:
        return _number(_int if annotation is int else _float, info)
    if isinstance(annotation, type) and issubclass(annotation, Path) and info.path_type is None:
        return _path(annotation, info)
    return None


def _converter(desc: TypeDescriptor) -> Convert | None:
    info = desc.parameter_info
    annotation: Any = desc.annotation
    if info.parser is not None or desc.file_annotation is not None or desc.is_choice:
        return None
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        leaf = _leaf(item, info)
        if leaf is None:
            return None

        def many(value: Any, param: Any, ctx: Any) -> list[Any]:
            values = value if isinstance(value, list | tuple) else [value]
            return [leaf(v, param, ctx) for v in values]

        return many
    return _leaf(annotation, info)


@dataclass(frozen=True)
class _Quick(RuntimeParam):
    convert: Convert
    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return self.convert(value, param, ctx)
        except _Typer:
            typer_param = build_runtime_param(self.descriptor)
            return typer_param._coerce_value(value, param=param, ctx=ctx)


def quick_runtime_param(desc: TypeDescriptor) -> RuntimeParam | None:
    """A conversion for `desc` that needs no Pydantic, or None when Typer's is needed."""
    convert = _converter(desc)
    if convert is None:
        return None
    return _Quick(
        parameter_info=desc.parameter_info,
        annotation=desc.annotation,
        convert=convert,
        descriptor=desc,
    )


__all__ = ["quick_runtime_param"]
