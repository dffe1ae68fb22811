"""Model URIs users already know from MLflow: `models:/name@alias`, `models:/name/3`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from loopline.errors import InvalidInputError

_MODELS = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>[^/@]+))$")


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        return (
            f"models:/{self.name}@{self.alias}"
            if self.alias
            else f"models:/{self.name}/{self.version}"
        )


def parse_model_uri(uri: str) -> ModelRef:
    """Parse `models:/name@alias`, `models:/name/<n>` or `models:/name/latest` (version 0)."""
    m = _MODELS.match(uri.strip()) if isinstance(uri, str) else None
    if m is None:
        raise InvalidInputError(
            f"{uri!r} is not a model URI",
            hint="write models:/<name>@<alias> (e.g. models:/churn@production) "
            "or models:/<name>/<n>",
        )
    if m["alias"]:
        return ModelRef(m["name"], alias=m["alias"])
    raw = m["version"]
    if raw == "latest":
        return ModelRef(m["name"], version=0)
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInputError(
            f"{uri!r}: version {raw!r} is not a positive whole number",
            hint="versions count from 1; use models:/<name>/latest for the newest",
        )
    return ModelRef(m["name"], version=int(raw))


__all__ = ["ModelRef", "parse_model_uri"]
