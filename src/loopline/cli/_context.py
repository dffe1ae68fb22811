"""The stores a CLI command works on, opened once per invocation.

The store modules (SQLAlchemy, the schema) are imported when a command first asks for a
store, so `loopline <noun> --help` never loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopline.config import Settings
    from loopline.store import MetadataStore


def settings() -> Settings:
    from loopline.config import load_settings

    return load_settings()


def store(reap: bool = True) -> MetadataStore:
    """The metadata store; by default first marks runs whose process died as failed/lost."""
    from loopline.config import load_settings
    from loopline.store import open_metadata_store
    from loopline.tracking._liveness import reap_stale_runs

    s = load_settings()
    meta = open_metadata_store(s)
    if reap:
        reap_stale_runs(meta, s.lost_after_s)
    return meta
