"""Server errors for the error-rate SLO, read from a scoring server's Prometheus `/metrics`.

Capture holds answered requests only, so failures are counted where the server counts them:
`loopline_requests_total{code=...}`. Counters are cumulative since the server started; the
monitor keeps the last reading and reports the difference (a counter that went down means the
server restarted, and the new reading counts from zero).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from loopline.errors import InvalidInputError

# Label values may hold braces (route="/v2/models/{name}/infer"): up to the last one.
_LINE = re.compile(r"^loopline_requests_total\{(?P<labels>.*)\}\s+(?P<value>[0-9.eE+-]+)$")
_CODE = re.compile(r'code="(\d+)"')


def parse_requests(text: str) -> dict[str, float]:
    """{'requests', 'errors' (5xx), 'client_errors' (4xx)} summed over routes and arms."""
    out = {"requests": 0.0, "errors": 0.0, "client_errors": 0.0}
    for line in text.splitlines():
        m = _LINE.match(line.strip())
        if m is None:
            continue
        code = _CODE.search(m["labels"])
        value = float(m["value"])
        out["requests"] += value
        if code and code[1].startswith("5"):
            out["errors"] += value
        elif code and code[1].startswith("4"):
            out["client_errors"] += value
    return out


def error_counts(
    url: str, before: Mapping[str, float] | None
) -> tuple[dict[str, Any], dict[str, float]]:
    """(counts since the `before` reading, the new reading)."""
    import httpx

    try:
        text = httpx.get(url, timeout=10).raise_for_status().text
    except httpx.HTTPError as exc:
        raise InvalidInputError(
            f"cannot read the server's metrics at {url}: {exc}",
            hint="check metrics_url (the scoring server's /metrics) or leave it unset",
        ) from None
    now = parse_requests(text)
    restarted = before is None or now["requests"] < before.get("requests", 0.0)
    base = {k: 0.0 for k in now} if restarted or before is None else before
    delta = {k: now[k] - base.get(k, 0.0) for k in now}
    return {**delta, "source": url, "since_restart": restarted}, now


__all__ = ["error_counts", "parse_requests"]
