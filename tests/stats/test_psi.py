from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from loopline.stats import EPSILON, psi

samples = hnp.arrays(np.float64, st.integers(20, 300), elements=st.floats(-1e6, 1e6))


def reference_psi(ref: np.ndarray, cur: np.ndarray, bins: int = 10) -> float:
    """Row-by-row reference: quantile edges, a Python loop to count, the textbook sum."""
    inner = sorted(set(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]).tolist()))

    def fractions(values: np.ndarray) -> list[float]:
        counts = [0] * (len(inner) + 1)
        for v in values:
            counts[sum(1 for e in inner if v >= e)] += 1
        return [c / len(values) for c in counts]

    total = 0.0
    for r, c in zip(fractions(ref), fractions(cur), strict=True):
        r, c = max(r, EPSILON), max(c, EPSILON)
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


def test_psi_grows_with_the_shift() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(size=20_000)
    small, big = psi(ref, ref + 0.1), psi(ref, ref + 1.0)
    assert 0.0 < small < 0.1 < 0.2 < big
