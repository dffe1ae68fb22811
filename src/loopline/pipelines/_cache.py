"""Step outputs as artifacts, and the step cache.

Each output is stored content-addressed in the artifact store and recorded as the artifact
`steps/<step>/<output>` of the pipeline run. A step's cache key is the sha256 of its code
hash, its inputs' sha256s and its params; the key is kept as a lineage edge
`step_cache:<key> → step_run:<run>/<step>`, so a lookup is one indexed query in every store
shape (SQLite, PostgreSQL, remote) and needs no table of its own.

Reading the cache never runs code a step's author chose: values are stored as Parquet, JSON,
.npy, a signature's JSON, or skops (models and other objects built only from known library
types, loaded trusting exactly those). Nothing is pickled. A value none of these formats can
hold (an object of a custom class, a lambda) is handed to the next steps of the same run in
memory, is not cached (its `StoredOutput.format` is "memory" and the step's outputs are not
findable by key), and the step's log says so. Outputs cached as pickles by older versions are
never read: a lookup treats them as missing and the step runs again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import pickle
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loopline.errors import LooplineError
from loopline.store import ArtifactStore, MetadataStore

OUTPUT_KIND = "step-output"
LOG_KIND = "step-log"
_EDGE = "step_cache"
_log = logging.getLogger("loopline.pipelines")
MEMORY = "memory"  # not stored: no safe format holds the value
SAFE_FORMATS = ("parquet", "json", "npy", "signature", "skops")


@dataclass(frozen=True)
class StoredOutput:
    name: str
    sha256: str
    size: int
    format: str  # parquet | json | npy | signature | skops | memory (not cached)
    value: Any = field(default=None, repr=False, compare=False)  # only for "memory"

    @property
    def cached(self) -> bool:
        return self.format != MEMORY

    def __reduce__(self) -> tuple[Any, ...]:
        # An in-memory value stays in its process: it is never pickled across.
        return (StoredOutput, (self.name, self.sha256, self.size, self.format))


def encode(value: Any) -> tuple[bytes, str] | None:
    """(bytes, format): DataFrames as Parquet, plain data as canonical JSON, numeric arrays
    as .npy, signatures as JSON, models and other library objects with skops; None when no
    safe format holds the value (it is then not cached)."""
    import numpy as np
    import pandas as pd

    from loopline.models import Signature
    from loopline.models._skops import Unsupported, dump

    if isinstance(value, pd.DataFrame) and all(isinstance(c, str) for c in value.columns):
        buf = io.BytesIO()
        value.to_parquet(buf)
        return buf.getvalue(), "parquet"
    if isinstance(value, np.ndarray) and value.dtype != object:
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return buf.getvalue(), "npy"
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False, separators=(",", ":"))
        if json.loads(text) == value:  # tuples, int keys… would not come back as they went
            return text.encode(), "json"
    except (TypeError, ValueError):
        pass  # not JSON-representable
    if isinstance(value, Signature):
        return json.dumps(value.to_dict(), sort_keys=True).encode(), "signature"
    try:
        data, _ = dump(value)
    except Unsupported:
        return None
    return data, "skops"


def decode(data: bytes, fmt: str) -> Any:
    """The value `encode` stored; never unpickles (old pickled outputs are refused)."""
    if fmt not in SAFE_FORMATS:
        raise LooplineError(
            f"a cached step output in format {fmt!r} is not read: it could run code",
            hint="run the step again (without --from) to store it in a safe format",
        )
    if fmt == "parquet":
        import pandas as pd

        return pd.read_parquet(io.BytesIO(data))
    if fmt == "npy":
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)
    if fmt == "json":
        return json.loads(data)
    if fmt == "signature":
        from loopline.models import Signature

        return Signature.from_dict(json.loads(data))
    from loopline.models._skops import load_cached

    return load_cached(data, "a cached step output")


def _fingerprint(value: Any) -> str:
    """A sha256 standing for an in-memory value in downstream cache keys. Pickling (never
    unpickling) gives a stable one when it can; otherwise the value never matches again."""
    try:
        return hashlib.sha256(b"memory\0" + pickle.dumps(value, protocol=5)).hexdigest()
    except Exception:  # unpicklable (a lambda, a lock): a key no later run will share
        return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def cache_key(
    kind: str, code: str, inputs: Mapping[str, str], params: Mapping[str, Any], outputs: list[str]
) -> str:
    body = {"kind": kind, "code": code, "inputs": dict(inputs), "params": dict(params)}
    body["outputs"] = list(outputs)
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class StepCache:
    """Stores step outputs on a pipeline run and finds earlier ones by cache key."""

    def __init__(self, store: MetadataStore, artifacts: ArtifactStore) -> None:
        self.store = store
        self.artifacts = artifacts

    def put(self, value: Any, name: str) -> StoredOutput:
        encoded = encode(value)
        if encoded is None:
            _log.warning(
                "output %r (%s) is not cached: no safe format (parquet, json, npy, skops) "
                "holds it, and the step cache never pickles",
                name,
                type(value).__name__,
            )
            return StoredOutput(name, _fingerprint(value), 0, MEMORY, value)
        data, fmt = encoded
        sha, size = self.artifacts.put_bytes(data)
        return StoredOutput(name, sha, size, fmt)

    def load(self, out: StoredOutput) -> Any:
        if out.format == MEMORY:
            return out.value
        return decode(self.artifacts.get_bytes(out.sha256), out.format)

    def outputs_of(self, run_id: str, step: str) -> dict[str, StoredOutput]:
        prefix = f"steps/{step}/"
        return {
            a.path[len(prefix) :]: StoredOutput(
                a.path[len(prefix) :], a.sha256, a.size, str(a.meta.get("format", "pickle"))
            )
            for a in self.store.list_artifacts(run_id)
            if a.kind == OUTPUT_KIND and a.path.startswith(prefix)
        }

    def lookup(self, key: str, names: list[str]) -> tuple[str, dict[str, StoredOutput]] | None:
        """(run id, outputs) of the newest run whose step had this key, blobs still present."""
        edges = [e for e in self.store.lineage_edges(_EDGE, key) if e.src_kind == _EDGE]
        for edge in reversed(edges):
            run_id, _, step = edge.dst_id.partition("/")
            found = self.outputs_of(run_id, step)
            if set(names) <= set(found) and all(
                found[n].format in SAFE_FORMATS and self.artifacts.exists(found[n].sha256)
                for n in names
            ):
                return run_id, {n: found[n] for n in names}
        return None

    def record(
        self,
        run_id: str,
        step: str,
        key: str | None,
        outputs: Mapping[str, StoredOutput],
        cached_from: str | None = None,
    ) -> None:
        """Attach the outputs to `run_id`; a fresh result (not from cache) becomes findable,
        unless one of its outputs could only be kept in memory."""
        stored = [out for out in outputs.values() if out.cached]
        for out in stored:
            meta: dict[str, Any] = {"format": out.format, "cache_key": key}
            if cached_from:
                meta["cached_from"] = cached_from
            self.store.record_artifact(
                run_id, f"steps/{step}/{out.name}", OUTPUT_KIND, out.sha256, out.size, meta
            )
        if key is not None and cached_from is None and len(stored) == len(outputs):
            self.store.add_lineage_edge(_EDGE, key, "step_run", f"{run_id}/{step}", "produced")

    def record_log(self, run_id: str, step: str, text: str) -> None:
        sha, size = self.artifacts.put_bytes(text.encode())
        self.store.record_artifact(run_id, f"steps/{step}/log.txt", LOG_KIND, sha, size)


__all__ = [
    "LOG_KIND",
    "MEMORY",
    "OUTPUT_KIND",
    "StepCache",
    "StoredOutput",
    "cache_key",
    "decode",
    "encode",
]
