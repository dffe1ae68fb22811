from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loopline.stats import DISCRETE_MAX_VALUES, EPSILON, psi

samples = hnp.arrays(np.float64, st.integers(20, 300), elements=st.floats(-1e6, 1e6))


def reference_psi(ref: np.ndarray, cur: np.ndarray, bins: int = 10) -> float:
    """Row-by-row reference: a discrete reference (≤ 50 distinct values) gets a bin per value
    and one per gap around them; otherwise quantile edges. A Python loop to count, the
    textbook sum."""
    support = sorted(set(ref.tolist()))
    if len(support) <= DISCRETE_MAX_VALUES:

        def key(v: float) -> tuple[str, float]:
            return ("at", v) if v in support else ("gap", sum(1 for u in support if u < v))

    else:
        inner = sorted(set(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]).tolist()))

        def key(v: float) -> tuple[str, float]:
            return ("bin", sum(1 for e in inner if v >= e))

    def fractions(values: np.ndarray) -> dict[tuple[str, float], float]:
        out: dict[tuple[str, float], float] = {}
        for v in values.tolist():
            out[key(v)] = out.get(key(v), 0.0) + 1 / len(values)
        return out

    r_frac, c_frac = fractions(ref), fractions(cur)
    total = 0.0
    for k in {**r_frac, **c_frac}:
        r, c = max(r_frac.get(k, 0.0), EPSILON), max(c_frac.get(k, 0.0), EPSILON)
        total += (c - r) * math.log(c / r)
    return total


@settings(max_examples=80, deadline=None)
@given(samples, samples)
def test_psi_matches_the_textbook_loop(ref: np.ndarray, cur: np.ndarray) -> None:
    assert psi(ref, cur) == pytest.approx(reference_psi(ref, cur), abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(samples)
def test_psi_of_a_sample_against_itself_is_zero(ref: np.ndarray) -> None:
    assert psi(ref, ref) == 0.0


def test_a_discrete_reference_gets_a_bin_per_value_and_a_new_value_is_a_new_bin() -> None:
    ref = np.repeat(np.arange(10.0), 50)
    assert psi(ref, ref[::-1]) == 0.0  # the maximum is in its own closed bin, not an open one
    grown = np.repeat(np.arange(11.0), 50)  # 10 never seen in training: its own bin
    share = 1 / 11
    expected = 10 * (share - 0.1) * math.log(share / 0.1) + (share - EPSILON) * math.log(
        share / EPSILON
    )
    assert psi(ref, grown) == pytest.approx(expected, abs=1e-12)


def test_psi_grows_with_the_shift() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=20_000)
    small, big = psi(ref, ref + 0.1), psi(ref, ref + 1.0)
    assert 0.0 < small < 0.1 < 0.2 < big
