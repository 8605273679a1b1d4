"""Reward models for DM and the DR family, cross-fitted so no row is scored by a model that saw it."""

from __future__ import annotations

import numpy as np


def crossfit_cell_means(
    cell: np.ndarray,
    reward: np.ndarray,
    n_cells: int,
    *,
    prior: np.ndarray | float,
    strength: float = 20.0,
    folds: int = 2,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Shrunken mean reward per cell (e.g. item x position), fitted on the other folds.

    Returns (per-row estimate for every cell, (n, n_cells)) and the fold of each row. The
    shrinkage pulls a cell with few rows toward ``prior`` with the weight of ``strength`` rows.
    """
    n = cell.shape[0]
    fold = np.random.default_rng(seed).integers(0, folds, n)
    prior = np.broadcast_to(np.asarray(prior, dtype=np.float64), (n_cells,))
    out = np.empty((n, n_cells))
    for k in range(folds):
        train = fold != k
        sums = np.bincount(cell[train], weights=reward[train], minlength=n_cells)
        counts = np.bincount(cell[train], minlength=n_cells)
        out[fold == k] = (sums + strength * prior) / (counts + strength)
    return out, fold
