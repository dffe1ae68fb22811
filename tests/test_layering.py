"""The package layering, measured from the source with `ast` (issue 19).

Layers, bottom to top; a module-level import may only point down (or sideways inside
its own package):

    core       errors, config (settings only), identity (users, roles, permissions,
               `current_user`), _yaml, _version, policy (pure gate rules the store runs)
    stats
    store
    lifecycle  in loop order: data, models, tracking, registry, gates, serving, batch,
               monitoring, pipelines, llm, then ops (audit, DORA, tokens: reads them all)
    top        server, cli, and the `loopline` package itself (lazy re-exports)

Lifecycle packages follow the loop order strictly (measured when this test was written:
batch, gates, llm, monitoring, pipelines, registry and serving import earlier packages
only; data, models, tracking and ops import no other lifecycle package).

Only module-level imports count: imports inside functions and under `if TYPE_CHECKING:`
run late (or never), so they cannot make an import cycle, and they are how the CLI stays
fast to start. Also checked: no import cycle between modules, not even inside a package,
and no new module-level import of another package's private module (`pkg._name` from
outside `pkg`); the ones that exist today are frozen in PRIVATE_ALLOWED and only shrink.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
LOOP = "data models tracking registry gates serving batch monitoring pipelines llm ops"
ORDER = [
    ["errors", "config", "identity", "_yaml", "_cron", "_version", "_renamed", "policy"],
    ["stats"],
    ["store"],
    *([p] for p in LOOP.split()),
]
RANK = {pkg: rank for rank, layer in enumerate(ORDER) for pkg in layer}
TOP = len(ORDER)  # server, cli, loopline/__init__, __main__

# Module-level imports of another package's private module that exist today: none (there were
# 23 when this test was written; the last 7 went on 2026-12-06, each name exported by its
# package's `__init__`). Do not add to it: export the name from the owning package instead.
PRIVATE_ALLOWED: set[tuple[str, str]] = set()
# Cycles that exist today, in files this test's author could not change: break, then drop.
CYCLES_ALLOWED: list[list[str]] = []


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / "loopline").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _eager(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run at import time: not in a function, not under TYPE_CHECKING."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _eager(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody"):  # class bodies, if/try/with blocks
            yield from _eager(getattr(node, field, []))
        for handler in getattr(node, "handlers", []):
            yield from _eager(handler.body)


def imports(modules: dict[str, Path]) -> Iterator[tuple[str, int, str]]:
    """(importer, line, imported loopline module) for every module-level import."""
    for name, path in modules.items():
        for node in _eager(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from pkg import mod, name`: the submodule `mod`, and `pkg` for `name`
                sub = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t for t in sub if t in modules]
                if len(targets) < len(sub):
                    targets.append(node.module)
            else:
                continue
            for target in targets:
                if target.startswith("loopline"):
                    yield name, node.lineno, target


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _rank(module: str) -> int:
    return RANK.get(_package(module), TOP)


def _layer(module: str) -> str:
    rank = _rank(module)
    return "top" if rank == TOP else "core" if rank == 0 else ORDER[rank][0]


def _private_owner(module: str) -> str | None:
    """The package a private module belongs to (`loopline.store` for `loopline.store._http`)."""
    parts = module.split(".")
    for i, part in enumerate(parts[1:], 1):
        if part.startswith("_") and not part.startswith("__") and i > 1:
            return ".".join(parts[:i])
    return None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while (w := stack.pop()) != v:
                comp.append(w)
            if comp:
                found.append(sorted([v, *comp]))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_layers_point_down_and_nothing_is_circular() -> None:
    modules = _modules()
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for src, line, dst in imports(modules):
        where = f"{modules[src].relative_to(SRC.parent)}:{line}: {src} imports {dst}"
        graph.setdefault(src, set()).add(dst)
        if _rank(dst) > _rank(src):
            problems.append(
                f"{where}: {_layer(src)} may not import {_layer(dst)}, which is above it "
                "(layers: core < stats < store < data < models < ... < ops < server, cli); "
                "import it inside the function that needs it, or move the code down"
            )
        owner = _private_owner(dst)
        outside = owner is not None and not (src + ".").startswith(owner + ".")
        if outside and (src, dst) not in PRIVATE_ALLOWED:
            problems.append(
                f"{where}: private to {owner}; import it from {owner} (export it there)"
            )
    for cycle in _cycles(graph):
        if cycle not in CYCLES_ALLOWED:
            problems.append(f"import cycle among {', '.join(cycle)}: move the shared part down")
    assert not problems, "\n" + "\n".join(problems)


def test_the_allowlists_hold_only_what_still_exists() -> None:
    """A fixed private import or cycle leaves the allowlist, so it cannot come back."""
    modules = _modules()
    found = {(src, dst) for src, _, dst in imports(modules)}
    graph: dict[str, set[str]] = {}
    for src, dst in found:
        graph.setdefault(src, set()).add(dst)
    assert PRIVATE_ALLOWED - found == set()
    assert [c for c in CYCLES_ALLOWED if c not in _cycles(graph)] == []


def test_settings_and_identity_load_without_the_store() -> None:
    """Loading settings makes no HTTP call and opens nothing: config and identity import
    only the core (a fresh interpreter, so earlier imports in this session do not count)."""
    code = (
        "import sys, loopline.config, loopline.identity; "
        "print(sorted(m for m in sys.modules if m.startswith('loopline.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (
        done.stdout.strip()
        == "['loopline._version', 'loopline.config', 'loopline.errors', 'loopline.identity']"
    )
