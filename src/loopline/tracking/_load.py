"""Loading a logged model by URI: `runs:/<run_id>/<name>` (the registry adds `models:/`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopline.config import load_settings
from loopline.errors import InvalidInputError
from loopline.store import open_artifact_store, open_metadata_store

if TYPE_CHECKING:
    from loopline.models import LoadedModel


def load_model(uri: str, *, allow_unsafe_pickle: bool | None = None) -> LoadedModel:
    """Load a model logged by a run; its sha256 is verified before anything is read. A model
    logged with `unsafe_pickle=True` also needs `allow_unsafe_pickle=True` (or
    `LOOPLINE_ALLOW_UNSAFE_PICKLE=1`) and then runs in a credential-free child process."""
    from loopline.models import load_model as load_package

    prefix = "runs:/"
    if not uri.startswith(prefix) or uri.count("/") < 2:
        raise InvalidInputError(
            f"cannot load model {uri!r}: not a model URI",
            hint="use runs:/<run_id>/<name> (or models:/<name>@<alias> once registered)",
        )
    run_id, _, name = uri[len(prefix) :].partition("/")
    settings = load_settings()
    artifact = open_metadata_store(settings).get_artifact(run_id, name)
    if artifact.kind != "model":
        raise InvalidInputError(
            f"{uri} is a {artifact.kind} artifact, not a model",
            hint="log models with run.log_model(...)",
        )
    return load_package(
        open_artifact_store(settings), artifact.sha256, allow_unsafe_pickle=allow_unsafe_pickle
    )


__all__ = ["load_model"]
