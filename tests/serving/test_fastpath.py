"""The fast path must agree with the exact path whenever it answers."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidInputError
from loopline.models import infer_signature
from loopline.serving._codecs import check_finite, decode_mlflow
from loopline.serving._fastpath import fast_frame, plan_for

TRAIN = pd.DataFrame({"x": [1.0, 2.5, None], "n": [1, 2, 3], "y": [0.5, 0.25, 1.0]})
SIGNATURE = infer_signature(TRAIN)  # x nullable (had a null), n int, y not nullable
PLAN = plan_for(SIGNATURE)
cell = st.one_of(
    st.floats(-1e6, 1e6),
    st.integers(-1000, 1000),
    st.none(),
    st.just("1.5"),
    st.just(float("inf")),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=6))
def test_fast_path_agrees_with_exact_path(rows: list[list[object]]) -> None:
    assert PLAN is not None
    payload = {"dataframe_split": {"columns": ["x", "n", "y"], "data": rows}}
    fast = fast_frame(payload, PLAN)
    try:
        exact = SIGNATURE.check(decode_mlflow(payload, SIGNATURE.input_names))
        check_finite(exact)
    except InvalidInputError:
        assert fast is None  # whatever the exact path refuses, the fast path never accepts
        return
    if fast is not None:
        pd.testing.assert_frame_equal(fast, exact, check_dtype=False)
        assert str(fast["n"].dtype) == "int64"


def test_plan_only_for_all_numeric_signatures() -> None:
    assert plan_for(infer_signature(pd.DataFrame({"a": ["x"], "b": [1.0]}))) is None
    assert plan_for(None) is None
    assert PLAN is not None and PLAN.int_columns == ["n"]


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": ["n", "x", "y"], "data": [[1, 2.0, 3.0]]}},  # reordered
        {"dataframe_records": [{"x": 1.0, "n": 1, "y": 2.0}]},
        {"instances": [{"x": 1.0, "n": 1, "y": 2.0}]},
    ],
)
def test_other_shapes_take_the_exact_path(payload: dict[str, object]) -> None:
    assert PLAN is not None and fast_frame(payload, PLAN) is None
