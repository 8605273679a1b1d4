"""Counter-based random numbers: a draw is a pure function of (key, period, stream, index).

A batched environment and a set of single environments then see the very same random numbers
for the same seeds, without a Python loop over shoppers: every draw is one vectorised hash
(SplitMix64, Steele et al. 2014) of its coordinates. Keys come from a seeded
``numpy.random.Generator`` and chain by hashing, so one seed fixes everything.
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def key_from(generator: np.random.Generator, n: int = 1) -> np.ndarray:
    """``n`` fresh uint64 keys from a seeded generator."""
    return generator.integers(0, 2**63, size=n, dtype=np.uint64)


_NEXT = np.uint64(0xD1B54A32D192ED03)


def next_key(keys: np.ndarray) -> np.ndarray:
    """The key of the next episode: a hash of the current one."""
    return splitmix64(keys ^ _NEXT)


def uniforms(keys: np.ndarray, period: np.ndarray | int, n_streams: int) -> np.ndarray:
    """(len(keys), n_streams) uniforms in [0, 1), one row per key at ``period``.

    Each 64-bit hash yields two 32-bit uniforms (resolution 2^-32, ample for simulation)."""
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    period = np.ascontiguousarray(np.broadcast_to(np.asarray(period, dtype=np.uint64), keys.shape))
    return _uniforms(keys, period, n_streams)


@numba.njit(cache=True)
def _mix(z):  # pragma: no cover - compiled; SplitMix64's finaliser, as ``splitmix64``
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def next_key_row(key):  # pragma: no cover - compiled
    """``next_key`` of one key, inside compiled passes."""
    return _mix(key ^ _NEXT)


@numba.njit(cache=True, inline="always")
def row_base(key, period):  # pragma: no cover - compiled
    """The hash every draw of ``key`` at ``period`` derives from."""
    return _mix(key + period * np.uint64(0x632BE59BD9B4E019))


@numba.njit(cache=True, inline="always")
def pair_uniforms(base, j):  # pragma: no cover - compiled
    """Streams ``2j`` and ``2j + 1`` of a ``row_base``: one 64-bit hash, two 32-bit uniforms."""
    bits = _mix(base ^ (np.uint64(j) * np.uint64(0x8CB92BA72F3D8DD7)))
    return np.float64(bits >> np.uint64(32)) * 2.0**-32, np.float64(bits & np.uint64(0xFFFFFFFF)) * 2.0**-32


@numba.njit(cache=True, parallel=True)
def _uniforms(keys, period, n_streams):  # pragma: no cover - compiled
    out = np.empty((keys.shape[0], n_streams))
    for i in numba.prange(keys.shape[0]):
        base = row_base(keys[i], period[i])
        for j in range((n_streams + 1) // 2):
            first, second = pair_uniforms(base, j)
            out[i, 2 * j] = first
            if 2 * j + 1 < n_streams:
                out[i, 2 * j + 1] = second
    return out
