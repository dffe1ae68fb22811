"""One input column of a signature, and the error a malformed signature raises.

Its own module because the signature (`_signature`) and the conforming of frames to it
(`_conform`, which `_signature` calls) both need it: here it sits below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loopline.errors import InvalidInputError
from loopline.models._frames import JsonScalar, json_scalars


def malformed(what: str) -> InvalidInputError:
    return InvalidInputError(
        f"signature is malformed: {what}",
        hint="build it with infer_signature() or Signature.to_dict(), not by hand",
    )


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, its dtype name and, for a category column, its categories."""

    name: str
    dtype: str
    categories: tuple[JsonScalar, ...] | None = None
    # False when the training data had no missing values in this column: the model never
    # learned what a missing value means, so requests with one are refused (MLflow's
    # "required" columns work the same way).
    nullable: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "dtype": self.dtype}
        if self.categories is not None:
            out["categories"] = list(self.categories)
        if not self.nullable:
            out["nullable"] = False
        return out

    @classmethod
    def from_dict(cls, data: Any) -> ColumnSpec:
        if not isinstance(data, dict):
            raise malformed(f"an input column must be an object, got {data!r}")
        name, dtype, categories = data.get("name"), data.get("dtype"), data.get("categories")
        if not isinstance(name, str) or not isinstance(dtype, str) or not dtype:
            raise malformed(f"an input column needs a string name and dtype, got {data!r}")
        nullable = data.get("nullable", True)
        if not isinstance(nullable, bool):
            raise malformed(f"'nullable' of column {name!r} must be true or false")
        if categories is None:
            return cls(name, dtype, None, nullable)
        scalars = json_scalars(categories) if isinstance(categories, list) else None
        if scalars is None:
            raise malformed(f"the categories of column {name!r} must be a list of scalars")
        return cls(name, dtype, scalars, nullable)


__all__ = ["ColumnSpec", "malformed"]
