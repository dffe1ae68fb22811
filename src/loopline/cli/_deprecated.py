"""Last release's command spellings (docs/vocabulary.md): they work for one more release.

An old spelling is rewritten into the new one before the command line is parsed, so it does
exactly what the new one does (same options, output and exit code) and nothing else has to
know it: the old names are in no group, so no `--help` lists them. The rewrite prints one
line on stderr naming the new spelling. Longest match first: `deploy promote` is renamed as
a whole (to `deployments complete`), `deploy status` through `deploy`. A renamed option is a
hidden option of its command, read through `renamed_option`.
"""

from __future__ import annotations

import sys
from typing import TypeVar

from loopline.errors import InvalidInputError

T = TypeVar("T", str, int)

# Old leading words → new ones. Remove the whole table in the release after next.
RENAMED: dict[tuple[str, ...], tuple[str, ...]] = {
    ("deploy",): ("deployments",),
    ("deploy", "promote"): ("deployments", "complete"),
    ("deployments", "promote"): ("deployments", "complete"),
    ("monitor",): ("monitors",),
    ("report",): ("reports",),
    ("dora",): ("reports", "dora"),
    ("run",): ("pipelines", "run"),
    ("scheduler",): ("pipelines", "schedule"),
    ("diagram",): ("pipelines", "diagram"),
    ("ci",): ("pipelines",),
    ("ci", "init"): ("pipelines", "ci"),
    ("llm",): ("prompts",),
    ("llm", "eval"): ("prompts", "evaluate"),
    ("llm", "index"): ("indexes",),
    ("llm", "index", "eval"): ("indexes", "evaluate"),
    ("serve",): ("models", "serve"),
    ("ui",): ("server", "--local"),
}
_LONGEST = max(len(old) for old in RENAMED)


def renamed(args: list[str]) -> list[str]:
    """`args` with an old leading spelling replaced by the new one (and the notice printed
    on stderr), or `args` itself when it starts with no old spelling."""
    for n in range(min(_LONGEST, len(args)), 0, -1):
        old = tuple(args[:n])
        new = RENAMED.get(old)
        if new is not None:
            sys.stderr.write(
                f"warning: `loopline {' '.join(old)}` is deprecated: use "
                f"`loopline {' '.join(new)}` (the old name goes in the next release)\n"
            )
            return [*new, *args[n:]]
    return args


def renamed_option(old: str, old_value: T | None, new: str, new_value: T | None) -> T | None:
    """The value given under the new spelling or, with a one-line deprecation notice on
    stderr naming the new one, under the old (a hidden option: `models rollback --alias`,
    `models promote --to`). Both given and different is a mistake, said in one line before
    anything is printed."""
    if old_value is None:
        return new_value
    if new_value is not None and new_value != old_value:
        raise InvalidInputError(
            f"{new} is {new_value} but {old} is {old_value}", hint=f"pass {new} only"
        )
    sys.stderr.write(
        f"warning: {old} is deprecated and goes in the next release; pass {new} instead\n"
    )
    return old_value


__all__ = ["RENAMED", "renamed", "renamed_option"]
