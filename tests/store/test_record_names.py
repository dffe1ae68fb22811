"""Record names (docs/vocabulary.md §12, issue 19): the store's records are plain nouns
(`Monitor`, `Alert`, beside `ModelVersion`, `Deployment`, `Run`); a `…Record` suffix only where
the library has a result type of the plain name (`policy.GateDecision`, `registry.Evaluation`).
Last release's names stay importable from `loopline.store` for one release."""

from __future__ import annotations

import importlib

import loopline.store
from loopline.store import DEPRECATED_NAMES, records

# Suffixed record → the library's result type that holds the plain name.
SUFFIX_KEPT = {
    "GateDecisionRecord": "loopline.policy.GateDecision",
    "EvaluationRecord": "loopline.registry.Evaluation",
}


def test_records_are_plain_nouns_unless_the_library_holds_the_name() -> None:
    suffixed = {name for name in records.__all__ if name.endswith("Record")}
    assert suffixed == set(SUFFIX_KEPT)
    for library_type in SUFFIX_KEPT.values():
        module, _, name = library_type.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), name), type), library_type


def test_last_releases_record_names_import_as_the_new_records() -> None:
    from loopline.store import AlertRecord, DeliveryRecord, MonitorRecord, MonitorRunRecord

    assert (AlertRecord, DeliveryRecord, MonitorRecord, MonitorRunRecord) == (
        records.Alert,
        records.Delivery,
        records.Monitor,
        records.MonitorRun,
    )
    for old, new in DEPRECATED_NAMES.items():
        assert getattr(loopline.store, old) is getattr(records, new)
        assert old not in loopline.store.__all__ and new in loopline.store.__all__
