"""The tracking API: `start_run` and the `ActiveRun` handle it returns."""

from __future__ import annotations

import atexit
import os
import random
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from loopline.config import Settings, load_settings
from loopline.errors import InvalidInputError, LooplineError
from loopline.store import (
    Artifact,
    ArtifactStore,
    Dataset,
    MetadataStore,
    dumps_param,
    open_artifact_store,
    open_metadata_store,
    warm_up,
)
from loopline.tracking._buffer import MetricBuffer
from loopline.tracking._lineage import capture_lineage, package_freeze

if TYPE_CHECKING:
    import pandas as pd

    from loopline.data import Contract
    from loopline.models import Signature

_ParamValue = str | int | float | bool | None
_active: list[ActiveRun] = []
_active_lock = threading.Lock()


@dataclass(frozen=True)
class ModelInfo:
    """A model logged by a run: load it with `ll.load_model(info.uri)`."""

    uri: str
    run_id: str
    name: str
    sha256: str
    flavor: str


def _check_key(kind: str, key: object) -> str:
    if not isinstance(key, str) or not key or len(key) > 256:
        raise InvalidInputError(
            f"{kind} name {key!r} must be a non-empty string of at most 256 characters",
            hint=f"name the {kind} with a short string such as 'auc'",
        )
    return key


class ActiveRun:
    """A run in progress. Use it as a context manager so it always ends with a status."""

    def __init__(
        self, store: MetadataStore, artifacts: ArtifactStore, settings: Settings, run_id: str
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self.id = run_id
        self._steps: dict[str, int] = {}
        self._ended = False
        # The embedded store packs a batch's columns as they are; through a team server the
        # points travel as JSON, so as tuples.
        remote = bool(settings.url)
        # One-off costs paid here rather than in the writer thread while the training loop
        # waits for the GIL: the store's first lookup of each method (~160 µs), the first
        # packing of a batch (NumPy's first calls, ~100-200 µs) and the heartbeat's first
        # statement compilation (~600 µs; the beat itself is harmless, the run just began).
        log_metrics, heartbeat = store.log_metrics, store.heartbeat
        if not remote:
            warm_up()
            heartbeat(run_id)
        self._buffer = MetricBuffer(
            write=lambda batch: log_metrics(run_id, list(batch) if remote else batch),
            heartbeat=lambda: heartbeat(run_id),
            flush_every=settings.flush_every_points,
            interval_s=settings.flush_interval_s,
            switch_interval_s=settings.writer_switch_interval_s,
        )

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id!r})"

    # metrics -------------------------------------------------------------------------
    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: float | None = None
    ) -> None:
        """Record one point. Buffered: costs about a microsecond and never waits for the
        store (a background thread writes batches; see `flush` for durability).

        NaN and infinite values are refused (InvalidInputError) rather than stored, so
        every stored metric can be compared, charted and gated on.
        """
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"metric {key!r} value {value!r} is not a number", hint="log a float or int"
            ) from None
        if v - v != 0.0:  # true only for NaN and ±inf, cheaper than math.isfinite + branch
            raise InvalidInputError(
                f"metric {key!r} at step {step} is {v}: non-finite values are not stored",
                hint="check the computation (a diverging loss?) or log a finite sentinel",
            )
        last = self._steps.get(key)
        if last is None:
            _check_key("metric", key)  # once per key: the hot path stays a dict lookup
            last = -1
        if step is None:
            step = last + 1
        ts = time.time() if timestamp is None else float(timestamp)
        self._buffer.add(key, v, int(step), ts)
        self._steps[key] = step  # after: a refused point does not move the next step

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record several metrics at one step."""
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def flush(self) -> None:
        """Return once every point logged so far is stored (raises if the store refuses).

        Points are otherwise written by a background thread within a second
        (`flush_interval_s`), when `flush_every_points` accumulate, and at run end or
        interpreter exit; a process killed outright loses at most those not yet written.
        Call this after `log_metric` where a point must survive such a crash."""
        self._buffer.flush()

    # params and tags ------------------------------------------------------------------
    def log_param(self, key: str, value: _ParamValue) -> None:
        self.log_params({key: value})

    def log_params(self, params: dict[str, _ParamValue]) -> None:
        """Params are fixed once logged: logging a different value for a key is refused."""
        self._store.log_params(self.id, _params(params))

    def set_tag(self, key: str, value: str) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, str]) -> None:
        self._store.set_tags(self.id, {_check_key("tag", k): str(v) for k, v in tags.items()})

    # data, files, models ---------------------------------------------------------------
    def log_dataset(
        self,
        data: Any,
        name: str,
        role: str = "training",
        source: str | None = None,
        save: bool = False,
        contract: Contract | str | os.PathLike[str] | None = None,
    ) -> Dataset:
        """Fingerprint and profile `data` and link it to this run; copy it only if `save`.

        With a `contract`, the data is validated first: the report is stored as the artifact
        `validation/<name>.json` and the run is tagged `validation.<name>` = passed, warned,
        quarantined or failed. A failed `error` rule raises ValidationFailedError after that
        record is written, and the data is not registered as a dataset version (so it does not
        count as an accepted batch for the row-count trend rule).
        """
        from loopline.data import as_frame, fingerprint, profile, schema_of, validate_for_run

        df = as_frame(data)
        digest = fingerprint(df)
        if contract is not None:
            _check_key("dataset", name)
            validate_for_run(df, contract, name, digest, self.id, self._store, self._artifacts)
        blob = None
        if save:
            import io

            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            blob, _ = self._artifacts.put_bytes(buf.getvalue())
        record = {
            "fingerprint": digest,
            "name": _check_key("dataset", name),
            "n_rows": len(df),
            "n_columns": len(df.columns),
            "schema": schema_of(df),
            "profile": profile(df),
            "source": source,
            "artifact_sha256": blob,
        }
        return self._store.record_dataset_use(self.id, record, name, role)

    def log_artifact(self, path: str | os.PathLike[str], name: str | None = None) -> list[Artifact]:
        """Store a file (or every file under a folder) content-addressed; returns the records."""
        src = Path(path)
        if not src.exists():
            raise InvalidInputError(
                f"artifact {str(src)!r} does not exist", hint="check the path (relative to cwd)"
            )
        base = name or src.name
        files = [src] if src.is_file() else sorted(p for p in src.rglob("*") if p.is_file())
        out = []
        for f in files:
            logical = base if f == src else f"{base}/{f.relative_to(src).as_posix()}"
            digest, size = self._artifacts.put_file(f)
            out.append(self._store.record_artifact(self.id, logical, "file", digest, size))
        return out

    def log_model(
        self,
        model: Any,
        name: str = "model",
        signature: Signature | None = None,
        input_example: pd.DataFrame | None = None,
        *,
        unsafe_pickle: bool = False,
    ) -> ModelInfo:
        """Save `model` (sklearn, LightGBM, XGBoost or anything with `predict`).

        Estimators are stored with skops, boosters natively; a model only pickle can hold (a
        custom class) is refused unless `unsafe_pickle=True`, which the model's manifest and
        card record, and which loaders must match with `allow_unsafe_pickle=True`."""
        from loopline.models import save_model

        package = save_model(
            model,
            self._artifacts,
            signature=signature,
            input_example=input_example,
            unsafe_pickle=unsafe_pickle,
        )
        manifest = package.manifest
        meta: dict[str, Any] = {
            "flavor": package.flavor,
            "serialization": manifest["serialization"],
            "unsafe_pickle": manifest["unsafe_pickle"],
            "trusted_types": manifest["trusted_types"],
        }
        if package.signature is not None:
            meta["signature"] = package.signature.to_dict()
        self._store.record_artifact(self.id, name, "model", package.sha256, package.size, meta)
        return ModelInfo(f"runs:/{self.id}/{name}", self.id, name, package.sha256, package.flavor)

    # lifecycle -----------------------------------------------------------------------
    def end(self, status: str = "finished", error: str | None = None) -> None:
        """Flush everything and record the final status. Idempotent."""
        if self._ended:
            return
        self._ended = True
        with _active_lock:
            if self in _active:
                _active.remove(self)
        try:
            self._buffer.close()
        finally:
            self._store.finish_run(self.id, status, error)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end("finished")
        elif isinstance(exc, KeyboardInterrupt):
            self.end("failed", "interrupted (KeyboardInterrupt)")
        else:
            self.end("failed", f"{type(exc).__name__}: {exc}"[:4000])


def _params(params: dict[str, _ParamValue] | None) -> dict[str, str]:
    if not params:
        return {}
    return {_check_key("param", k): dumps_param(v) for k, v in params.items()}


def start_run(
    experiment: str = "default",
    params: dict[str, _ParamValue] | None = None,
    tags: dict[str, str] | None = None,
    name: str | None = None,
    seed: int | None = None,
) -> ActiveRun:
    """Start a tracked run. Lineage (git, environment, host) is captured automatically.

    `seed`, if given, is recorded and applied to Python's and NumPy's global generators.
    """
    settings = load_settings()
    store = open_metadata_store(settings)
    artifacts = open_artifact_store(settings)
    if seed is not None:
        import numpy as np

        random.seed(seed)
        np.random.seed(seed % 2**32)
    lineage = capture_lineage(seed)
    # The package list is stored once per environment; its sha256 is the run's packages_hash.
    artifacts.put_bytes(package_freeze())
    run = store.create_run(
        experiment, name, _params(params), {k: str(v) for k, v in (tags or {}).items()}, lineage
    )
    active = ActiveRun(store, artifacts, settings, run.id)
    with _active_lock:
        _active.append(active)
    return active


def active_run() -> ActiveRun | None:
    """The most recently started run that has not ended, if any."""
    with _active_lock:
        return _active[-1] if _active else None


@atexit.register
def _end_open_runs() -> None:
    # A script that never closed its run: finished on a clean exit, failed after an
    # uncaught exception (the interpreter sets sys.last_value before atexit runs).
    crashed = getattr(sys, "last_value", None)
    for run in list(_active):
        try:
            if crashed is not None:
                run.end("failed", f"{type(crashed).__name__}: {crashed}"[:4000])
            else:
                run.end("finished")
        except LooplineError as exc:
            # The interpreter is exiting: say why the run stays open instead of dropping it
            # silently; the next `loopline` command marks it failed (its pid is gone).
            print(f"loopline: could not close run {run.id[:8]}: {exc}", file=sys.stderr)


__all__ = ["ActiveRun", "ModelInfo", "active_run", "start_run"]
