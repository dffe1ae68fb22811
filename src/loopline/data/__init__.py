"""Data: contracts, validation, label checks, dataset fingerprints, profiles and file reading.

import loopline as ll
report = ll.validate(df, "contracts/churn.yaml")   # or a Contract built in Python
report.raise_for_errors()                          # ValidationFailedError names column + rule
clean, bad = report.split(df)                      # rows set aside by `quarantine` rules
"""

from loopline.data._attach import validate_for_run
from loopline.data._contract import (
    LOGICAL_TYPES,
    Column,
    Contract,
    Expression,
    Freshness,
    Labels,
    Leakage,
    RowCount,
    RowCountTrend,
    UniqueKeys,
    load_contract,
)
from loopline.data._errors import ContractError, DataReadError, ValidationFailedError
from loopline.data._infer import infer_contract
from loopline.data._io import read_table, write_table
from loopline.data._labels import leakage_suspects, train_test_overlap
from loopline.data._profile import as_frame, fingerprint, profile, schema_of
from loopline.data._quarantine import check_quarantine
from loopline.data._report import RuleResult, ValidationReport
from loopline.data._validate import accepted_row_counts, validate

__all__ = [
    "LOGICAL_TYPES",
    "Column",
    "Contract",
    "ContractError",
    "DataReadError",
    "Expression",
    "Freshness",
    "Labels",
    "Leakage",
    "RowCount",
    "RowCountTrend",
    "RuleResult",
    "UniqueKeys",
    "ValidationFailedError",
    "ValidationReport",
    "accepted_row_counts",
    "as_frame",
    "check_quarantine",
    "fingerprint",
    "infer_contract",
    "leakage_suspects",
    "load_contract",
    "profile",
    "read_table",
    "schema_of",
    "train_test_overlap",
    "validate",
    "validate_for_run",
    "write_table",
]
