"""Reading `loopline.yaml` with line numbers, so every mistake names file, line and key.

Booleans follow YAML 1.2 (only true/false): with PyYAML's YAML 1.1 default the trigger key
`on:` would silently become the boolean True, and `approval: yes` a string-looking bool.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from loopline.errors import InvalidInputError

Path_ = tuple[str | int, ...]
HINT = "see docs/pipelines.md for the loopline.yaml format"


class PipelineSpecError(InvalidInputError):
    """A mistake in a pipeline spec; the message starts with `file:line`."""

    code = "pipeline_spec"


class _Resolver(yaml.resolver.Resolver):
    pass


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _Resolver,
):
    """PyYAML's safe loader with YAML 1.2 booleans."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)


class Dumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    _Resolver,
):
    """PyYAML's safe dumper with YAML 1.2 booleans: `on:` is written bare, as CI files use it."""

    def __init__(self, stream: Any, **kwds: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self, stream, width=kwds.get("width"), allow_unicode=kwds.get("allow_unicode")
        )
        yaml.serializer.Serializer.__init__(self)
        yaml.representer.SafeRepresenter.__init__(
            self, default_flow_style=kwds.get("default_flow_style", False), sort_keys=False
        )
        _Resolver.__init__(self)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a CI file reads better with repeated steps spelled out than with &id001


def _marks(node: yaml.Node, path: Path_, out: dict[Path_, int], source: str) -> None:
    """Line (1-based) of every key and list item, by path; duplicate keys are refused."""
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            if key.value in seen:
                raise PipelineSpecError(
                    f"{source}:{key.start_mark.line + 1}: key {dotted((*path, key.value))!r} "
                    "appears twice",
                    hint="keep one of them",
                )
            seen.add(key.value)
            out[(*path, key.value)] = key.start_mark.line + 1
            _marks(value, (*path, key.value), out, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = item.start_mark.line + 1
            _marks(item, (*path, i), out, source)


def dotted(path: Path_) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path) or "(top level)"


def load_marked(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """(data, line of every key path) from YAML text."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise PipelineSpecError(
            f"{source}:{line}: not valid YAML: {exc.problem or exc.context}",
            hint="check indentation and quoting on that line",
        ) from None
    except yaml.YAMLError as exc:
        raise PipelineSpecError(f"{source}: not valid YAML: {exc}", hint=HINT) from None
    finally:
        loader.dispose()
    marks: dict[Path_, int] = {}
    if node is not None:
        _marks(node, (), marks, source)
    return data, marks


def line_of(marks: dict[Path_, int], path: Path_) -> int:
    """The line of `path`, or of its nearest ancestor that is in the file."""
    for i in range(len(path), 0, -1):
        if path[:i] in marks:
            return marks[path[:i]]
    return 1


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
    err = exc.errors()[0]
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
        near = difflib.get_close_matches(key, known, n=1)
        guess = f" (did you mean {near[0]!r}?)" if near else ""
        return PipelineSpecError(
            f"{where}: unknown key {key!r} in {dotted(parent)}{guess}",
            hint=f"allowed keys there: {', '.join(known)}" if known else HINT,
        )
    if err["type"] == "missing":
        return PipelineSpecError(
            f"{where}: {dotted(path)} is missing the required key {loc[-1]!r}", hint=HINT
        )
    msg = str(err["msg"]).removeprefix("Value error, ").replace("Input should", "should")
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or "got" in msg else f" (got {got!r})"
    return PipelineSpecError(f"{where}: {dotted(path)}: {msg}{shown}", hint=HINT)


__all__ = ["HINT", "Dumper", "Loader", "PipelineSpecError", "dotted", "error_for", "load_marked"]
