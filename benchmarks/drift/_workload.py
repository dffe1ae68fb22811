"""The drift workload shared by both sides (plain numpy/pandas: each venv imports it).

Reference and current frames of ROWS rows x 25 columns: 20 floats `f00..f19` and 5 strings
`s0..s4` with ten levels each. The current frame is shifted in known places so both tools
have something to find: f00-f04 mean shifts of 0.05, 0.1, 0.2, 0.5 and 1.0 standard
deviations, f05 a 1.5x wider spread, s0 re-weighted levels, s1 a new level on 10% of rows.
Everything else is drawn from the reference's distribution. Wide case: WIDE_ROWS x
WIDE_COLUMNS floats, the first 10% shifted by 0.2 sd.

Text storage is explicit so both sides get the same bytes whatever their pandas: `str` is
pandas 3's default (Arrow-backed, `StringDtype("pyarrow", na_value=nan)`, which pandas 2.3 has
too: the Evidently venv runs pandas 2.3); `object` is Python `str` objects (pandas 2's default).
"""

from __future__ import annotations

import ctypes
import json
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

ROWS = 1_000_000
FLOATS = [f"f{i:02d}" for i in range(20)]
STRINGS = [f"s{i}" for i in range(5)]
LEVELS = np.array([f"level_{k}" for k in range(10)], dtype=object)
SHIFTS = {"f00": 0.05, "f01": 0.1, "f02": 0.2, "f03": 0.5, "f04": 1.0}
WIDE_ROWS, WIDE_COLUMNS = 100_000, 1_000
QUICK_ROWS, QUICK_WIDE_ROWS, QUICK_WIDE_COLUMNS = 100_000, 10_000, 100
# case -> text storage of the 1M x 25 frames; both sides time each on the same storage
STORAGE = {"raw_1m_x_25": "str", "raw_1m_x_25_object": "object"}


def text_dtype(strings: str) -> Any:
    """The pandas dtype of `strings` storage ("str": Arrow-backed, "object": Python objects)."""
    if strings == "object":
        return object
    return pd.StringDtype("pyarrow", na_value=np.nan)  # pandas 3's `str`; pandas 2.3 has it too


def make_frames(
    rows: int = ROWS, seed: int = 11, strings: str = "str"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    text = text_dtype(strings)

    def frame(current: bool) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for name in FLOATS:
            loc = SHIFTS.get(name, 0.0) if current else 0.0
            scale = 1.5 if current and name == "f05" else 1.0
            data[name] = rng.normal(loc, scale, rows)
        for name in STRINGS:
            p = np.full(10, 0.1)
            if current and name == "s0":
                p = np.array([0.2, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05])
            codes = rng.choice(10, rows, p=p)
            values = LEVELS[codes]
            if current and name == "s1":
                values = values.copy()
                values[rng.random(rows) < 0.1] = "level_new"
            data[name] = pd.Series(values, dtype=text)
        return pd.DataFrame(data)

    return frame(False), frame(True)


def make_wide(rows: int = WIDE_ROWS, columns: int = WIDE_COLUMNS, seed: int = 12) -> Any:
    """The wide case's frames; the shifted columns are the first tenth of `columns`."""
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame(
        rng.normal(size=(rows, columns)), columns=[f"w{i:04d}" for i in range(columns)]
    )
    cur = pd.DataFrame(rng.normal(size=(rows, columns)), columns=ref.columns)
    cur.iloc[:, : columns // 10] += 0.2
    return ref, cur


def _rss_peak_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """(best seconds of `reps` calls after a warm-up, the last result)."""
    result = fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def reset_peak() -> int:
    """Hand freed memory back to the OS, reset the high-water mark; returns resident KiB."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _rss_kib()


def peak_since(before_kib: int) -> int:
    """Peak resident bytes added since `reset_peak` returned `before_kib` (Linux)."""
    return max(0, _rss_peak_kib() - before_kib) * 1024


def peak_extra(fn: Callable[[], Any]) -> int:
    """Peak resident bytes one call adds on top of what is already in memory."""
    before = reset_peak()
    fn()
    return peak_since(before)


def frame_bytes(*frames: pd.DataFrame) -> int:
    return int(sum(f.memory_usage(deep=True).sum() for f in frames))


def emit(
    tool: str, version: str, results: dict[str, float], notes: list[str], **extra: Any
) -> None:
    print(
        json.dumps(
            {
                "tool": tool,
                "version": version,
                "python": platform.python_version(),
                "results": results,
                "case_notes": extra.pop("case_notes", {}),
                "notes": notes,
                **extra,
            }
        ),
        flush=True,
    )
