"""`promote_prompt(name, version, alias=)` (docs/vocabulary.md §7): last release's `to=` works
one more release, with a LooplineDeprecationWarning naming `alias=`."""

from __future__ import annotations

from typing import Any

import pytest

from loopline._renamed import LooplineDeprecationWarning
from loopline.errors import InvalidInputError
from loopline.llm import load_prompt, promote_prompt, register_prompt
from tests.llm.conftest import JSON_PROMPT, PROSE_PROMPT


def promote_as_last_release(*args: Any, **kwargs: Any) -> Any:
    return promote_prompt(*args, **kwargs)  # mypy knows only `alias=`


def test_the_alias_keyword_and_its_old_name() -> None:
    v1 = register_prompt("support-reply", JSON_PROMPT)
    v2 = register_prompt("support-reply", PROSE_PROMPT)
    assert promote_prompt("support-reply", v1.version, alias="staging").result.alias == "staging"
    with pytest.raises(InvalidInputError, match="got alias='staging' and to='production'"):
        promote_as_last_release("support-reply", v2.version, alias="staging", to="production")
    assert load_prompt("prompts:/support-reply@staging").version == v1.version
    with pytest.warns(LooplineDeprecationWarning, match=r"promote_prompt\(to=\.\.\.\).*alias="):
        out = promote_as_last_release("support-reply", v2.version, to="staging")
    assert out.promoted and load_prompt("prompts:/support-reply@staging").version == v2.version
