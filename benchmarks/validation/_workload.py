"""The validation workload shared by every side (plain numpy/pandas: each peer venv imports it).

1,000,000 rows by 26 columns: `id` (unique integers), 20 float columns, 5 string columns with
ten levels each. `id` is sparse by default: random 63-bit integers, as real keys (hashes,
snowflake ids) are. A dense permutation of 0..n-1 is a labelled second case only: it lets a
uniqueness check take a shortcut (min, max and length prove it), so it understates the cost.
78 checks: dtype and not-null on every column (52), `id` unique (1), a range per float (20),
an allowed set per string (5); plus the exact column list. The data passes every check, as
production data usually does, so the timing is the cost of *checking*, not of reporting
failures.
"""

from __future__ import annotations

import ctypes
import gc
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

ROWS = 1_000_000
FLOATS = [f"f{i:02d}" for i in range(20)]
STRINGS = [f"s{i}" for i in range(5)]
COLUMNS = ["id", *FLOATS, *STRINGS]
LEVELS = [f"level_{k}" for k in range(10)]
LOW, HIGH = -10.0, 10.0  # every float is drawn inside these bounds
TIMES = "\N{MULTIPLICATION SIGN}"
CHECKS = 2 * len(COLUMNS) + 1 + len(FLOATS) + len(STRINGS)


@dataclass(frozen=True)
class Case:
    strings: str = "str"  # "str" (pandas 3 default, Arrow-backed) or "object" (Python str)
    ids: str = "sparse"  # "sparse" (random 63-bit) or "dense" (a shuffled 0..n-1)
    threads: int | None = None  # Loopline's column pool: None = its default, 1 = one thread


# case name -> workload, in table order. Every side runs every case; the peers, which have no
# parallel option for pandas, run `*_1_thread` exactly as the case it pins Loopline down for.
CASES = {
    "arrow_strings": Case(),
    "arrow_strings_1_thread": Case(threads=1),
    "arrow_strings_dense_ids": Case(ids="dense"),
    "object_strings": Case(strings="object"),
}


def sparse_ids(rng: np.random.Generator, rows: int) -> np.ndarray:
    """`rows` distinct random non-negative int64 values (spread over 63 bits)."""
    ids = rng.integers(0, np.iinfo(np.int64).max, rows, dtype=np.int64)
    while len(np.unique(ids)) < rows:  # a collision: ~rows^2 / 2^64, so practically never
        ids = rng.integers(0, np.iinfo(np.int64).max, rows, dtype=np.int64)
    return ids


def make_frame(
    rows: int = ROWS, seed: int = 7, strings: str = "str", ids: str = "sparse"
) -> pd.DataFrame:
    """`strings`: "str" (pandas 3 default: Arrow-backed when pyarrow is installed) or "object"
    (Python str objects, what pandas 2 and many readers produce). `ids`: "sparse" or "dense"."""
    rng = np.random.default_rng(seed)
    key = sparse_ids(rng, rows) if ids == "sparse" else rng.permutation(rows).astype("int64")
    data: dict[str, Any] = {"id": key}
    for name in FLOATS:
        data[name] = np.clip(rng.normal(0.0, 2.0, rows), LOW + 1e-9, HIGH - 1e-9)
    levels = np.array(LEVELS, dtype=object)
    for name in STRINGS:
        # pandas 3 stores text as Arrow-backed `str` when pyarrow is installed (every side has it)
        data[name] = levels[rng.integers(0, len(LEVELS), rows)]
    frame = pd.DataFrame(data)
    if strings == "object":  # the constructor infers `str`; undo that explicitly
        frame = frame.astype({name: object for name in STRINGS})
    return frame


def _rss_peak_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))


def _rss_kib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


def measure(validate: Callable[[], Any], reps: int) -> tuple[float, int]:
    """(best seconds of `reps`, peak extra resident bytes of one call).

    The peak is the kernel's high-water mark of resident memory, reset just before the call
    (writing 5 to /proc/self/clear_refs), minus the resident size at that moment: what
    validating costs on top of the DataFrame already in memory (Linux only).
    """
    validate()  # warm-up: imports, caches, first-call compilation
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        validate()
        best = min(best, time.perf_counter() - t0)
    # Hand memory the allocator kept from earlier calls back to the OS first, so the next
    # call's allocations show up in the high-water mark instead of reusing retained pages.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = _rss_kib()
    validate()
    return best, max(0, _rss_peak_kib() - before) * 1024


QUICK_ROWS = 100_000


def run_cases(
    tool: str,
    version: str,
    build: Callable[[pd.DataFrame, Case], Callable[[], Any]],
    reps: int,
    quick: bool = False,
    notes: tuple[str, ...] = (),
) -> None:
    """Time `build(frame, case)()` on each case's frame and print the side's JSON line."""
    results: dict[str, float] = {}
    memory: dict[str, dict[str, float]] = {}
    out = list(notes)
    rows = QUICK_ROWS if quick else ROWS
    for name, case in CASES.items():
        frame = make_frame(rows, strings=case.strings, ids=case.ids)
        seconds, extra = measure(build(frame, case), reps)
        size = int(frame.memory_usage(deep=True).sum())
        ratio = (size + extra) / size
        results[name] = seconds
        memory[name] = {"frame_bytes": size, "peak_extra_bytes": extra, "ratio": ratio}
        if case.threads is None:  # the pinned runs repeat their case's memory
            out.append(
                f"{tool}, `{name}`: peak memory while validating = the DataFrame "
                f"({size / 2**20:.0f} MiB) + {extra / 2**20:.1f} MiB = {ratio:.2f}{TIMES} its "
                "size."
            )
        del frame
        gc.collect()
    line = {
        "tool": tool,
        "version": version,
        "python": platform.python_version(),
        "results": results,
        "case_notes": dict.fromkeys(results, f"{rows:,} rows (--quick)") if quick else {},
        "notes": out,
        "memory": memory,
    }
    print(json.dumps(line), flush=True)
