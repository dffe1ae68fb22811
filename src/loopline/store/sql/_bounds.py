"""Bounds on what the store accepts: every input a user sends is checked for size, depth and
form before anything is written, so one bad record can never break reads for everyone (a
900-deep model card once made every audit read fail with RecursionError).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from loopline.errors import InvalidInputError

MAX_DEPTH = 16  # nesting of a card, params or a policy: JSON objects/arrays inside each other
MAX_JSON_BYTES = 256 * 1024  # one card or params document
MAX_TEXT = 2000  # a reason, comment or error message
MAX_KEY = 250  # a param, tag or metric name
MAX_VALUE = 8000  # a param or tag value
MAX_ITEMS = 1000  # params or tags in one call


_WINDOW = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": 60, "h": 3_600, "d": 86_400, "w": 604_800}


def window_seconds(spec: str) -> int:
    """'15m', '6h', '1d', '1w' → seconds. The one parser of monitor windows: the store checks
    it on save, so a bad window never reaches a page that lists monitors."""
    m = _WINDOW.match(spec.strip()) if isinstance(spec, str) else None
    if m is None or int(m[1]) == 0:
        raise InvalidInputError(
            f"window {spec!r} is not a duration",
            hint="write a number and a unit: 15m, 6h, 1d or 1w",
        )
    return int(m[1]) * _UNITS[m[2]]


def check_page(
    operation: str,
    limit: int | None,
    before: int | None,
    *,
    maximum: int,
    before_is: str,
    before_hint: str,
) -> None:
    """A listing's paging arguments within the REST route's bounds, so embedded callers meet
    the same rule: `limit` 1..`maximum` (or None for all), `before` a positive id, which
    `before_is` names in the message ("a version number")."""
    if limit is not None and (
        not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= maximum
    ):
        raise InvalidInputError(
            f"{operation}: limit {limit!r} is not between 1 and {maximum:,}",
            hint="pass limit=None for every item, or page with before=",
        )
    if before is not None and (
        not isinstance(before, int) or isinstance(before, bool) or before < 1
    ):
        raise InvalidInputError(
            f"{operation}: before {before!r} is not {before_is}", hint=before_hint
        )


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of `value`, iteratively (never recursing on user data)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            level += 1
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((c, level) for c in children)
    return deepest


def check_document(what: str, value: Mapping[str, Any] | None) -> None:
    """A JSON document (card, policy, params) within MAX_DEPTH and MAX_JSON_BYTES."""
    if value is None:
        return
    if _depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise InvalidInputError(
            f"{what} is nested more than {MAX_DEPTH} levels deep",
            hint="flatten it: keep cards and params to a few levels of plain data",
        )
    try:
        size = len(json.dumps(value, default=str))
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"{what} is not plain JSON data: {exc}", hint="") from None
    if size > MAX_JSON_BYTES:
        raise InvalidInputError(
            f"{what} is {size:,} bytes of JSON, over the {MAX_JSON_BYTES:,} limit",
            hint="store large content as an artifact and link to it",
        )


def check_text(what: str, value: str | None, limit: int = MAX_TEXT) -> None:
    if value is None:
        return
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInputError(
            f"{what} must be text of at most {limit} characters", hint="shorten it"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"{what} holds a lone surrogate, which is not text", hint="send valid UTF-8"
        ) from None


def check_pairs(what: str, pairs: Mapping[str, str]) -> None:
    """Params or tags: bounded count, key and value lengths."""
    if len(pairs) > MAX_ITEMS:
        raise InvalidInputError(
            f"{len(pairs)} {what} in one call, over the {MAX_ITEMS} limit", hint="send fewer"
        )
    for key, value in pairs.items():
        check_text(f"{what[:-1]} name {key[:40]!r}", key, MAX_KEY)
        check_text(f"{what[:-1]} {key[:40]!r}", value, MAX_VALUE)


def check_metrics(what: str, metrics: Mapping[str, float]) -> None:
    if len(metrics) > MAX_ITEMS:
        raise InvalidInputError(f"{what}: too many metrics ({len(metrics)})", hint="send fewer")
    for key, value in metrics.items():
        check_text(f"metric name {key[:40]!r}", key, MAX_KEY)
        # NaN and infinity are numbers here (stored as null, as before); text is not.
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidInputError(
                f"{what}: metric {key!r} must be a number, got {value!r}", hint=""
            )


__all__ = ["check_document", "check_metrics", "check_pairs", "check_text", "window_seconds"]
