"""The data contract: what a table must look like, in YAML or built in Python.

Models forbid unknown keys and use strict scalar types, so a typo (`mni: 0`) or a wrong type
(`nullable: "no"`) is an error naming the file, line and key rather than a silently ignored
rule. Severity is resolved per rule: the column's map entry, else the column's default, else
the contract's default.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from loopline.data._expr import expression_columns
from loopline.data._yaml import dump_yaml, load_model_file, parse_model

Severity = Literal["error", "warn", "quarantine"]
TableSeverity = Literal["error", "warn"]
ColumnRule = Literal[
    "present", "dtype", "not_null", "null_fraction", "range", "allowed", "regex", "length", "unique"
]
Bound = StrictInt | StrictFloat | datetime | date
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat
Fraction = Annotated[float, Field(ge=0.0, le=1.0, strict=True)]
Count = Annotated[int, Field(ge=0, strict=True)]
Positive = Annotated[int, Field(ge=1, strict=True)]

# Rules whose failures are individual rows, so those rows can be set aside (quarantined).
ROW_RULES = frozenset(
    {"dtype", "not_null", "range", "allowed", "regex", "length", "unique", "unique_keys", "expr"}
)
LOGICAL_TYPES = ("int", "float", "number", "bool", "string", "category", "datetime", "any")
_ALIASES = {
    **{t: "int" for t in ("integer", "int8", "int16", "int32", "int64", "long")},
    **{t: "int" for t in ("uint8", "uint16", "uint32", "uint64")},
    **{t: "float" for t in ("float16", "float32", "float64", "double", "real")},
    **{"numeric": "number", "boolean": "bool", "str": "string", "text": "string"},
    **{"categorical": "category", "timestamp": "datetime", "datetime64": "datetime"},
    **{"datetime64[ns]": "datetime", "datetime64[us]": "datetime", "date": "datetime"},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Model):
    """Rules for one column. Omitted rules are not checked."""

    dtype: StrictStr | None = None
    required: StrictBool = True
    nullable: StrictBool = True
    max_null_fraction: Fraction | None = None
    min: Bound | None = None
    max: Bound | None = None
    allowed: list[Scalar] | None = None
    regex: StrictStr | None = None
    min_length: Count | None = None
    max_length: Count | None = None
    unique: StrictBool = False
    severity: Severity | dict[ColumnRule, Severity] | None = None
    description: StrictStr | None = None

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str | None) -> str | None:
        if value is None:
            return None
        logical = _ALIASES.get(value.lower(), value.lower())
        if logical not in LOGICAL_TYPES:
            raise ValueError(f"unknown dtype {value!r}; use one of {', '.join(LOGICAL_TYPES)}")
        return logical

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"regex {value!r} does not compile: {exc}") from None
        return value

    @field_validator("severity")
    @classmethod
    def _row_rules_only(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for rule, sev in value.items():
                if sev == "quarantine" and rule not in ROW_RULES:
                    raise ValueError(f"rule {rule!r} is not about single rows: use error or warn")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        if self.min is not None and self.max is not None and _gt(self.min, self.max):
            raise ValueError(f"min {self.min!r} is greater than max {self.max!r}")
        if (self.min_length or 0) > (self.max_length if self.max_length is not None else 1 << 62):
            raise ValueError(f"min_length {self.min_length} is greater than max_length")
        return self


def _gt(a: Bound, b: Bound) -> bool:
    try:
        return bool(pd.Timestamp(a) > pd.Timestamp(b)) if isinstance(a, date) else bool(a > b)  # type: ignore[operator]
    except TypeError:
        raise ValueError("min and max must both be numbers or both be dates") from None


class RowCount(_Model):
    min: Count | None = None
    max: Count | None = None
    severity: TableSeverity | None = None


class RowCountTrend(_Model):
    """Row count within `tolerance` (0.1 = ±10%) of the mean of the last `window` accepted
    batches (see `accepted_row_counts`)."""

    window: Positive = 30
    tolerance: Annotated[float, Field(gt=0.0, strict=True)] = 0.1
    min_batches: Positive = 3
    severity: TableSeverity | None = None


class Freshness(_Model):
    """The newest value of a timestamp column is at most `max_age` old ('6h', '2d', '1w')."""

    column: StrictStr
    max_age: StrictStr
    severity: TableSeverity | None = None

    @field_validator("max_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


class UniqueKeys(_Model):
    """No two rows share the same values in `columns` (nulls never collide)."""

    columns: Annotated[list[StrictStr], Field(min_length=1)]
    severity: Severity | None = None


class Expression(_Model):
    """A row rule written as a vectorised expression, e.g. `amount >= 0 or status == 'refund'`."""

    name: StrictStr
    expr: StrictStr
    severity: Severity | None = None
    description: StrictStr | None = None

    @field_validator("expr")
    @classmethod
    def _safe(cls, value: str) -> str:
        expression_columns(value)
        return value


class Leakage(_Model):
    """Leakage suspects: features predicting the target alone, or named/timed after it."""

    threshold: Fraction = 0.98
    as_of: StrictStr | None = None
    exclude: list[StrictStr] = Field(default_factory=list)
    check_names: StrictBool = True
    severity: TableSeverity | None = None


class Labels(_Model):
    """Checks for training data with a target column."""

    target: StrictStr
    classes: list[Scalar] | None = None
    min_class_fraction: Fraction | None = None
    max_class_fraction: Fraction | None = None
    max_null_fraction: Fraction = 0.0
    split_keys: list[StrictStr] | None = None
    leakage: Leakage | None = Field(default_factory=Leakage)
    severity: TableSeverity | None = None


class Contract(_Model):
    """A data contract. Build it in Python or load it with `Contract.from_yaml(path)`."""

    name: StrictStr | None = None
    description: StrictStr | None = None
    severity: Severity = "error"
    columns: dict[StrictStr, Column] = Field(default_factory=dict)
    strict: StrictBool = False
    row_count: RowCount | None = None
    row_count_trend: RowCountTrend | None = None
    freshness: Freshness | None = None
    unique_keys: UniqueKeys | None = None
    expressions: list[Expression] = Field(default_factory=list)
    labels: Labels | None = None
    source: StrictStr | None = Field(default=None, exclude=True)  # file it was read from

    @model_validator(mode="after")
    def _unique_expression_names(self) -> Contract:
        names = [e.name for e in self.expressions]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"expression names must be unique; repeated: {', '.join(dupes)}")
        return self

    # severity --------------------------------------------------------------------------
    def severity_of(self, rule: str, column: str | None = None, own: str | None = None) -> str:
        """The severity a rule runs with; row-level defaults of `quarantine` stay row-level."""
        spec = self.columns.get(column) if column is not None else None
        chosen: str | None = own
        if chosen is None and spec is not None and spec.severity is not None:
            chosen = (
                spec.severity.get(rule)  # type: ignore[call-overload]
                if isinstance(spec.severity, dict)
                else spec.severity
            )
        chosen = chosen or self.severity
        # A missing column or a too-null column cannot be fixed by dropping rows.
        return "error" if chosen == "quarantine" and rule not in ROW_RULES else chosen

    def with_severity(self, severity: Severity, replace: str = "error") -> Contract:
        """A copy in which every row rule now at `replace` severity runs at `severity` instead.

        `contract.with_severity("quarantine")` is how a pipeline says "set bad rows aside and
        carry on" without editing the contract file; table rules keep failing the step.
        """
        columns: dict[str, Column] = {}
        for name, spec in self.columns.items():
            mapping: dict[str, str] = {}
            for rule in ("dtype", "not_null", "range", "allowed", "regex", "length", "unique"):
                current = self.severity_of(rule, name)
                mapping[rule] = severity if current == replace else current
            for rule in ("present", "null_fraction"):
                mapping[rule] = self.severity_of(rule, name)
            columns[name] = spec.model_copy(update={"severity": mapping})
        update: dict[str, Any] = {"columns": columns}
        if (
            self.unique_keys is not None
            and self.severity_of("unique_keys", own=self.unique_keys.severity) == replace
        ):
            update["unique_keys"] = self.unique_keys.model_copy(update={"severity": severity})
        update["expressions"] = [
            e.model_copy(update={"severity": severity})
            if self.severity_of("expr", own=e.severity) == replace
            else e
            for e in self.expressions
        ]
        return self.model_copy(update=update)

    # files ------------------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Contract:
        return load_model_file(cls, Path(path))

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "<contract>") -> Contract:
        return parse_model(cls, text, source)

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
        if self.labels is not None and self.labels.leakage is None:
            data.setdefault("labels", {})["leakage"] = None  # keep "leakage checks off" explicit
        return dump_yaml(data)

    def save(self, path: str | os.PathLike[str]) -> Path:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.to_yaml(), encoding="utf-8")
        return out


def parse_duration(text: str) -> pd.Timedelta:
    """'90s', '15m', '6h', '2d', '1w', '1 day 2 hours', or ISO 8601 'P2D'."""
    try:
        value = pd.Timedelta(text.strip())
    except (ValueError, TypeError):
        raise ValueError(
            f"max_age {text!r} is not a duration; write e.g. '6h', '2d' or '1w'"
        ) from None
    if pd.isna(value) or value <= pd.Timedelta(0):
        raise ValueError(f"max_age {text!r} must be a positive duration")
    return value


def load_contract(contract: Contract | str | os.PathLike[str]) -> Contract:
    """A contract object as is, or the contract at a path."""
    return contract if isinstance(contract, Contract) else Contract.from_yaml(contract)


__all__ = [
    "LOGICAL_TYPES",
    "ROW_RULES",
    "Column",
    "Contract",
    "Expression",
    "Freshness",
    "Labels",
    "Leakage",
    "RowCount",
    "RowCountTrend",
    "UniqueKeys",
    "load_contract",
    "parse_duration",
]
