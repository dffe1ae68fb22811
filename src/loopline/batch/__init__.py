"""Batch scoring: a registered model over a Parquet or CSV file, streamed in chunks.

from loopline.batch import score

report = score("models:/churn@production", "customers.parquet", "scores.parquet")
report.rows, report.model_version          # 1000000, "churn/3"

The compute engine is a seam: `engine="local"` (the default) scores in this process;
any object with `map_chunks(fn, chunks)` (see `ComputeEngine`) can run the chunks elsewhere.
"""

from loopline.batch._chunk import ChunkScorer, ScoredChunk
from loopline.batch._engine import ComputeEngine, LocalEngine, resolve_engine
from loopline.batch._score import Progress, ScoreReport, score

__all__ = [
    "ChunkScorer",
    "ComputeEngine",
    "LocalEngine",
    "Progress",
    "ScoreReport",
    "ScoredChunk",
    "resolve_engine",
    "score",
]
