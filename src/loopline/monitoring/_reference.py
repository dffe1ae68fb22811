"""The training reference of a model version, and how a drift statistic becomes a verdict.

Reference: the version's training dataset (role "training", else its first dataset). When the
run saved the rows (`log_dataset(..., save=True)`) they are loaded; otherwise the stored
profile is used. Either way PSI, JS and chi-square are the same numbers (the profile keeps the
exact PSI bins, and a discrete column's exact value counts), so the verdict is the same;
KS and Wasserstein are exact from rows and from a discrete column's profile, approximate (with
an error bound) from a continuous column's profile (see `loopline.stats._drift`).

Verdicts, per feature and window (defaults; each overridable per feature):
- a window with fewer than `min_rows` (50) rows is `insufficient`: no verdict, no alert;
- PSI ≥ 0.1 is `warning`, PSI ≥ 0.2 is `critical` (the thresholds teams quote);
- on windows under 1,000 rows PSI is noisy, so the shift must also be significant: the
  chi-square homogeneity test on the PSI bins (the categories for categorical columns),
  p < 0.05. It is computed from the same bin counts on every path (KS's p-value is not: a
  profile of a continuous column cannot give it exactly);
- a statistic the reference cannot compute faithfully (KS or Wasserstein of a continuous
  column against a profile; anything against a profile written before exact drift bins)
  gives no verdict: `insufficient`, with a `reason` saying how to get one.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from loopline.errors import InvalidInputError
from loopline.stats import Reference, reference_from_profile, reference_from_values
from loopline.store import DatasetUse, MetadataStore, ModelVersion, open_artifact_store

STATS = ("psi", "js", "ks", "wasserstein", "chi2")
MIN_ROWS = 50
SMALL_WINDOW = 1_000
P_VALUE = 0.05


@dataclass(frozen=True)
class Threshold:
    stat: str = "psi"
    warn: float = 0.1
    alert: float = 0.2

    @classmethod
    def parse(cls, spec: Mapping[str, Any] | None, where: str = "") -> Threshold:
        spec = dict(spec or {})
        base = cls()
        stat = str(spec.get("stat", base.stat))
        if stat not in STATS:
            raise InvalidInputError(
                f"unknown drift statistic {stat!r}{where}", hint=f"use one of {', '.join(STATS)}"
            )
        warn = float(spec.get("warn", base.warn))
        alert = float(spec.get("alert", max(base.alert, warn)))
        if not 0 <= warn <= alert:
            raise InvalidInputError(
                f"drift thresholds{where} need 0 ≤ warn ≤ alert, got warn={warn}, alert={alert}",
                hint="e.g. {'warn': 0.1, 'alert': 0.2}",
            )
        return cls(stat, warn, alert)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(stats: Mapping[str, Any], th: Threshold, min_rows: int = MIN_ROWS) -> dict[str, Any]:
    """The verdict on one feature's statistics: ok, warning, critical or insufficient (then
    with a `reason`)."""
    n = int(stats.get("n_cur", 0))
    value = stats.get(th.stat)
    out: dict[str, Any] = {"stat": th.stat, "value": value, "warn": th.warn, "alert": th.alert}
    if n < min_rows:
        reason = f"{n} rows in the window, fewer than min_rows={min_rows}"
        return {**out, "status": "insufficient", "reason": reason}
    if th.stat in (stats.get("approximate") or ()):
        reason = str(stats.get("approximate_reason") or f"{th.stat} is not exact here")
        return {**out, "status": "insufficient", "reason": reason}
    if value is None:
        reason = f"no {th.stat} for this column (no values to compare, or not its kind)"
        return {**out, "status": "insufficient", "reason": reason}
    # chi-square on the PSI bins: the same counts from rows and from a profile
    pvalue = stats.get("chi2_pvalue", stats.get("ks_pvalue"))
    significant = n >= SMALL_WINDOW or pvalue is None or pvalue < P_VALUE
    level = "critical" if value >= th.alert else "warning" if value >= th.warn else "ok"
    return {**out, "status": level if significant else "ok", "significant": significant}


def training_dataset(store: MetadataStore, version: ModelVersion) -> DatasetUse:
    uses = store.run_datasets(version.run_id)
    if not uses:
        raise InvalidInputError(
            f"{version.uri} has no logged dataset to compare with",
            hint="log the training data in its run: run.log_dataset(df, name='train')",
        )
    training = [u for u in uses if u.role == "training"]
    return (training or uses)[0]


def references(
    store: MetadataStore, version: ModelVersion, columns: list[str] | None = None
) -> tuple[dict[str, Reference], dict[str, Any]]:
    """Column → reference, plus where it came from (dataset, rows, exact or profiled)."""
    use = training_dataset(store, version)
    ds = use.dataset
    profile_cols: dict[str, Any] = ds.profile.get("columns", {})
    wanted = [c for c in (columns or list(profile_cols)) if c in profile_cols]
    info = {"dataset": use.name, "fingerprint": ds.fingerprint, "rows": ds.n_rows}
    if ds.artifact_sha256:
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(open_artifact_store().get_bytes(ds.artifact_sha256)))
        refs = {c: reference_from_values(frame[c]) for c in wanted if c in frame.columns}
        return refs, {**info, "source": "data"}
    refs = {}
    for c in wanted:
        ref = reference_from_profile(profile_cols[c])
        if ref is not None:
            refs[c] = ref
    return refs, {**info, "source": "profile"}


def feature_names(version: ModelVersion) -> list[str] | None:
    """The model's input columns from its signature (None when it has none)."""
    sig = version.signature or {}
    names = [c.get("name") for c in sig.get("inputs", []) if isinstance(c, dict)]
    return [str(n) for n in names if n] or None


def output_kind(version: ModelVersion) -> str | None:
    out = (version.signature or {}).get("output") or {}
    kind = out.get("kind") if isinstance(out, dict) else None
    return str(kind) if kind else None


__all__ = [
    "MIN_ROWS",
    "STATS",
    "Threshold",
    "feature_names",
    "judge",
    "output_kind",
    "references",
    "training_dataset",
]
