"""A served model that can be swapped while requests are in flight.

`ModelSlot.current` is one attribute holding an immutable `Served` tuple: a request reads
it once and uses that model to the end, so a swap (one reference assignment, atomic in
Python) never mixes two versions in one answer and never drops a request.

`AliasWatcher` polls the store for the alias's holder. When it moves (promotion or
rollback) the new version is loaded in the background, verified (sha256 of every file,
then a smoke prediction on the stored input example or the last served rows), and only
then swapped in. A failed load keeps the old model serving and is recorded as an audit
event `serving.swap_failed` and in `/metrics`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from loopline.errors import LooplineError
from loopline.models import LoadedModel
from loopline.registry import get_version, load_model, parse_model_uri
from loopline.store import ModelVersion


@dataclass(frozen=True)
class Served:
    model: LoadedModel
    version: ModelVersion


def load_served(uri: str) -> Served:
    """Resolve and load `uri`; raises a LooplineError a user can act on."""
    version = get_version(uri)
    return Served(load_model(version.uri), version)


def smoke_test(served: Served, fallback: pd.DataFrame | None) -> None:
    """Predict on the model's stored input example (or recent rows) to prove it runs."""
    example = served.model.manifest.get("input_example")
    frame = pd.DataFrame.from_records(example) if example else fallback
    if frame is None or frame.empty:
        return
    checked = served.model.signature.check(frame) if served.model.signature else frame
    served.model.score(checked)


class ModelSlot:
    def __init__(self, uri: str, served: Served) -> None:
        self.uri = uri
        self.current = served
        self.last_rows: pd.DataFrame | None = None  # smoke-test input when no example is stored

    def swap(self, served: Served) -> None:
        self.current = served


class AliasWatcher:
    """Background thread that follows an alias and hot-swaps the slot's model."""

    def __init__(
        self,
        slot: ModelSlot,
        poll_s: float,
        on_swap: Callable[[Served, Served], None],
        on_failure: Callable[[ModelVersion, Exception], None],
    ) -> None:
        self.slot = slot
        self.poll_s = poll_s
        self._on_swap = on_swap
        self._on_failure = on_failure
        self._failed_version_id: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="loopline-swap", daemon=True)

    @staticmethod
    def follows_alias(uri: str) -> bool:
        return parse_model_uri(uri).alias is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def check_once(self) -> None:
        """Swap in the alias's holder if it changed; failures leave the old model serving."""
        try:
            target = get_version(self.slot.uri)
        except LooplineError:
            return  # the store is briefly unavailable or the alias was removed: keep serving
        old = self.slot.current
        if target.id == old.version.id or target.id == self._failed_version_id:
            return
        try:
            new = Served(load_model(target.uri), target)
            smoke_test(new, self.slot.last_rows)
        except Exception as exc:  # any failure of the new version must not stop serving
            self._failed_version_id = target.id
            self._on_failure(target, exc)
            return
        self._failed_version_id = None
        self.slot.swap(new)
        self._on_swap(old, new)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            self.check_once()


__all__ = ["AliasWatcher", "ModelSlot", "Served", "load_served", "smoke_test"]
