"""Reading `loopline.yaml` with line numbers (the shared reader in `loopline._yaml`), so
every mistake names file, line and key."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from loopline._yaml import Dumper, Loader, Path_, dotted, line_of
from loopline._yaml import load_marked as _shared_load
from loopline._yaml import unknown_key as shared_unknown_key
from loopline.errors import InvalidInputError

HINT = "see docs/pipelines.md for the loopline.yaml format"


class PipelineSpecError(InvalidInputError):
    """A mistake in a pipeline spec; the message starts with `file:line`."""

    code = "pipeline_spec"


def load_marked(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """(data, line of every key path) from a pipeline spec's YAML text."""
    return _shared_load(text, source, PipelineSpecError, HINT)


def unknown_key(where: str, key: str, parent: Path_, known: list[str]) -> PipelineSpecError:
    """`where: unknown key 'k' in a.b (did you mean 'kk'?)`, with the allowed keys."""
    return shared_unknown_key(PipelineSpecError, where, key, parent, known, HINT)


def error_for(
    exc: ValidationError,
    marks: dict[Path_, int],
    source: str,
    models: dict[tuple[str, ...], type[BaseModel]],
) -> PipelineSpecError:
    """The first pydantic error as one line naming file, line and key.

    `models` maps a path shape ("*" = any mapping key, "#" = any list index) to the model
    found there, so an unknown key can list the keys allowed in its place.
    """
    errors = exc.errors()
    # An unknown key first: 'stpes:' is both an unknown key and a missing 'steps', and
    # the unknown key is the one that says what to fix.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc: Path_ = tuple(err["loc"])
    path: Path_ = ()
    for part in loc:  # union members add their type names to `loc`: keep the file's part
        if (*path, part) in marks or (err["type"] == "extra_forbidden" and part == loc[-1]):
            path = (*path, part)
        else:
            break
    where = f"{source}:{line_of(marks, path)}"
    if err["type"] == "extra_forbidden":
        key, parent = str(path[-1]), path[:-1]
        model = next(
            (
                m
                for shape, m in models.items()
                if len(shape) == len(parent)
                and all(
                    s == p or (s == "*" and isinstance(p, str)) or (s == "#" and isinstance(p, int))
                    for s, p in zip(shape, parent, strict=True)
                )
            ),
            None,
        )
        fields = model.model_fields if model else {}
        known = [n for n, f in fields.items() if not f.exclude]  # set by the loader, not users
        return unknown_key(where, key, parent, known)
    if err["type"] == "missing":
        return PipelineSpecError(
            f"{where}: {dotted(path)} is missing the required key {loc[-1]!r}", hint=HINT
        )
    msg = str(err["msg"]).removeprefix("Value error, ").replace("Input should", "should")
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or "got" in msg else f" (got {got!r})"
    return PipelineSpecError(f"{where}: {dotted(path)}: {msg}{shown}", hint=HINT)


__all__ = [
    "HINT",
    "Dumper",
    "Loader",
    "PipelineSpecError",
    "dotted",
    "error_for",
    "line_of",
    "load_marked",
    "unknown_key",
]
