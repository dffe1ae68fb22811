"""The step graph: topological order, ancestors, descendants. Pure functions of the spec."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from loopline.errors import InvalidInputError

if TYPE_CHECKING:
    from loopline.pipelines._spec import PipelineSpec


def topological_order(spec: PipelineSpec) -> list[str]:
    """Steps so that each comes after the steps it reads from; ties keep file order, so the
    order is stable and readable. A cycle is refused, naming the steps on it."""
    upstream = {name: set(step.upstream) for name, step in spec.steps.items()}
    done: list[str] = []
    placed: set[str] = set()
    while len(done) < len(upstream):
        ready = [n for n in upstream if n not in placed and upstream[n] <= placed]
        if not ready:
            stuck = [n for n in upstream if n not in placed]
            raise InvalidInputError(
                f"steps {' → '.join(_cycle(upstream, stuck))} form a cycle",
                hint="a step cannot read, directly or not, from its own outputs",
            )
        done.append(ready[0])
        placed.add(ready[0])
    return done


def _cycle(upstream: dict[str, set[str]], stuck: list[str]) -> list[str]:
    """One cycle among `stuck` steps, as a closed path (first step repeated at the end)."""
    path = [stuck[0]]
    while True:
        nxt = next(u for u in sorted(upstream[path[-1]]) if u in stuck)
        if nxt in path:
            return [*path[path.index(nxt) :], nxt]
        path.append(nxt)


def ancestors(spec: PipelineSpec, names: Iterable[str]) -> set[str]:
    """`names` and every step they read from, directly or not."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(spec.steps[name].upstream)
    return seen


def descendants(spec: PipelineSpec, name: str) -> set[str]:
    """`name` and every step that reads from it, directly or not."""
    down: dict[str, set[str]] = {n: set() for n in spec.steps}
    for n, step in spec.steps.items():
        for up in step.upstream:
            down[up].add(n)
    seen: set[str] = set()
    todo = [name]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(down[n])
    return seen


__all__ = ["ancestors", "descendants", "topological_order"]
