"""Every input the store accepts is bounded, and a refused one changes nothing."""

from __future__ import annotations

import pytest

from loopline.errors import InvalidInputError
from loopline.store import Lineage
from tests.security.conftest import Become, dump


def test_a_bad_monitor_window_is_refused_before_it_is_stored(become: Become) -> None:
    """Finding: one bad monitor `window` string makes `/`, `/monitoring` and the deployment
    page 422 for all users (it was stored, and every reader parsed it)."""
    mle = become("erin", "ml-engineer")
    before = dump()
    with pytest.raises(InvalidInputError, match="window 'soon' is not a duration"):
        mle.save_monitor(
            "models:/loan@production",
            model="loan",
            window="soon",
            config={},
            schedule=None,
            actor="x",
        )
    assert dump() == before


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        ({"k" * 300: "v"}, "at most 250"),
        ({"k": "v" * 9000}, "at most 8000"),
        ({f"k{i}": "v" for i in range(1001)}, "over the 1000 limit"),
        ({"k": "\ud800"}, "lone surrogate"),
    ],
)
def test_params_and_tags_are_bounded(become: Become, pairs: dict[str, str], match: str) -> None:
    """Finding: cards, params, tags and reasons are unbounded."""
    ds = become("dana", "data-scientist")
    run = ds.create_run("e", None, {}, {}, Lineage())
    before = dump()
    for call in (ds.log_params, ds.set_tags):
        with pytest.raises(InvalidInputError, match=match):
            call(run.id, pairs)
    assert dump() == before
