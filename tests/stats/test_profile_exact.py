"""Issue 16: drift against a stored profile is exact, or it is not used for a verdict.

A profile keeps a discrete column's exact value counts and a continuous column's exact PSI
bins plus a quantile sketch (`loopline.stats.drift_profile`). So PSI, JS and chi-square from
a profile equal the raw ones, the verdict from a profile equals the verdict from the rows,
and KS/Wasserstein from a continuous profile are either exact or within their stated bound
and listed as `approximate` (then a verdict asking for them is `insufficient`).
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy import stats as ss

from loopline.data import profile
from loopline.monitoring._reference import Threshold, judge
from loopline.stats import (
    DISCRETE_MAX_VALUES,
    NumericReference,
    numeric_drift,
    reference_from_profile,
)


def stored_profile(values: Any) -> dict[str, Any]:
    """The column's profile as a store hands it back (a JSON round trip)."""
    col = profile(pd.DataFrame({"x": values}))["columns"]["x"]
    out: dict[str, Any] = json.loads(json.dumps(col))
    return out


def both(ref: Any, cur: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(statistics against the raw rows, statistics against the stored profile)."""
    from_profile = reference_from_profile(stored_profile(ref))
    assert isinstance(from_profile, NumericReference)
    raw = numeric_drift(NumericReference.from_values(np.asarray(ref, dtype="float64")), cur)
    return raw, numeric_drift(from_profile, cur)


def test_an_identical_constant_column_is_not_drift() -> None:
    const = np.full(500, 3.0)
    raw, prof = both(const, const)
    assert prof["ks"] == 0.0 and prof["ks_pvalue"] == 1.0 and prof["psi"] == 0.0
    assert prof["exact"] and raw["ks"] == prof["ks"]
    assert judge(prof, Threshold("ks"))["status"] == "ok"


def test_binary_columns_replayed_from_a_profile_show_no_ks() -> None:
    b = np.random.default_rng(0).integers(0, 2, 5000).astype(float)
    raw, prof = both(b, b)
    assert prof["ks"] == 0.0 and prof["ks_pvalue"] == 1.0  # was KS 0.50, p 0
    assert raw == prof


def test_small_integer_samples_have_scipys_exact_p_value_from_a_profile() -> None:
    rng = np.random.default_rng(1)
    ref, cur = rng.integers(0, 10, 500).astype(float), rng.integers(0, 10, 500).astype(float)
    _, prof = both(ref, cur)
    exact = ss.ks_2samp(ref, cur)
    assert prof["ks"] == exact.statistic and prof["ks_pvalue"] == exact.pvalue


def test_a_new_integer_value_is_the_same_drift_on_both_paths() -> None:
    rng = np.random.default_rng(2)
    ref = rng.integers(0, 10, 2000).astype(float)
    cur = rng.integers(0, 11, 2000).astype(float)
    raw, prof = both(ref, cur)
    assert raw["psi"] == prof["psi"] > 0.2  # 10 is a value training never had: its own bin
    assert judge(raw, Threshold()) == judge(prof, Threshold())


def test_a_tiny_shift_at_a_million_rows_is_not_called_significant_from_a_profile() -> None:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=1_000_000)
    cur = rng.normal(size=1_000_000) + 0.002
    raw, prof = both(ref, cur)
    assert raw["psi"] == prof["psi"] < 0.01
    # KS from the sketch: bounded, flagged, no p-value (was p 1.6e-20 against exact 0.48)
    assert "ks_pvalue" not in prof and "ks" in prof["approximate"]
    assert prof["ks"] <= raw["ks"] <= prof["ks"] + prof["ks_error_bound"]
    verdict = judge(prof, Threshold("ks", 0.001, 0.002))
    assert verdict["status"] == "insufficient" and "save=True" in verdict["reason"]
    assert judge(prof, Threshold()) == judge(raw, Threshold())


def test_an_old_profile_keeps_working_but_decides_nothing() -> None:
    col = stored_profile(np.random.default_rng(4).normal(size=3000))
    old = {k: v for k, v in col.items() if k not in ("value_counts", "psi_bins", "quantile_sketch")}
    ref = reference_from_profile(old)
    assert isinstance(ref, NumericReference)
    out = numeric_drift(ref, np.random.default_rng(5).normal(size=2000))
    assert not out["exact"] and "psi" in out["approximate"]
    verdict = judge(out, Threshold())
    assert verdict["status"] == "insufficient" and "re-log" in verdict["reason"]


def test_profiles_of_a_million_rows_stay_small_and_fast() -> None:
    rng = np.random.default_rng(6)
    n = 1_000_000
    frame = pd.DataFrame(
        {"x": rng.normal(size=n), "heavy": rng.standard_cauchy(n), "k": rng.integers(0, 10, n)}
    )
    start = time.perf_counter()
    cols = profile(frame)["columns"]
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0  # ~0.4 s on a laptop core
    assert "value_counts" in cols["k"] and "quantile_sketch" in cols["x"]
    for c in cols.values():
        assert len(json.dumps(c)) < 8_000


# --- properties ----------------------------------------------------------------------------

KINDS = ("binary", "constant", "integers", "many_integers", "normal", "heavy", "mixed")


def sample(kind: str, n: int, rng: np.random.Generator, shift: float) -> np.ndarray:
    if kind == "binary":
        values = rng.choice(
            [-0.044641636506989, 0.0506801187398187], n, p=[0.5 + shift / 4, 0.5 - shift / 4]
        )
    elif kind == "constant":
        values = np.full(n, 7.25 + (shift > 0.5))
    elif kind == "integers":
        values = rng.integers(0, 10 + int(shift > 0.3), n).astype(float)
    elif kind == "many_integers":  # straddles DISCRETE_MAX_VALUES
        values = rng.integers(0, DISCRETE_MAX_VALUES + 5, n).astype(float) + np.round(shift)
    elif kind == "normal":
        values = rng.normal(shift, 1.0, n)
    elif kind == "heavy":
        values = rng.standard_cauchy(n) + shift
    else:
        values = np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(shift, 1.0, n))
    return values


def with_gaps(values: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    out = values.astype("float64").copy()
    holes = rng.random(out.size) < share
    out[holes] = rng.choice([np.nan, np.inf, -np.inf], int(holes.sum()), p=[0.8, 0.1, 0.1])
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS),
    n_ref=st.integers(1, 3000),
    n_cur=st.integers(1, 1500),
    shift=st.sampled_from([0.0, 0.0, 0.05, 0.2, 0.6, 1.0]),
    gaps=st.sampled_from([0.0, 0.0, 0.1, 0.5]),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_stored_profile_gives_the_raw_verdict(
    kind: str, n_ref: int, n_cur: int, shift: float, gaps: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    ref = with_gaps(sample(kind, n_ref, rng, 0.0), rng, gaps)
    cur = with_gaps(sample(kind, n_cur, rng, shift), rng, gaps)
    if not np.isfinite(ref).any():
        assert reference_from_profile(stored_profile(ref)) is None
        return
    raw, prof = both(ref, cur)
    event("exact from the profile" if prof.get("exact") else "sketch")
    assert raw["n_cur"] == prof["n_cur"] and raw["n_ref"] == prof["n_ref"]
    if raw["n_cur"] == 0:
        assert prof == raw
        return
    # PSI, JS and chi-square: the same counts on the same bins, so the same numbers
    for key in ("psi", "js", "chi2", "chi2_pvalue"):
        assert prof[key] == pytest.approx(raw[key], abs=1e-9), key
    for th in (Threshold(), Threshold("js", 0.05, 0.1), Threshold("chi2", 10, 50)):
        assert judge(prof, th) == judge(raw, th)
    assert raw["exact"] and not raw["approximate"]
    if prof["exact"]:  # discrete, or few enough rows that the sketch holds every value
        for key in ("ks", "ks_pvalue", "wasserstein"):
            assert prof[key] == raw[key], key
        for th in (Threshold("ks"), Threshold("wasserstein", 0.5, 1.0)):
            assert judge(prof, th) == judge(raw, th)
        return
    assert np.unique(ref[np.isfinite(ref)]).size > DISCRETE_MAX_VALUES
    assert prof["approximate"] == ["ks", "wasserstein"] and "ks_pvalue" not in prof
    assert prof["ks"] - 1e-12 <= raw["ks"] <= prof["ks"] + prof["ks_error_bound"] + 1e-12
    assert prof["ks_error_bound"] <= 1 / 256 + 1e-12
    w_gap = abs(prof["wasserstein"] - raw["wasserstein"])
    assert w_gap <= prof["wasserstein_error_bound"] * (1 + 1e-9) + 1e-12
    verdict = judge(prof, Threshold("ks"))
    assert raw["n_cur"] < 50 or (verdict["status"] == "insufficient" and verdict["reason"])
