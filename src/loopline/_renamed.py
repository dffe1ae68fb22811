"""Keyword arguments renamed for one vocabulary (docs/vocabulary.md, issue 19).

A renamed keyword keeps working for one release: the call is answered as if it used the new
name, with a `LooplineDeprecationWarning` that names it. Giving both names with different
values is a mistake, refused before anything runs. One decorator holds the rule, so every
renamed function behaves the same way:

    @renamed_keywords(name="model", to="alias")
    def promote(model: str, version: int, alias: str = "production", ...) -> ...
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from loopline.errors import InvalidInputError

P = ParamSpec("P")
R = TypeVar("R")


class LooplineDeprecationWarning(DeprecationWarning):
    """A spelling of Loopline's that goes in the next release; the message names the new one.
    The test suite turns it into an error (pyproject.toml), so none of our own code uses one."""


def renamed_keywords(**renames: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accept each old keyword (`to="alias"`: `to=` is the old name of `alias=`) for one more
    release. The wrapped function keeps its signature; the check costs nothing on a call
    that uses only new names."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(fn)
        unknown = [new for new in renames.values() if new not in sig.parameters]
        assert not unknown, f"{fn.__name__} has no parameter {unknown}"

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if renames.keys() & kwargs.keys():
                _rename(fn.__name__, sig, renames, args, kwargs)
            return fn(*args, **kwargs)

        return cast(Callable[P, R], call)

    return decorate


def _rename(
    where: str,
    sig: inspect.Signature,
    renames: dict[str, str],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Move each kwargs[old] to kwargs[new], unless `new` is given already (same value)."""
    olds = {old: kwargs.pop(old) for old in renames if old in kwargs}
    given = sig.bind_partial(*args, **kwargs).arguments
    for old, value in olds.items():
        new = renames[old]
        if new in given and given[new] != value:
            raise InvalidInputError(
                f"{where}() got {new}={given[new]!r} and {old}={value!r}, its old name",
                hint=f"pass {new}= only ({old}= goes in the next release)",
            )
    for old, value in olds.items():
        new = renames[old]
        warnings.warn(
            f"{where}({old}=...) is deprecated and goes in the next release; "
            f"pass {new}=... instead",
            LooplineDeprecationWarning,
            stacklevel=3,  # 1 is this line, 2 the wrapper, 3 the caller's line
        )
        if new not in given:  # given already (by keyword or position): the same value
            kwargs[new] = value


__all__ = ["LooplineDeprecationWarning", "renamed_keywords"]
