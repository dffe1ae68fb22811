"""The validation report: per rule verdicts with evidence, and the overall verdict."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopline.data._errors import ValidationFailedError
from loopline.data._report_html import render_html

VERDICTS = ("passed", "warned", "quarantined", "failed")
REASONS_COLUMN = "_reasons"
ROW_COLUMN = "_row"


@dataclass(frozen=True)
class RuleResult:
    """One rule: its verdict, how many rows failed, and a few of them."""

    id: str
    rule: str
    column: str | None
    severity: str
    status: str  # passed | failed | skipped
    expectation: str
    message: str = ""
    failing_count: int | None = None
    failing_fraction: float | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    observed: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def one_line(self) -> str:
        where = f"column {self.column!r}" if self.column else "table"
        share = ""
        if self.failing_count and self.failing_fraction is not None:
            share = f" ({self.failing_fraction:.1%} of rows)"
        return f"{where} failed rule '{self.rule}': {self.message}{share}"


@dataclass
class ValidationReport:
    """What `validate` found. `verdict` is passed, warned, quarantined or failed."""

    contract: str | None
    verdict: str
    n_rows: int
    n_columns: int
    rules: list[RuleResult]
    quarantined_rows: int = 0
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    duration_s: float = 0.0
    validated_at: float = 0.0
    source: str | None = None
    fingerprint: str | None = None
    # Row positions to set aside, why, and converted columns: for `split`, not serialised.
    _positions: np.ndarray | None = field(default=None, repr=False, compare=False)
    _reasons: np.ndarray | None = field(default=None, repr=False, compare=False)
    _coerced: dict[str, tuple[pd.Series, str]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def passed(self) -> bool:
        """True unless an `error` rule failed (warnings and quarantined rows still pass)."""
        return self.verdict != "failed"

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.rules if r.failed]

    @property
    def errors(self) -> list[RuleResult]:
        return [r for r in self.rules if r.failed and r.severity == "error"]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.rules if r.failed and r.severity == "warn"]

    def summary(self) -> str:
        """One line: verdict, counts, and the first error if any."""
        counted = [r for r in self.rules if r.status != "skipped"]
        head = (
            f"{self.verdict}: {len(counted) - len(self.failures)}/{len(counted)} rules passed "
            f"on {self.n_rows:,} rows"
        )
        if self.quarantined_rows:
            head += f", {self.quarantined_rows:,} rows quarantined"
        if self.errors:
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            head += f"; {self.errors[0].one_line()}{more}"
        return head

    def raise_for_errors(self, label: str | None = None) -> None:
        """Raise ValidationFailedError naming the first failing column and rule."""
        if self.passed:
            return
        first = self.errors[0]
        more = f" (+{len(self.errors) - 1} more failed rules)" if len(self.errors) > 1 else ""
        subject = f"validation of {label!r}" if label else "validation"
        raise ValidationFailedError(
            f"{subject} failed: {first.one_line()}{more}",
            hint="fix the data or the contract; rules at severity 'quarantine' set bad rows "
            "aside instead of failing",
            details={"failed_rules": [r.id for r in self.errors], "report": self.to_dict()},
        )

    # quarantine ------------------------------------------------------------------------
    def split(self, data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(clean rows, quarantined rows) of the frame that was validated.

        Clean rows carry columns converted to the contract's type where a quarantine-severity
        dtype rule converted them. Quarantined rows keep their original values plus `_row`
        (their index label) and `_reasons` (the failing rule ids).
        """
        if len(data) != self.n_rows:
            from loopline.errors import InvalidInputError

            raise InvalidInputError(
                f"split got {len(data):,} rows but the report is about {self.n_rows:,}",
                hint="split the same frame you validated",
            )
        positions = self._positions if self._positions is not None else np.zeros(0, np.int64)
        keep = np.ones(len(data), dtype=bool)
        keep[positions] = False
        clean = data.iloc[np.flatnonzero(keep)] if len(positions) else data
        if self._coerced:
            clean = clean.assign(**{c: _settle(s[keep], t) for c, (s, t) in self._coerced.items()})
        bad = data.iloc[positions]
        reasons = self._reasons if self._reasons is not None else np.empty(0, dtype=object)
        bad = bad.assign(**{ROW_COLUMN: bad.index.to_numpy(), REASONS_COLUMN: reasons})
        return clean, bad.reset_index(drop=True)

    def write_quarantine(self, data: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
        """Write the quarantined rows (with `_row` and `_reasons`) to .parquet or .csv."""
        from loopline.data._io import write_table

        return write_table(self.split(data)[1], Path(path))

    # serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "verdict": self.verdict,
            "passed": self.passed,
            "n_rows": self.n_rows,
            "n_columns": self.n_columns,
            "quarantined_rows": self.quarantined_rows,
            "duration_s": self.duration_s,
            "validated_at": self.validated_at,
            "source": self.source,
            "fingerprint": self.fingerprint,
            "rules": [asdict(r) for r in self.rules],
            "charts": self.charts,
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=jsonable, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        fields = {k: v for k, v in data.items() if k not in ("passed", "rules")}
        return cls(rules=[RuleResult(**r) for r in data["rules"]], **fields)

    def to_html(self) -> str:
        return render_html(self)


def _settle(series: pd.Series, logical: str) -> pd.Series:
    """A converted column without its quarantined rows: an int column goes back to int64
    (it was float only to hold NaN where values did not convert, and those rows are gone)."""
    if logical == "int" and series.dtype.kind == "f" and not series.isna().any():
        return series.astype("int64")
    return series


def jsonable(value: Any) -> Any:
    """A JSON-safe version of a cell value (numpy scalars, timestamps, NaN → None)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, pd.Timestamp | pd.Timedelta):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is pd.NaT or value is pd.NA:
        return None
    return str(value)


__all__ = ["REASONS_COLUMN", "ROW_COLUMN", "VERDICTS", "RuleResult", "ValidationReport", "jsonable"]
