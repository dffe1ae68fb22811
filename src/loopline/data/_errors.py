"""Errors of the data layer: a contract that cannot be read, data that fails its contract."""

from __future__ import annotations

from loopline.errors import InvalidInputError, LooplineError


class ContractError(InvalidInputError):
    """A contract file or object is malformed (unknown key, wrong type, bad regex, …)."""

    code = "invalid_contract"


class DataReadError(InvalidInputError):
    """A data file is missing, empty, or not what its extension says."""

    code = "unreadable_data"


class ValidationFailedError(LooplineError):
    """Data broke an `error`-severity rule of its contract; the report was kept first."""

    code = "validation_failed"
    http_status = 422


__all__ = ["ContractError", "DataReadError", "ValidationFailedError"]
