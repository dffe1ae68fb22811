"""`renamed_keywords`: last release's keyword works one more release, with a warning naming
the new one; both names with different values is refused before the function runs."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import pytest

from loopline._renamed import LooplineDeprecationWarning, renamed_keywords
from loopline.errors import InvalidInputError

calls: list[tuple[str, int, str]] = []


@renamed_keywords(name="model", to="alias")
def promote(model: str, version: int, alias: str = "production") -> tuple[str, int, str]:
    calls.append((model, version, alias))
    return model, version, alias


def old(**kwargs: Any) -> Any:
    """Call `promote` the way last release's code did (mypy knows only the new names)."""
    return promote(**kwargs)


def test_new_names_and_positional_calls_pass_through_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert promote("churn", 3) == ("churn", 3, "production")
        assert promote("churn", 3, "staging") == ("churn", 3, "staging")
        assert promote(model="churn", version=3, alias="staging") == ("churn", 3, "staging")


def test_an_old_keyword_does_what_the_new_one_does_and_names_it() -> None:
    with pytest.warns(LooplineDeprecationWarning) as caught:
        assert old(name="churn", version=3, to="staging") == ("churn", 3, "staging")
    messages = [str(w.message) for w in caught]
    assert messages == [
        "promote(name=...) is deprecated and goes in the next release; pass model=... instead",
        "promote(to=...) is deprecated and goes in the next release; pass alias=... instead",
    ]
    assert all(w.filename == __file__ for w in caught)  # points at the caller's line
    assert issubclass(LooplineDeprecationWarning, DeprecationWarning)


def test_old_and_new_with_the_same_value_is_accepted_with_the_warning() -> None:
    with pytest.warns(LooplineDeprecationWarning, match=r"pass alias=\.\.\. instead"):
        assert old(model="churn", version=3, alias="staging", to="staging")[2] == "staging"
    with pytest.warns(LooplineDeprecationWarning):  # the new one given positionally
        assert promote("churn", 3, "staging", to="staging")[2] == "staging"  # type: ignore[call-arg]


def test_old_and_new_with_different_values_is_refused_before_anything_runs() -> None:
    calls.clear()
    with pytest.raises(InvalidInputError, match=r"promote\(\) got alias='staging' and to='prod'"):
        old(model="churn", version=3, alias="staging", to="prod")
    with pytest.raises(InvalidInputError, match="got model='churn' and name='other'"):
        promote("churn", 3, name="other")  # type: ignore[call-arg]
    # The old name of a *default* parameter also counts when the default is given explicitly.
    with pytest.raises(InvalidInputError, match="got alias='production' and to='staging'"):
        old(model="churn", version=3, alias="production", to="staging")
    assert calls == []


def test_the_signature_is_the_new_one() -> None:
    assert list(inspect.signature(promote).parameters) == ["model", "version", "alias"]
    with pytest.raises(AssertionError, match="has no parameter"):
        renamed_keywords(to="alais")(promote)
