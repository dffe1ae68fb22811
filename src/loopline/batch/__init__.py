"""Batch scoring: a registered model over a Parquet or CSV file, streamed in chunks.

from loopline.batch import score

report = score("models:/churn@production", "customers.parquet", "scores.parquet")
report.rows, report.model_version          # 1000000, "churn/3"

The compute engine is a seam: `engine="local"` (the default) scores in this process;
`engine="ray"` runs them on a Ray cluster (`pip install 'loopline[ray]'`); any object with
`map_chunks(fn, chunks)` (see `ComputeEngine`) can run the chunks elsewhere, and one that
overrides `score_dataset` scores a Parquet dataset where it lives.

`drift_dataset(reference, "events/")` computes drift statistics over data larger than memory
from mergeable per-chunk summaries, with the same results on every engine.
"""

from loopline.batch._chunk import ChunkScorer, ScoredChunk
from loopline.batch._drift import drift_dataset
from loopline.batch._engine import ComputeEngine, DatasetScore, LocalEngine, resolve_engine
from loopline.batch._ray import RayEngine
from loopline.batch._score import Progress, ScoreReport, score

__all__ = [
    "ChunkScorer",
    "ComputeEngine",
    "DatasetScore",
    "LocalEngine",
    "Progress",
    "RayEngine",
    "ScoreReport",
    "ScoredChunk",
    "drift_dataset",
    "resolve_engine",
    "score",
]
