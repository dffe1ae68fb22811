"""The runs area of the metadata store: experiments, runs with their params, tags and
metrics, artifacts, datasets and lineage. Each method is one transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from loopline.store.records import (
    Artifact,
    Dataset,
    DatasetUse,
    Experiment,
    Lineage,
    LineageEdge,
    MetricPoint,
    Run,
)

# (key, value, step, timestamp): the tuple form keeps batched ingest allocation-light.
PointTuple = tuple[str, float, int, float]
# The most runs one `list_runs` call returns; also how many running runs the liveness check
# (`list_runs(status="running", limit=MAX_RUNS_PAGE)`) judges at once.
MAX_RUNS_PAGE = 10_000
# `list_datasets` pages: the newest DATASETS_PAGE by default, at most MAX_DATASETS_PAGE per
# call over REST (a remote client asked for every version fetches them a page at a time).
DATASETS_PAGE = 50
MAX_DATASETS_PAGE = 1_000


class RunStore(ABC):
    """Experiments, runs, params, metrics, tags, artifacts, datasets and lineage."""

    # experiments -------------------------------------------------------------
    @abstractmethod
    def get_or_create_experiment(self, name: str) -> Experiment: ...

    @abstractmethod
    def get_experiment(self, name: str) -> Experiment: ...

    @abstractmethod
    def list_experiments(self) -> list[Experiment]: ...

    # runs --------------------------------------------------------------------
    @abstractmethod
    def create_run(
        self,
        experiment: str,
        name: str | None,
        params: Mapping[str, str],
        tags: Mapping[str, str],
        lineage: Lineage,
    ) -> Run: ...

    @abstractmethod
    def get_run(self, run_id: str) -> Run:
        """By full id or an unambiguous prefix of at least 4 characters."""

    @abstractmethod
    def list_runs(
        self,
        experiment: str | None = None,
        status: str | None = None,
        limit: int = 100,
        sort: str | None = None,
        offset: int = 0,
        tag: Sequence[str] = (),
    ) -> list[Run]:
        """Newest first, or by `sort` = 'metric.<key> [asc|desc]' / 'param.<key>' /
        'started_at' / 'ended_at' / 'name' / 'status'.

        `tag` filters by 'key=value' (all must hold); `offset` and `limit` (1 to
        MAX_RUNS_PAGE) page through. The running runs: `status="running"` (indexed)."""

    @abstractmethod
    def finish_run(
        self, run_id: str, status: str, error: str | None = None, only_if_running: bool = False
    ) -> None:
        """Record the final status; with `only_if_running`, leave an already-ended run alone."""

    @abstractmethod
    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Adds params; a key already logged with another value is a ConflictError."""

    @abstractmethod
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None: ...

    @abstractmethod
    def log_metrics(self, run_id: str, points: Sequence[PointTuple]) -> None:
        """Writes points in one transaction and refreshes the run's heartbeat."""

    @abstractmethod
    def heartbeat(self, run_id: str) -> None: ...

    @abstractmethod
    def metric_history(self, run_id: str, key: str | None = None) -> list[MetricPoint]: ...

    # artifacts -------------------------------------------------------------------
    @abstractmethod
    def record_artifact(
        self,
        run_id: str,
        path: str,
        kind: str,
        sha256: str,
        size: int,
        meta: Mapping[str, Any] | None = None,
    ) -> Artifact: ...

    @abstractmethod
    def get_artifact(self, run_id: str, path: str) -> Artifact: ...

    @abstractmethod
    def list_artifacts(self, run_id: str) -> list[Artifact]: ...

    # datasets and lineage --------------------------------------------------------
    @abstractmethod
    def record_dataset_use(
        self,
        run_id: str,
        dataset: Mapping[str, Any],
        name: str,
        role: str,
    ) -> Dataset:
        """Registers the dataset by fingerprint (idempotent) and links it to the run."""

    @abstractmethod
    def run_datasets(self, run_id: str) -> list[DatasetUse]: ...

    @abstractmethod
    def list_datasets(
        self, name: str | None = None, limit: int | None = DATASETS_PAGE, before: int | None = None
    ) -> list[Dataset]:
        """Dataset versions, newest (highest id) first; only those registered under `name`
        if given. At most `limit` (1 to MAX_DATASETS_PAGE; None: every version), those with
        an id below `before` if given: the next (older) page is `before=page[-1].id`."""

    @abstractmethod
    def get_dataset(self, fingerprint: str) -> Dataset:
        """By full fingerprint or an unambiguous prefix of at least 6 characters."""

    @abstractmethod
    def add_lineage_edge(
        self, src_kind: str, src_id: str, dst_kind: str, dst_id: str, relation: str
    ) -> None: ...

    @abstractmethod
    def lineage_edges(self, kind: str, id: str) -> list[LineageEdge]:
        """Edges into or out of one node."""


__all__ = ["DATASETS_PAGE", "MAX_DATASETS_PAGE", "MAX_RUNS_PAGE", "PointTuple", "RunStore"]
