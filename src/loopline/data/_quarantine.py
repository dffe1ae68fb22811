"""`--quarantine FILE` only means something when a rule sets rows aside.

Rows are quarantined by rules at severity `quarantine`; an inferred contract has none (every
rule is `error`), so the file written was always empty, and said nothing about the rows that
did fail. `check_quarantine` refuses that case with one line before anything is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from loopline.data._report import ValidationReport
from loopline.errors import InvalidInputError


def check_quarantine(report: ValidationReport, path: str | os.PathLike[str]) -> None:
    """Refuse to write `path` when no rule of the report's contract ran at severity
    `quarantine`: no row could be in it. Names the row rules that failed instead."""
    if any(r.severity == "quarantine" for r in report.rules):
        return
    failed = [r for r in report.rules if r.failed and r.failing_count]
    shown = ", ".join(f"{r.id} ({r.failing_count:,} rows, {r.severity})" for r in failed[:3])
    more = f" and {len(failed) - 3} more" if len(failed) > 3 else ""
    found = f"; failing: {shown}{more}" if failed else ""
    raise InvalidInputError(
        f"--quarantine {Path(path)}: no rule of contract {report.contract!r} has severity "
        f"'quarantine', so no row would be set aside; nothing written{found}",
        hint="give the row rules to set aside 'severity: quarantine' in the contract (per "
        "column: severity: {range: quarantine}), or drop --quarantine",
    )


__all__ = ["check_quarantine"]
