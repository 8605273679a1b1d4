"""Shopper profiles: k-means on standardised features, named by what sets each cluster apart.

Names and one-line descriptions feed the copy prompts and the report. Numeric features are
standardised (log1p first for skewed, non-negative ones); categoricals are one-hot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

MAX_FIT_ROWS = 200_000  # k-means fits on a seeded sample this large; every shopper is assigned


@dataclass(frozen=True)
class Profile:
    name: str
    size: int
    share: float
    description: str
    means: dict[str, float]


def segment_shoppers(
    shoppers: pl.DataFrame,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str] = (),
    k: int = 5,
    seed: int = 0,
) -> tuple[np.ndarray, list[Profile]]:
    """(cluster per shopper, profiles ordered by size)."""
    from sklearn.cluster import KMeans

    matrix, names = _design(shoppers, numeric, categorical)
    rng = np.random.default_rng(seed)
    fit_rows = (
        rng.choice(len(matrix), MAX_FIT_ROWS, replace=False) if len(matrix) > MAX_FIT_ROWS else slice(None)
    )
    model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(matrix[fit_rows])
    raw = model.predict(matrix)
    order = np.argsort(-np.bincount(raw, minlength=k), kind="stable")
    labels = np.argsort(order)[raw]  # cluster 0 is the largest
    centres = model.cluster_centers_[order]
    overall = {c: float(shoppers.get_column(c).cast(pl.Float64).mean()) for c in numeric}
    profiles, used = [], set()
    for cluster, centre in enumerate(centres):
        members = shoppers.filter(pl.Series(labels == cluster))
        means = {c: float(members.get_column(c).cast(pl.Float64).mean()) for c in numeric}
        top = np.argsort(-np.abs(centre), kind="stable")[:2]
        traits = [_trait(names[j], centre[j]) for j in top]
        name = " / ".join(traits)
        if name in used:
            name = f"{name} ({cluster + 1})"
        used.add(name)
        detail = "; ".join(
            f"{names[j].replace('_', ' ')} {_level(members, overall, names[j])}"
            for j in top
            if names[j] in numeric
        )
        description = f"{len(members):,} shoppers with {' and '.join(traits)}" + (
            f" ({detail})" if detail else ""
        )
        profiles.append(Profile(name, len(members), len(members) / len(shoppers), description, means))
    return labels, profiles


def _trait(name: str, z: float) -> str:
    """'high monetary', 'low recency months', 'mostly channel email', 'few V1 3': a category
    is named with its column (a bare level such as '1' or '2' says nothing)."""
    if "=" in name:
        column, level = name.split("=", 1)
        return f"{'mostly' if z > 0 else 'few'} {column.replace('_', ' ')} {level.replace('_', ' ')}"
    return f"{'high' if z > 0 else 'low'} {name.replace('_', ' ')}"


def _level(members: pl.DataFrame, overall: dict[str, float], column: str) -> str:
    mean = float(members.get_column(column).cast(pl.Float64).mean())
    return f"{mean:,.3g} vs {overall[column]:,.3g} overall"


def _design(
    shoppers: pl.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> tuple[np.ndarray, list[str]]:
    parts, names = [], []
    for column in numeric:
        values = shoppers.get_column(column).cast(pl.Float64).fill_null(0.0).to_numpy()
        if values.min() >= 0 and np.quantile(values, 0.99) > 5 * max(np.median(values), 1e-9):
            values = np.log1p(values)
        std = values.std()
        parts.append((values - values.mean()) / (std if std > 1e-12 else 1.0))
        names.append(column)
    for column in categorical:
        values = shoppers.get_column(column).cast(pl.String).fill_null("missing").to_numpy()
        for level in sorted(set(values)):
            parts.append((values == level).astype(np.float64))
            names.append(f"{column}={level}")
    return np.column_stack(parts), names
