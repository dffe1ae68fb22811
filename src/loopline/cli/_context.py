"""The stores a CLI command works on, opened once per invocation."""

from __future__ import annotations

from loopline.config import Settings, load_settings
from loopline.store import MetadataStore, open_metadata_store
from loopline.tracking._liveness import reap_stale_runs


def settings() -> Settings:
    return load_settings()


def store(reap: bool = True) -> MetadataStore:
    """The metadata store; by default first marks runs whose process died as failed/lost."""
    s = load_settings()
    meta = open_metadata_store(s)
    if reap:
        reap_stale_runs(meta, s.lost_after_s)
    return meta
