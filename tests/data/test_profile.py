from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loopline.data import as_frame, fingerprint, profile
from loopline.errors import InvalidInputError

floats = hnp.arrays(
    np.float64,
    st.integers(1, 200),
    elements=st.one_of(st.floats(-1e9, 1e9), st.just(float("nan"))),
)


@settings(max_examples=60, deadline=None)
@given(floats)
def test_numeric_profile_matches_numpy(values: np.ndarray) -> None:
    col = profile(pd.DataFrame({"x": values}))["columns"]["x"]
    finite = values[np.isfinite(values)]
    assert col["null_count"] == int(np.isnan(values).sum())
    assert col["null_fraction"] == pytest.approx(np.isnan(values).mean())
    assert col["count"] == finite.size
    if finite.size:
        assert col["min"] == finite.min() and col["max"] == finite.max()
        assert col["quantiles"]["0.5"] == pytest.approx(np.quantile(finite, 0.5))
        assert sum(col["histogram"]["counts"]) == finite.size
        q = list(col["quantiles"].values())
        assert q == sorted(q)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=100))
def test_categorical_profile_counts(values: list[str | None]) -> None:
    col = profile(pd.DataFrame({"c": values}))["columns"]["c"]
    present = [v for v in values if v is not None]
    assert col["kind"] == "categorical"
    assert col["top"] == {k: present.count(k) for k in set(present)}
    assert col["null_count"] == len(values) - len(present)


@settings(max_examples=40, deadline=None)
@given(floats)
def test_fingerprint_is_content_not_identity(values: np.ndarray) -> None:
    df = pd.DataFrame({"x": values})
    assert fingerprint(df) == fingerprint(df.copy().reset_index(drop=True))
    assert fingerprint(df) != fingerprint(df.rename(columns={"x": "y"}))
    changed = df.copy()
    changed.iloc[0, 0] = 0.0 if values[0] != 0.0 else 1.0
    assert fingerprint(df) != fingerprint(changed)


def test_fingerprint_sees_dtype_changes() -> None:
    a = pd.DataFrame({"x": [1, 2, 3]})
    assert fingerprint(a) != fingerprint(a.astype("float64"))


def test_as_frame_accepts_arrow_and_numpy_and_refuses_junk() -> None:
    table = pa.table({"a": [1, 2]})
    assert list(as_frame(table)["a"]) == [1, 2]
    assert list(as_frame(np.zeros((2, 3))).columns) == ["0", "1", "2"]
    with pytest.raises(InvalidInputError, match="cannot read a dict"):
        as_frame({"a": 1})
