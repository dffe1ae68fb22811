"""Finding a step's function (`module:function`) and hashing its code for the step cache."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loopline.errors import InvalidInputError


def _local_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _load_file(path: Path, module: str) -> Any:
    """Import a module beside the spec under a name keyed by its path and content.

    Two pipelines may each have a `steps.py`, and a long-running scheduler must pick up an
    edited file: `import steps` would return whichever was imported first, unchanged.
    """
    data = path.read_bytes()
    digest = hashlib.sha256(str(path.resolve()).encode() + b"\0" + data).hexdigest()[:16]
    name = f"_loopline_steps_{digest}_{module.replace('.', '_')}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InvalidInputError(f"cannot import {path}", hint="is it a Python file?")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # before exec, so pickled classes defined there resolve
    parent = str(path.parent)
    added = parent not in sys.path
    if added:
        sys.path.insert(0, parent)  # the module's own sibling imports (helpers.py beside it)
    try:
        spec.loader.exec_module(mod)
    except Exception:
        del sys.modules[name]
        raise
    finally:
        if added:
            sys.path.remove(parent)
    return mod


def resolve_function(target: str, root: Path, where: str) -> Callable[..., Any]:
    """The function `module:function` names: a module file beside the spec first, then an
    importable module."""
    module, _, attr = target.partition(":")
    local = _local_file(root, module)
    try:
        mod = _load_file(local, module) if local else importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise InvalidInputError(
            f"{where}: cannot import module {module!r} ({exc})",
            hint=f"put {module.replace('.', '/')}.py beside the pipeline file or install it",
        ) from None
    func = getattr(mod, attr, None)
    if not callable(func):
        raise InvalidInputError(
            f"{where}: module {module!r} has no function {attr!r}",
            hint="check the 'run: module:function' reference",
        )
    return func  # type: ignore[no-any-return]


def code_hash(func: Callable[..., Any]) -> str:
    """sha256 of the function's source and of its whole module file.

    The module file is included because a step calls helpers beside it: an edited helper
    must invalidate the cache as surely as an edited step.
    """
    h = hashlib.sha256()
    try:
        h.update(inspect.getsource(func).encode())
    except (OSError, TypeError):
        h.update(getattr(func, "__qualname__", repr(func)).encode())
    try:
        path = inspect.getfile(func)
        h.update(Path(path).read_bytes())
    except (OSError, TypeError):
        pass  # built-in or generated code: the source above is all there is
    return h.hexdigest()


def check_signature(func: Callable[..., Any], arguments: list[str], where: str) -> None:
    """Refuse a function that cannot take the step's declared inputs and params."""
    sig = inspect.signature(func)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    missing = [a for a in arguments if a not in sig.parameters]
    required = [
        n
        for n, p in sig.parameters.items()
        if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    unfed = [r for r in required if r not in arguments]
    if missing or unfed:
        why = []
        if missing:
            why.append(f"has no parameter(s) {', '.join(missing)}")
        if unfed:
            why.append(f"needs {', '.join(unfed)}, which the step does not declare")
        raise InvalidInputError(
            f"{where}: {func.__name__}{sig} " + " and ".join(why),
            hint="make the step's inputs and params match the function's parameters",
        )


__all__ = ["check_signature", "code_hash", "resolve_function"]
