"""A served model that can be swapped while requests are in flight.

`ModelSlot.current` is one attribute holding an immutable `Served` tuple: a request reads
it once and uses that model to the end, so a swap (one reference assignment, atomic in
Python) never mixes two versions in one answer and never drops a request.

`AliasWatcher` reconciles the slot with the registry: it polls the store for the alias's
holder, and whenever the served version differs (a promotion, a rollback, or a swap that
failed earlier) it loads the holder in the background, verifies it (sha256 of every file,
then a smoke prediction on the stored input example or the last served rows), and only
then swaps it in. A failed load keeps the old model serving, is recorded once per target
as an audit event `serving.swap_failed`, and is retried with exponential backoff
(`retry_s`, doubling up to `retry_max_s`) until it heals or the alias moves on; meanwhile
`/metrics` says the server and the registry disagree (`loopline_registry_version_mismatch`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from loopline.errors import LooplineError
from loopline.models import LoadedModel
from loopline.registry import get_version, load_model, parse_model_uri
from loopline.store import ModelVersion

log = logging.getLogger("loopline.serving")


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
    """Background thread that follows an alias and hot-swaps the slot's model.

    `on_failure(version, exc)` is called on the first failed attempt at a target,
    `on_retry_failure(version, exc)` on each failed retry after it, and
    `on_check(target, in_sync)` after every successful read of the alias."""

    def __init__(
        self,
        slot: ModelSlot,
        poll_s: float,
        on_swap: Callable[[Served, Served], None],
        on_failure: Callable[[ModelVersion, Exception], None],
        on_check: Callable[[ModelVersion, bool], None] | None = None,
        *,
        on_retry_failure: Callable[[ModelVersion, Exception], None] | None = None,
        retry_s: float = 1.0,
        retry_max_s: float = 60.0,
    ) -> None:
        self.slot = slot
        self.poll_s = poll_s
        self.retry_s = retry_s
        self.retry_max_s = max(retry_s, retry_max_s)
        self._on_swap = on_swap
        self._on_failure = on_failure
        self._on_check = on_check
        self._on_retry_failure = on_retry_failure
        self._failed_version_id: int | None = None
        self.failures = 0  # consecutive failed attempts at the current target
        self.next_attempt_at = 0.0  # monotonic time of the next retry of a failed target
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="loopline-swap", daemon=True)

    @staticmethod
    def follows_alias(uri: str) -> bool:
        return parse_model_uri(uri).alias is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def check_once(self, now: float | None = None) -> None:
        """Swap in the alias's holder if it is not what is served; failures leave the old
        model serving and are retried once their backoff (from `now`, monotonic) is over."""
        now = time.monotonic() if now is None else now
        try:
            target = get_version(self.slot.uri)
        except LooplineError:
            return  # the store is briefly unavailable or the alias was removed: keep serving
        old = self.slot.current
        in_sync = target.id == old.version.id
        if self._on_check is not None:
            self._on_check(target, in_sync)
        if in_sync:
            self._failed_version_id, self.failures = None, 0
            return
        first = target.id != self._failed_version_id
        if not first and now < self.next_attempt_at:
            return  # this target failed recently: wait out its backoff
        try:
            new = Served(load_model(target.uri), target)
            smoke_test(new, self.slot.last_rows)
        except Exception as exc:  # any failure of the new version must not stop serving
            self.failures = 1 if first else self.failures + 1
            self._failed_version_id = target.id
            delay = min(self.retry_max_s, self.retry_s * 2 ** (self.failures - 1))
            self.next_attempt_at = now + delay
            if first:
                self._on_failure(target, exc)
            elif self._on_retry_failure is not None:
                self._on_retry_failure(target, exc)
            return
        self._failed_version_id, self.failures = None, 0
        self.slot.swap(new)
        self._on_swap(old, new)
        if self._on_check is not None:
            self._on_check(target, True)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.check_once()
            except Exception:  # a bad poll must not end reconciliation: try again next time
                log.exception("checking %s against the registry failed", self.slot.uri)


__all__ = ["AliasWatcher", "ModelSlot", "Served", "load_served", "smoke_test"]
