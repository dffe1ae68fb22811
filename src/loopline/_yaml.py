"""YAML read with line numbers, so every mistake in a user's file names file, line and key.

One reader for every YAML file Loopline accepts (data contracts, pipeline specs).
Booleans follow YAML 1.2 (only true/false): with PyYAML's YAML 1.1 default a CI trigger key
`on:` would silently become the boolean True, and an allowed list `[Yes, No]` would become
`[True, False]`.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from loopline.errors import LooplineError

Path_ = tuple[str | int, ...]


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


def _marks(
    node: yaml.Node, path: Path_, out: dict[Path_, int], source: str, error: type[LooplineError]
) -> None:
    """Line (1-based) of every key and list item, by path; duplicate keys are refused."""
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            if key.value in seen:
                raise error(
                    f"{source}:{key.start_mark.line + 1}: key {dotted((*path, key.value))!r} "
                    "appears twice",
                    hint="keep one of them",
                )
            seen.add(key.value)
            out[(*path, key.value)] = key.start_mark.line + 1
            _marks(value, (*path, key.value), out, source, error)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = item.start_mark.line + 1
            _marks(item, (*path, i), out, source, error)


def dotted(path: Path_) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path) or "(top level)"


def load_marked(
    text: str, source: str, error: type[LooplineError], hint: str
) -> tuple[Any, dict[Path_, int]]:
    """(data, line of every key path) from YAML text; a problem raises `error` naming
    `source` and the line (duplicate keys included)."""
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise error(
            f"{source}:{line}: not valid YAML: {exc.problem or exc.context}",
            hint="check indentation and quoting on that line",
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {exc}", hint=hint) from None
    finally:
        loader.dispose()
    marks: dict[Path_, int] = {}
    if node is not None:
        _marks(node, (), marks, source, error)
    return data, marks


def line_of(marks: dict[Path_, int], path: Path_) -> int:
    """The line of `path`, or of its nearest ancestor that is in the file."""
    for i in range(len(path), 0, -1):
        if path[:i] in marks:
            return marks[path[:i]]
    return 1


__all__ = ["Dumper", "Loader", "Path_", "dotted", "line_of", "load_marked"]
