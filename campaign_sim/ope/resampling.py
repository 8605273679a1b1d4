"""Poisson bootstrap as one compiled pass: each row's resample counts are hashed, never stored.

A resample of the estimators in ``estimators.py`` only needs count-weighted column sums
(``sum_i c_bi x_ij``), so B resamples over n rows cost one pass of n x B multiply-adds instead of
B recomputations. Row i's count in resample b is Poisson(1), drawn as a lookup of 16 hashed
bits (SplitMix64 of the seed, i and b) in the inverse CDF: a pure function of (seed, i, b), so
the result does not depend on how rows are split between threads, and nothing of size n x B
is ever allocated. The 16-bit table puts each count's probability within 2^-16 of Poisson(1)'s.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from campaign_sim.core.seeding import _mix

BLOCK = 4096  # rows per parallel task; fixed, so the sums' rounding does not depend on threads


def _poisson_table(bits: int = 16) -> np.ndarray:
    """Poisson(1) inverse CDF at the midpoints of 2^bits equal cells."""
    cdf = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(20)])
    cells = (np.arange(1 << bits) + 0.5) / (1 << bits)
    return np.searchsorted(cdf, cells, side="right").astype(np.float64)


POISSON_TABLE = _poisson_table()


def poisson_weighted_sums(columns: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """(resamples, k + 1): per resample, ``sum_i c_bi columns[i, j]`` for each of the k columns,
    then ``sum_i c_bi`` (the resample's size), with c_bi ~ Poisson(1) independent."""
    columns = np.ascontiguousarray(columns, dtype=np.float64)
    if columns.ndim != 2:
        raise ValueError("columns must be a 2-d (rows, columns) array")
    key = np.uint64(int(seed) % 2**64)
    return _weighted_sums(columns, int(resamples), key, POISSON_TABLE)


@numba.njit(cache=True, parallel=True, fastmath=True)
def _weighted_sums(columns, resamples, key, table):  # pragma: no cover - compiled
    n, k = columns.shape
    n_blocks = (n + BLOCK - 1) // BLOCK
    words = (resamples + 3) // 4  # one 64-bit hash gives four 16-bit draws
    partial = np.zeros((n_blocks, k + 1, resamples))
    for block in numba.prange(n_blocks):
        acc = partial[block]
        counts = np.empty(4 * words)
        for i in range(block * BLOCK, min(n, (block + 1) * BLOCK)):
            row_key = _mix(key ^ (np.uint64(i) * np.uint64(0x9E3779B97F4A7C15)))
            for w in range(words):
                bits = _mix(row_key + np.uint64(w))
                counts[4 * w] = table[bits & np.uint64(0xFFFF)]
                counts[4 * w + 1] = table[(bits >> np.uint64(16)) & np.uint64(0xFFFF)]
                counts[4 * w + 2] = table[(bits >> np.uint64(32)) & np.uint64(0xFFFF)]
                counts[4 * w + 3] = table[bits >> np.uint64(48)]
            for b in range(resamples):  # contiguous in b: the compiler vectorises these loops
                acc[k, b] += counts[b]
            for j in range(k):
                x = columns[i, j]
                for b in range(resamples):
                    acc[j, b] += counts[b] * x
    return partial.sum(axis=0).T.copy()
