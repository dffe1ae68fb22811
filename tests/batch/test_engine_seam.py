"""`score_dataset` is part of the `ComputeEngine` seam: an engine that overrides it scores a
Parquet dataset into a folder its own way; the seam's default (None) and an engine object
that brings only `map_chunks` fall back to the chunks read here, with the same output."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow.parquet as pq

from loopline.batch import ChunkScorer, ComputeEngine, DatasetScore, LocalEngine, score
from loopline.store import ModelVersion
from tests.batch.files import write

T = TypeVar("T")
R = TypeVar("R")


def folder_rows(folder: Path) -> pd.DataFrame:
    parts = sorted(folder.glob("part-*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


class WholeDataset(LocalEngine):
    """Scores the dataset in one piece through `score_dataset`, as Ray Data would."""

    name = "whole"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def score_dataset(
        self,
        scorer: ChunkScorer,
        files: Sequence[Path],
        columns: Sequence[str],
        folder: Path,
        chunk_size: int,
        contract: bool = False,
    ) -> DatasetScore:
        self.calls += 1
        table = pq.read_table(files[0], columns=list(columns))
        scored = scorer((0, table))
        assert scored.table is not None
        pq.write_table(scored.table, folder / "part-00000.parquet")
        return DatasetScore(scored.table.num_rows, 1, 0, ())


class MapsOnly:
    """An engine object with nothing but `name` and `map_chunks`."""

    name = "maps-only"

    def map_chunks(self, fn: Callable[[T], R], chunks: Iterable[T]) -> Iterator[R]:
        return (fn(c) for c in chunks)


def test_an_engine_overriding_score_dataset_scores_the_folder_its_way(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    local = score("models:/churn/1", source, tmp_path / "local", chunk_size=300)
    engine = WholeDataset()
    assert isinstance(engine, ComputeEngine)
    seen: list[tuple[int, int | None]] = []
    report = score(
        "models:/churn/1",
        source,
        tmp_path / "whole",
        chunk_size=300,
        engine=engine,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert engine.calls == 1 and (report.rows, report.chunks) == (len(customers), 1)
    assert report.output_columns == local.output_columns and local.chunks == 3
    assert seen == [(0, len(customers)), (len(customers), len(customers))]
    pd.testing.assert_frame_equal(folder_rows(tmp_path / "whole"), folder_rows(tmp_path / "local"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_a_map_only_engine_object_gets_the_seams_defaults(
    churn_v1: ModelVersion, customers: pd.DataFrame, tmp_path: Path
) -> None:
    source = write(customers, tmp_path / "in.parquet")
    # Typed callers subclass ComputeEngine for its defaults; at run time `map_chunks` suffices.
    engine: Any = MapsOnly()
    report = score("models:/churn/1", source, tmp_path / "out", chunk_size=300, engine=engine)
    assert report.engine == "maps-only" and report.chunks == 3
    local = score("models:/churn/1", source, tmp_path / "local", chunk_size=300)
    pd.testing.assert_frame_equal(folder_rows(tmp_path / "out"), folder_rows(tmp_path / "local"))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert local.rows == report.rows
