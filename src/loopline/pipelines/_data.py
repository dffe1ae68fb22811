"""Dataset versions as pipeline inputs: publish a batch (which a `new-data` trigger notices)
and load a version back inside a step."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from loopline.errors import InvalidInputError, NotFoundError
from loopline.store import Dataset, open_artifact_store, open_metadata_store

if TYPE_CHECKING:
    import pandas as pd


def publish_dataset(data: Any, name: str, *, source: str | None = None) -> Dataset:
    """Record `data` as a new version of dataset `name`, with its rows saved, from a small
    run in the experiment `datasets` (the run is the version's provenance)."""
    from loopline.tracking import start_run

    with start_run("datasets", tags={"loopline.kind": "dataset"}, name=f"publish {name}") as run:
        return run.log_dataset(data, name=name, role="published", source=source, save=True)


def load_dataset(ref: str) -> pd.DataFrame:
    """The rows of a dataset version: `ref` is a fingerprint (or a prefix of at least 6
    characters) or a dataset name (its newest version)."""
    import pandas as pd

    store = open_metadata_store()
    try:
        ds = store.get_dataset(ref)
    except NotFoundError:
        versions = store.list_datasets(ref)
        if not versions:
            raise NotFoundError(
                f"no dataset version or dataset named {ref!r}",
                hint="see `loopline data versions NAME` for names and fingerprints",
            ) from None
        ds = versions[0]
    if ds.artifact_sha256 is None:
        raise InvalidInputError(
            f"dataset version {ds.name} {ds.fingerprint[:12]} was recorded without its rows",
            hint="publish it with loopline.pipelines.publish_dataset (or log_dataset(save=True))",
        )
    return pd.read_parquet(io.BytesIO(open_artifact_store().get_bytes(ds.artifact_sha256)))


__all__ = ["load_dataset", "publish_dataset"]
