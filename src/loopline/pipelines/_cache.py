"""Step outputs as artifacts, and the step cache.

Each output is stored content-addressed in the artifact store and recorded as the artifact
`steps/<step>/<output>` of the pipeline run. A step's cache key is the sha256 of its code
hash, its inputs' sha256s and its params; the key is kept as a lineage edge
`step_cache:<key> → step_run:<run>/<step>`, so a lookup is one indexed query in every store
shape (SQLite, PostgreSQL, remote) and needs no table of its own.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loopline.store import ArtifactStore, MetadataStore

OUTPUT_KIND = "step-output"
LOG_KIND = "step-log"
_EDGE = "step_cache"


@dataclass(frozen=True)
class StoredOutput:
    name: str
    sha256: str
    size: int
    format: str  # parquet | json | npy | pickle


def encode(value: Any) -> tuple[bytes, str]:
    """(bytes, format): DataFrames as Parquet, plain data as canonical JSON, numeric arrays
    as .npy, anything else (models, signatures) pickled."""
    import numpy as np
    import pandas as pd

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
        pass  # not JSON-representable: fall through to pickle, the format of last resort
    return pickle.dumps(value, protocol=5), "pickle"


def decode(data: bytes, fmt: str) -> Any:
    """The value `encode` stored. Pickles come only from this store's verified blobs."""
    if fmt == "parquet":
        import pandas as pd

        return pd.read_parquet(io.BytesIO(data))
    if fmt == "npy":
        import numpy as np

        return np.load(io.BytesIO(data), allow_pickle=False)
    if fmt == "json":
        return json.loads(data)
    return pickle.loads(data)


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
        data, fmt = encode(value)
        sha, size = self.artifacts.put_bytes(data)
        return StoredOutput(name, sha, size, fmt)

    def load(self, out: StoredOutput) -> Any:
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
                self.artifacts.exists(found[n].sha256) for n in names
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
        """Attach the outputs to `run_id`; a fresh result (not from cache) becomes findable."""
        for out in outputs.values():
            meta: dict[str, Any] = {"format": out.format, "cache_key": key}
            if cached_from:
                meta["cached_from"] = cached_from
            self.store.record_artifact(
                run_id, f"steps/{step}/{out.name}", OUTPUT_KIND, out.sha256, out.size, meta
            )
        if key is not None and cached_from is None:
            self.store.add_lineage_edge(_EDGE, key, "step_run", f"{run_id}/{step}", "produced")

    def record_log(self, run_id: str, step: str, text: str) -> None:
        sha, size = self.artifacts.put_bytes(text.encode())
        self.store.record_artifact(run_id, f"steps/{step}/log.txt", LOG_KIND, sha, size)


__all__ = ["LOG_KIND", "OUTPUT_KIND", "StepCache", "StoredOutput", "cache_key", "decode", "encode"]
