"""The copy library: copy_id, text and (optionally) a text embedding per creative."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from campaign_sim.core.errors import DataError
from campaign_sim.data.loaders import check_readable, collect
from campaign_sim.data.text import TextEncoder


def load_copy_embeddings(path: str | Path, *, encoder: TextEncoder) -> dict[str, np.ndarray]:
    """Embeddings by copy_id; copies without an ``embedding`` column are encoded from ``text``."""
    path = check_readable(path)
    frame = collect(path, lambda lf: lf)
    for column in ("copy_id", "text"):
        if column not in frame.columns:
            raise DataError(
                "required column is missing",
                file=str(path),
                column=column,
                expected="a copy library with copy_id and text columns",
            )
    ids = frame.get_column("copy_id").cast(pl.String).to_list()
    if "embedding" in frame.columns:
        vectors = [np.asarray(v, dtype=np.float64) for v in frame.get_column("embedding").to_list()]
        if len({v.shape for v in vectors}) == 1:
            return dict(zip(ids, vectors, strict=True))
    texts = frame.get_column("text").cast(pl.String).fill_null("").to_list()
    return dict(zip(ids, encoder.encode(texts).astype(np.float64), strict=True))
