"""Validators match the whole value: Python's `$` also matches before a trailing newline, so
`re.match(r"^...$")` let "alice\n" through as a user name (found by the hypothesis property
in test_identity.py). Every name check now uses `fullmatch`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loopline.errors import InvalidInputError
from loopline.identity import canonical_user
from loopline.store import check_alias, check_model_name

CHECKS: list[tuple[Callable[[str], Any], str]] = [
    (canonical_user, "alice"),
    (check_model_name, "churn"),
    (check_alias, "production"),
]


@pytest.mark.parametrize(("check", "good"), CHECKS)
@pytest.mark.parametrize("tail", ["\n", "\r\n", " ", "\n\n"])
def test_a_name_with_a_trailing_newline_is_refused(
    check: Callable[[str], Any], good: str, tail: str
) -> None:
    check(good)  # the name itself is fine
    with pytest.raises(InvalidInputError):
        check(good + tail)
