"""JSON output checks shared by the JSON guardrail and the json_schema evaluator."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from loopline.errors import InvalidInputError

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.S | re.I)


def check_schema(schema: Mapping[str, Any], where: str) -> None:
    """Refuse an invalid JSON Schema up front, naming where it came from."""
    import jsonschema

    try:
        jsonschema.validators.validator_for(schema).check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        raise InvalidInputError(
            f"{where}: the JSON schema is invalid: {exc.message}",
            hint="see https://json-schema.org for the format",
        ) from None


def json_problem(text: str, schema: Mapping[str, Any] | None) -> str | None:
    """Why `text` is not a JSON document valid under `schema`, or None when it is."""
    import jsonschema

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    if schema is None:
        return None
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"schema violation at {where}: {error.message}"


def strip_fence(text: str) -> str | None:
    """The body of a ```json fenced block, or None when `text` is not one."""
    m = _FENCE.match(text)
    return m.group(1) if m else None


__all__ = ["check_schema", "json_problem", "strip_fence"]
