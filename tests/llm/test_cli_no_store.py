"""`loopline prompts show` and `prompts diff` only read: outside a project they create no
`.loopline/`, whether the URI is well formed (they say where they looked) or not (they say
what is wrong with it, before looking for a store at all). Exit 2 either way, one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_no_store import OUTSIDE, looked_at
from tests.conftest import REMOTE, run_cli

pytestmark = pytest.mark.skipif(REMOTE, reason="the embedded store's creation; not remote")


@pytest.mark.parametrize(
    "command",
    [
        ("prompts", "show", "prompts:/support-reply@production"),
        ("prompts", "show", "prompts:/support-reply/2"),
        ("prompts", "diff", "prompts:/support-reply/1", "prompts:/support-reply/2"),
    ],
)
def test_a_prompt_lookup_outside_a_project_says_where_it_looked(command: tuple[str, ...]) -> None:
    here = Path.cwd()
    p = run_cli(*command, env=OUTSIDE)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stderr.strip() == f"error: {looked_at(here)}", p.stderr
    assert not (here / ".loopline").exists()


@pytest.mark.parametrize(
    ("command", "bad"),
    [
        (("prompts", "show", "support-reply@production"), "support-reply@production"),
        (("prompts", "diff", "prompts:/support-reply/1", "nope"), "nope"),
        (("prompts", "diff", "nope", "prompts:/support-reply/1"), "nope"),
    ],
)
def test_a_malformed_prompt_uri_is_refused_before_any_store(
    command: tuple[str, ...], bad: str
) -> None:
    here = Path.cwd()
    p = run_cli(*command, env=OUTSIDE)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad!r} is not a prompts URI"), lines
    assert "no Loopline store" not in p.stderr
    assert not (here / ".loopline").exists()
