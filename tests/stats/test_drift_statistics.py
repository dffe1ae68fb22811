"""Every drift statistic against scipy's own implementation (where scipy has it), on
hypothesis-generated samples with ties, outliers and unequal sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.spatial.distance as ssd
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loopline.stats import (
    EPSILON,
    CategoricalReference,
    NumericReference,
    chi2_contingency_2xk,
    column_drift,
    drift_frame,
    js_distance,
    ks_2samp,
    prepare_references,
    psi,
    psi_categorical,
    wasserstein_distance,
)

# Rounded values give plenty of ties, the case where naive ECDF code goes wrong.
values = st.floats(-1e3, 1e3).map(lambda x: round(x, 1))
samples = hnp.arrays(np.float64, st.integers(1, 400), elements=values)
counts = st.lists(st.integers(0, 500), min_size=2, max_size=12)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(1.0, abs(b))


@pytest.mark.filterwarnings("ignore:ks_2samp:RuntimeWarning")  # scipy's own fallback notice
@settings(max_examples=100, deadline=None)
@given(samples, samples)
def test_ks_equals_scipy(a: np.ndarray, b: np.ndarray) -> None:
    ours, theirs = ks_2samp(a, b), ss.ks_2samp(a, b)
    assert close(ours.statistic, theirs.statistic) and close(ours.pvalue, theirs.pvalue)


@pytest.mark.parametrize(("n1", "n2", "shift"), [(20_000, 15_000, 0.02), (12_001, 30, 0.5)])
def test_ks_equals_scipy_in_the_asymptotic_regime(n1: int, n2: int, shift: float) -> None:
    rng = np.random.default_rng(n1)
    a, b = np.round(rng.normal(size=n1), 2), np.round(rng.normal(shift, size=n2), 2)
    ours, theirs = ks_2samp(a, b), ss.ks_2samp(a, b)
    assert ours.statistic == theirs.statistic and close(ours.pvalue, theirs.pvalue)


@settings(max_examples=100, deadline=None)
@given(samples, samples)
def test_wasserstein_equals_scipy(a: np.ndarray, b: np.ndarray) -> None:
    assert close(wasserstein_distance(a, b), ss.wasserstein_distance(a, b))


@settings(max_examples=100, deadline=None)
@given(counts, st.data())
def test_js_distance_equals_scipy(p: list[int], data: st.DataObject) -> None:
    q = data.draw(st.lists(st.integers(0, 500), min_size=len(p), max_size=len(p)))
    if sum(p) == 0 or sum(q) == 0:
        return
    for base in (None, 2.0):
        assert close(js_distance(p, q, base=base), float(ssd.jensenshannon(p, q, base=base)))


@settings(max_examples=100, deadline=None)
@given(counts, st.data())
def test_chi2_contingency_equals_scipy(r: list[int], data: st.DataObject) -> None:
    c = data.draw(st.lists(st.integers(0, 500), min_size=len(r), max_size=len(r)))
    keep = [i for i in range(len(r)) if r[i] + c[i] > 0]
    if sum(r) == 0 or sum(c) == 0 or len(keep) < 2:
        return
    ours = chi2_contingency_2xk(r, c)
    table = np.array([[r[i] for i in keep], [c[i] for i in keep]])
    stat, p, dof, _ = ss.chi2_contingency(table, correction=False)
    assert close(ours.statistic, stat) and close(ours.pvalue, p) and ours.dof == dof


def test_unseen_categories_are_counted_not_dropped() -> None:
    ref = CategoricalReference.from_values(["a"] * 50 + ["b"] * 50)
    out = column_drift(ref, ["a"] * 40 + ["b"] * 40 + ["c"] * 20)
    assert out["unseen"] == ["c"] and out["n_cur"] == 100
    # c: (0.2 - eps) * ln(0.2 / eps) dominates; dropping it would report almost no drift
    assert out["psi"] > (0.2 - EPSILON) * np.log(0.2 / EPSILON) * 0.9
    assert out["chi2_pvalue"] < 1e-4
    assert psi_categorical([50, 50, 0], [40, 40, 20]) == pytest.approx(out["psi"])


def test_numeric_reference_from_values_matches_psi_and_scipy() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=3000), rng.normal(0.3, 1.2, size=2500)
    out = column_drift(NumericReference.from_values(ref), cur)
    assert out["psi"] == pytest.approx(psi(ref, cur), abs=1e-12)
    assert out["ks"] == ss.ks_2samp(ref, cur).statistic
    assert close(out["wasserstein"], ss.wasserstein_distance(ref, cur)) and out["exact"]


def test_profile_reference_gives_exact_psi_and_bounded_ks() -> None:
    from loopline.data import profile

    rng = np.random.default_rng(4)
    ref, cur = rng.normal(size=20_000), rng.normal(0.5, 1.0, size=5_000)
    col = profile(pd.DataFrame({"x": ref}))["columns"]["x"]
    approx = column_drift(NumericReference.from_profile(col), cur)
    exact = column_drift(NumericReference.from_values(ref), cur)
    assert not approx["exact"] and approx["approximate"] == ["ks", "wasserstein"]
    assert "ks_pvalue" not in approx  # no faithful p-value from a sketch
    for key in ("psi", "js", "chi2", "chi2_pvalue"):
        assert approx[key] == exact[key]
    assert approx["ks"] <= exact["ks"] <= approx["ks"] + approx["ks_error_bound"]
    assert approx["ks_error_bound"] <= 1 / 256
    assert abs(approx["wasserstein"] - exact["wasserstein"]) <= approx["wasserstein_error_bound"]
    same = column_drift(NumericReference.from_profile(col), rng.normal(size=5_000))
    assert same["psi"] < 0.05


def test_values_beyond_the_training_range_land_in_open_outer_bins() -> None:
    from loopline.data import profile

    col = profile(pd.DataFrame({"x": np.linspace(0, 1, 1000)}))["columns"]["x"]
    out = column_drift(NumericReference.from_profile(col), np.full(200, 5.0))
    assert out["cur_fractions"][-1] == 1.0 and out["psi"] > 1


def test_drift_frame_runs_every_column_with_prepared_references() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"n": rng.normal(size=2000), "c": rng.choice(["x", "y"], 2000)})
    cur = pd.DataFrame({"n": rng.normal(1.0, size=1500), "c": rng.choice(["x", "y", "z"], 1500)})
    direct, prepared = drift_frame(ref, cur), drift_frame(prepare_references(ref), cur)
    assert direct == prepared
    assert direct["n"]["psi"] > 0.2 and direct["c"]["unseen"] == ["z"]
    assert set(direct["n"]) >= {"psi", "js", "ks", "ks_pvalue", "wasserstein"}
    assert set(direct["c"]) >= {"psi", "js", "chi2", "chi2_pvalue"}


def test_empty_or_nan_samples_are_refused_or_skipped() -> None:
    with pytest.raises(ValueError, match="finite"):
        ks_2samp([np.nan], [1.0])
    out = column_drift(NumericReference.from_values([1.0, 2.0]), [np.nan, np.inf])
    assert out["n_cur"] == 0 and "psi" not in out


def test_statistics_refuse_empty_evidence_and_follow_scipy_on_infinities() -> None:
    """Issue 16: `stats.psi` of an all-NaN sample returned 9.21 instead of raising, and
    `wasserstein_distance([0, 1, inf], [0, 1])` returned 0.0 (scipy: inf)."""
    import math

    import numpy as np
    import pytest
    from scipy import stats as sps

    from loopline.stats import psi, wasserstein_distance

    with pytest.raises(ValueError, match="finite value"):
        psi([np.nan] * 50, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="finite value"):
        psi([1.0, 2.0, 3.0], [np.nan, np.inf])
    for u, v in [
        ([0, 1, math.inf], [0, 1]),
        ([0, 1], [0, -math.inf]),
        ([0, math.inf], [1, math.inf]),
    ]:
        want = sps.wasserstein_distance(u, v)
        got = wasserstein_distance(u, v)
        assert (math.isnan(want) and math.isnan(got)) or got == want, (u, v, got, want)
    assert wasserstein_distance([0, 1, math.inf], [0, 1]) == math.inf
