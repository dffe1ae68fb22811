"""YAML read with line numbers, so every mistake in a user's file names file, line and key.

One reader for every YAML file Loopline accepts (data contracts, pipeline specs).
Booleans follow YAML 1.2 (only true/false): with PyYAML's YAML 1.1 default a CI trigger key
`on:` would silently become the boolean True, and an allowed list `[Yes, No]` would become
`[True, False]`.

Every document is read within a budget (`MAX_YAML_BYTES`, `MAX_ALIASES`, `MAX_NODES`,
`MAX_DEPTH`): an alias bomb ("billion laughs": a few lines whose aliases expand to
billions of nodes) or a document nested thousands deep is refused with one clear
`InvalidInputError` before anything walks it, rather than costing minutes or a
RecursionError in whoever reads it next (a CLI, a pipeline run, a web page).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any, TypeVar

import yaml

from loopline.errors import InvalidInputError, LooplineError

Path_ = tuple[str | int, ...]
E = TypeVar("E", bound=LooplineError)

MAX_YAML_BYTES = 4 * 2**20  # one spec, contract or policy file
MAX_ALIASES = 100  # `*name` references in one document
MAX_NODES = 100_000  # scalars, lists and mappings once every alias is expanded
MAX_DEPTH = 64  # lists and mappings inside each other


class YamlBudgetError(yaml.YAMLError):
    """A document over the reader's budget (size, aliases, expanded nodes, depth)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


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
        if len(stream) > MAX_YAML_BYTES:
            raise YamlBudgetError(
                f"document is {len(stream) / 2**20:.1f} MiB, over the "
                f"{MAX_YAML_BYTES // 2**20} MiB limit",
                "split it, or keep data out of the spec (reference files instead)",
            )
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlBudgetError(
                    f"document uses more than {MAX_ALIASES} aliases (*name)",
                    "spell the repeated parts out, or use fewer anchors",
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlBudgetError(
                    f"document is nested more than {MAX_DEPTH} levels deep",
                    "flatten it: a few levels of lists and mappings",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node | None:
        node = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than MAX_NODES nodes, or refer to
    themselves: sizes are summed once per distinct node (iteratively), so the check costs
    the document's length, not its expansion."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if done:
            open_.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > MAX_NODES:
                raise YamlBudgetError(
                    f"document expands to more than {MAX_NODES:,} values (aliases repeat "
                    "their anchor's whole content)",
                    "spell the repeated parts out once, or use fewer aliases",
                )
            continue
        if key in size:
            continue
        if key in open_:
            raise YamlBudgetError(
                "document has an alias inside its own anchor (a recursive structure)",
                "refer to an anchor only after its content ends",
            )
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)


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
    try:
        loader = Loader(text)
    except YamlBudgetError as exc:
        raise error(f"{source}: {exc.message}", hint=exc.hint) from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except YamlBudgetError as exc:
        raise error(f"{source}: {exc.message}", hint=exc.hint) from None
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


def safe_load(
    text: str,
    source: str,
    error: type[LooplineError] = InvalidInputError,
    hint: str = "check the file's YAML",
) -> Any:
    """The data of one YAML document, within the reader's budget; any problem raises
    `error` naming `source` (and the line where YAML says). Use this, not
    `yaml.safe_load`, for any YAML that comes from a user, a file or a record."""
    return load_marked(text, source, error, hint)[0]


def unknown_key(
    error: type[E], where: str, key: str, parent: Path_, known: Sequence[str], hint: str
) -> E:
    """`where: unknown key 'k' in a.b (did you mean 'kk'?)`, hinting at the keys allowed
    there (`hint` when none are): one wording for every YAML file a user writes."""
    near = difflib.get_close_matches(key, list(known), n=1)
    guess = f" (did you mean {near[0]!r}?)" if near else ""
    inside = f" in {dotted(parent)}" if parent else ""
    return error(
        f"{where}: unknown key {key!r}{inside}{guess}",
        hint=f"allowed keys there: {', '.join(known)}" if known else hint,
    )


def line_of(marks: dict[Path_, int], path: Path_) -> int:
    """The line of `path`, or of its nearest ancestor that is in the file."""
    for i in range(len(path), 0, -1):
        if path[:i] in marks:
            return marks[path[:i]]
    return 1


__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_YAML_BYTES",
    "Dumper",
    "Loader",
    "Path_",
    "YamlBudgetError",
    "dotted",
    "line_of",
    "load_marked",
    "safe_load",
    "unknown_key",
]
