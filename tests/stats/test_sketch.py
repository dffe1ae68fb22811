"""Mergeable drift summaries: merging partitions in any order equals one pass, bit for bit;
PSI, JS and the categorical statistics equal the in-memory ones; KS and Wasserstein lie
within the reported error bound of the exact in-memory values."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopline.errors import InvalidInputError
from loopline.stats import (
    FrameSummary,
    SketchPlan,
    drift_frame,
    merge_all,
    prepare_references,
    reference_from_profile,
)

RNG = np.random.default_rng(7)
REFERENCE = pd.DataFrame(
    {
        "x": RNG.normal(size=20_000),
        "k": RNG.integers(0, 5, size=20_000).astype("float64"),  # heavy ties
        "c": RNG.choice(["a", "b", "c"], size=20_000),
    }
)
PLAN = SketchPlan(prepare_references(REFERENCE))


def current(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(loc=shift, scale=1.0 + shift, size=n)
    x[rng.random(n) < 0.01] = np.nan  # missing values are left out, as in memory
    return pd.DataFrame(
        {
            "x": x,
            "k": rng.integers(0, 6, size=n).astype("float64"),
            "c": rng.choice(["a", "b", "c", "new"], size=n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def cuts(n: int, points: list[int]) -> list[tuple[int, int]]:
    edges = sorted({0, n, *(p % (n + 1) for p in points)})
    return list(itertools.pairwise(edges))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 3_000),
    seed=st.integers(0, 2**16),
    points=st.lists(st.integers(0, 3_000), max_size=8),
    order=st.randoms(use_true_random=False),
)
def test_merging_partitions_in_any_order_equals_one_pass(
    n: int, seed: int, points: list[int], order: object
) -> None:
    frame = current(n, seed)
    one_pass = PLAN.summarize(frame)
    parts = [PLAN.summarize(frame.iloc[a:b]) for a, b in cuts(n, points)]
    order.shuffle(parts)  # type: ignore[attr-defined]
    merged = merge_all(parts)
    assert merged == one_pass
    # ...and a tree of merges (as a cluster would do it) is the same again
    if len(parts) > 2:
        half = len(parts) // 2
        assert merge_all(parts[:half]).merge(merge_all(parts[half:])) == one_pass
    assert PLAN.drift(merged) == PLAN.drift(one_pass)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 500))
def test_summaries_survive_json(seed: int, n: int) -> None:
    summary = PLAN.summarize(current(n, seed))
    assert FrameSummary.from_dict(summary.as_dict()) == summary


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.7])
def test_statistics_match_in_memory(shift: float) -> None:
    frame = current(200_000, 3, shift)
    refs = prepare_references(REFERENCE)
    exact = drift_frame(refs, frame)
    sketch = PLAN.drift(
        merge_all(
            [PLAN.summarize(frame.iloc[i : i + 30_000]) for i in range(0, len(frame), 30_000)]
        )
    )
    for col in ("x", "k"):
        e, s = exact[col], sketch[col]
        assert (s["n_ref"], s["n_cur"]) == (e["n_ref"], e["n_cur"])
        assert s["psi"] == e["psi"] and s["js"] == e["js"]  # same counts, same arithmetic
        assert s["cur_fractions"] == e["cur_fractions"]
        # the exact KS lies in [ks, ks + bound]; Wasserstein within ± bound
        assert s["ks"] <= e["ks"] + 1e-12 <= s["ks"] + s["ks_error_bound"] + 2e-12
        assert abs(s["wasserstein"] - e["wasserstein"]) <= s["wasserstein_error_bound"] + 1e-12
        assert s["exact"] is False and s["method"] == "sketch"
    # a discrete column's values all sit on grid edges: KS and W1 are exact
    assert sketch["k"]["ks"] == pytest.approx(exact["k"]["ks"], abs=1e-12)
    assert sketch["k"]["wasserstein"] == pytest.approx(exact["k"]["wasserstein"], abs=1e-9)
    # continuous data: the bounds are small next to the statistics they qualify
    assert sketch["x"]["ks_error_bound"] < 0.001
    w = exact["x"]["wasserstein"]
    assert abs(sketch["x"]["wasserstein"] - w) < max(0.001, 0.005 * w)
    e, s = exact["c"], sketch["c"]
    for key in ("psi", "js", "chi2", "chi2_pvalue"):
        assert s[key] == pytest.approx(e[key], rel=1e-12)
    assert (s["chi2_dof"], s["unseen"], s["n_cur"]) == (e["chi2_dof"], e["unseen"], e["n_cur"])


def test_shift_shows_in_every_statistic() -> None:
    calm = PLAN.drift(PLAN.summarize(current(50_000, 1)))["x"]
    moved = PLAN.drift(PLAN.summarize(current(50_000, 1, shift=0.7)))["x"]
    for key in ("psi", "js", "ks", "wasserstein"):
        assert moved[key] > 5 * calm[key]


def test_empty_partition_merges_as_identity() -> None:
    some = PLAN.summarize(current(100, 2))
    empty = PLAN.summarize(current(100, 2).iloc[:0])
    assert empty.merge(some) == some == some.merge(empty)
    assert PLAN.drift(empty)["x"] == {"kind": "numeric", "n_ref": 20_000, "n_cur": 0}


def test_profile_reference_is_refused_with_a_fix() -> None:
    ref = reference_from_profile(
        {"kind": "numeric", "histogram": {"edges": [0.0, 1.0, 2.0], "counts": [3, 4]}}
    )
    assert ref is not None
    with pytest.raises(InvalidInputError, match="needs a reference built from values"):
        SketchPlan({"x": ref})


def test_summaries_of_different_plans_do_not_merge() -> None:
    other = SketchPlan(prepare_references(REFERENCE[["x"]]))
    with pytest.raises(InvalidInputError, match="different columns"):
        PLAN.summarize(current(10, 1)).merge(other.summarize(current(10, 1)))
