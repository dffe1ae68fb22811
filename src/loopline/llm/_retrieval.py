"""RAG retrieval quality: a numpy embedding index, hit rate@k, MRR and nDCG@k, and index
versions registered like models (flavor `embedding_index`), so an index can be gated,
promoted and rolled back: `indexes:/docs@production`.

Metric definitions (binary relevance; `ranked` is a query's retrieved ids, best first):
- hit rate@k: share of queries with at least one relevant id in the top k.
- MRR (@k): mean over queries of 1 / rank of the first relevant id (0 if none in the top k).
- nDCG@k: DCG = sum over the top k of rel_i / log2(i + 1) (i from 1), divided by the DCG of
  the ideal ranking (all relevant ids first); 0 for a query with no relevant ids.
Gate rule names cannot hold '@', so metrics are named hit_rate_at_5, mrr, ndcg_at_5.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from loopline.errors import InvalidInputError
from loopline.identity import current_user
from loopline.llm._package import load_package, register_package
from loopline.llm._uri import INDEXES, model_uri
from loopline.store import EvaluationRecord, ModelVersion, open_metadata_store

FLAVOR = "embedding_index"
Vectors = np.ndarray[Any, np.dtype[np.float32]]


class TextEmbedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def _check(ranked: Sequence[Sequence[str]], relevant: Sequence[Set[str]], k: int | None) -> None:
    if len(ranked) != len(relevant):
        raise InvalidInputError(
            f"{len(ranked)} rankings but {len(relevant)} relevance sets",
            hint="give one set of relevant ids per query",
        )
    if k is not None and k < 1:
        raise InvalidInputError(f"k={k} must be at least 1", hint="e.g. k=5")
    if not ranked:
        raise InvalidInputError("no queries to score", hint="give at least one query")


def hit_rate_at_k(ranked: Sequence[Sequence[str]], relevant: Sequence[Set[str]], k: int) -> float:
    _check(ranked, relevant, k)
    return sum(any(d in rel for d in r[:k]) for r, rel in zip(ranked, relevant, strict=True)) / len(
        ranked
    )


def mrr(
    ranked: Sequence[Sequence[str]], relevant: Sequence[Set[str]], k: int | None = None
) -> float:
    _check(ranked, relevant, k)
    total = 0.0
    for r, rel in zip(ranked, relevant, strict=True):
        for i, d in enumerate(r[:k] if k else r, 1):
            if d in rel:
                total += 1.0 / i
                break
    return total / len(ranked)


def ndcg_at_k(ranked: Sequence[Sequence[str]], relevant: Sequence[Set[str]], k: int) -> float:
    _check(ranked, relevant, k)
    total = 0.0
    for r, rel in zip(ranked, relevant, strict=True):
        dcg = sum(1.0 / math.log2(i + 1) for i, d in enumerate(r[:k], 1) if d in rel)
        ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(rel), k) + 1))
        total += dcg / ideal if ideal > 0 else 0.0
    return total / len(ranked)


def retrieval_metrics(
    ranked: Sequence[Sequence[str]], relevant: Sequence[Set[str]], ks: Sequence[int] = (1, 3, 5, 10)
) -> dict[str, float]:
    out = {"mrr": mrr(ranked, relevant), "queries": float(len(ranked))}
    for k in ks:
        out[f"hit_rate_at_{k}"] = hit_rate_at_k(ranked, relevant, k)
        out[f"ndcg_at_{k}"] = ndcg_at_k(ranked, relevant, k)
    return out


@dataclass(frozen=True)
class EmbeddingIndex:
    """Document ids and their unit-length vectors; cosine search by matrix product."""

    ids: tuple[str, ...]
    vectors: Vectors
    model: str

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.ids) != self.vectors.shape[0]:
            raise InvalidInputError(
                f"index has {len(self.ids)} ids but vectors of shape {self.vectors.shape}",
                hint="give one vector per document id",
            )
        if len(set(self.ids)) != len(self.ids):
            raise InvalidInputError("index document ids are not unique", hint="dedupe the corpus")

    def search(self, queries: Vectors, k: int) -> list[list[tuple[str, float]]]:
        """Top-k (id, cosine score) per query vector, best first (ties by id order)."""
        q = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        norms = np.linalg.norm(q, axis=1, keepdims=True)
        scores = (q / np.where(norms == 0, 1, norms)) @ self.vectors.T
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return [[(self.ids[j], float(scores[i, j])) for j in row] for i, row in enumerate(order)]

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, ids=np.array(self.ids, dtype=str), vectors=self.vectors,
                 model=np.array(self.model))  # fmt: skip
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> EmbeddingIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(
                tuple(str(i) for i in z["ids"]), z["vectors"].astype(np.float32), str(z["model"])
            )


def build_index(corpus: Mapping[str, str], embedder: TextEmbedder) -> EmbeddingIndex:
    """Embed every document of `corpus` (id → text)."""
    if not corpus:
        raise InvalidInputError("the corpus is empty", hint="give at least one document")
    ids = tuple(corpus)
    vectors = np.asarray(embedder.embed([corpus[i] for i in ids]), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = (vectors / np.where(norms == 0, 1, norms)).astype(np.float32)
    return EmbeddingIndex(ids, unit, embedder.name)


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    relevant: frozenset[str]


def load_queries(path: str | Path) -> list[Query]:
    """JSONL: {"id": ..., "query": "...", "relevant": ["doc-1", ...]} per line."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"queries file {p} does not exist", hint="check the path")
    out = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Query(
                    str(row.get("id", n)), str(row["query"]), frozenset(map(str, row["relevant"]))
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise InvalidInputError(
                f"{p}:{n} is not a query line",
                hint='write {"query": "...", "relevant": ["doc-id"]}',
            ) from None
    return out


def evaluate_index(
    index: EmbeddingIndex,
    queries: Sequence[Query],
    embedder: TextEmbedder,
    ks: Sequence[int] = (1, 3, 5, 10),
) -> tuple[dict[str, float], list[list[tuple[str, float]]]]:
    """(metrics, top results per query) of `index` on `queries`."""
    if embedder.name != index.model:
        raise InvalidInputError(
            f"index was built with {index.model!r}, queries embedded with {embedder.name!r}",
            hint="embed queries with the index's model",
        )
    results = index.search(embedder.embed([q.text for q in queries]), max(ks))
    ranked = [[d for d, _ in r] for r in results]
    return retrieval_metrics(ranked, [q.relevant for q in queries], ks), results


def register_index(
    name: str, index: EmbeddingIndex, *, metrics: Mapping[str, float] | None = None
) -> ModelVersion:
    """Register `index` as the next version of `name` (then promote, roll back as models)."""
    return register_package(
        name, FLAVOR, index.to_bytes(), experiment="llm.indexes",
        params={"index": name, "documents": len(index.ids), "model": index.model},
        metrics=metrics, meta={"documents": len(index.ids), "model": index.model},
    )  # fmt: skip


def load_index(uri: str) -> tuple[ModelVersion, EmbeddingIndex]:
    """`indexes:/name@alias` or `indexes:/name/N`, sha256-verified."""
    version, data = load_package(model_uri(uri, INDEXES), FLAVOR, "retrieval index")
    return version, EmbeddingIndex.from_bytes(data)


def evaluate_index_version(
    uri: str, queries: Sequence[Query], embedder: TextEmbedder, ks: Sequence[int] = (1, 3, 5, 10)
) -> tuple[dict[str, float], EvaluationRecord]:
    """Evaluate a registered index and store the metrics on its version, for the gate."""
    import hashlib

    version, index = load_index(uri)
    metrics, _ = evaluate_index(index, queries, embedder, ks)
    h = hashlib.sha256()
    for q in queries:
        h.update(json.dumps([q.id, q.text, sorted(q.relevant)]).encode())
    record = open_metadata_store().record_evaluation(
        version.model, version.version, dataset_fingerprint=h.hexdigest(), task="retrieval",
        metrics=metrics, slices={}, recorded_by=current_user(),
    )  # fmt: skip
    return metrics, record


__all__ = [
    "FLAVOR",
    "EmbeddingIndex",
    "Query",
    "build_index",
    "evaluate_index",
    "evaluate_index_version",
    "hit_rate_at_k",
    "load_index",
    "load_queries",
    "mrr",
    "ndcg_at_k",
    "register_index",
    "retrieval_metrics",
]
