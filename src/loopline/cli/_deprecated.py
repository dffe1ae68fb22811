"""Last release's command spellings (docs/vocabulary.md): they work for one more release.

An old spelling is rewritten into the new one before the command line is parsed, so it does
exactly what the new one does (same options, output and exit code) and nothing else has to
know it: the old names are in no group, so no `--help` lists them. The rewrite prints one
line on stderr naming the new spelling. Longest match first: `deploy promote` is renamed as
a whole (to `deployments complete`), `deploy status` through `deploy`.
"""

from __future__ import annotations

import sys

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


__all__ = ["RENAMED", "renamed"]
