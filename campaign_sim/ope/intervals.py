"""Confidence intervals for the estimators: seeded vectorised bootstrap and normal approximation,
for one policy and for the paired difference of two policies on the same log."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from campaign_sim.ope.estimators import Parts, combine

Z95 = 1.959963984540054
CHUNK = 16  # resamples drawn at once: (CHUNK, n) float64 counts are 128 MB at n = 1M


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float
    method: str

    def to_dict(self) -> dict[str, float | str]:
        return {"value": self.value, "low": self.low, "high": self.high, "method": self.method}


def normal_interval(parts: Parts) -> Interval:
    """Delta-method interval: the estimator's influence function per row, its standard error."""
    value, se = combine(parts), _standard_error(_influence(parts))
    return Interval(value, value - Z95 * se, value + Z95 * se, "normal")


def bootstrap_values(parts_list: list[Parts], *, resamples: int = 200, seed: int = 0) -> np.ndarray:
    """(resamples, len(parts_list)) estimator values on the SAME resamples (paired).

    Poisson bootstrap: each row is drawn Poisson(1) times, independently, which matches the
    multinomial bootstrap for large n and vectorises without a gather."""
    n = parts_list[0][0].shape[0]
    rng = np.random.default_rng(seed)
    stacked = np.stack([np.stack(p) for p in parts_list]).transpose(2, 0, 1).reshape(n, -1)  # (n, E*3)
    out = np.empty((resamples, len(parts_list)))
    for start in range(0, resamples, CHUNK):
        b = min(CHUNK, resamples - start)
        counts = rng.poisson(1.0, size=(b, n)).astype(np.float64)
        sums = (counts @ stacked).reshape(b, len(parts_list), 3)
        total = counts.sum(axis=1, keepdims=True)
        out[start : start + b] = sums[:, :, 0] / total + sums[:, :, 1] / sums[:, :, 2]
    return out


def bootstrap_interval(parts: Parts, *, resamples: int = 200, seed: int = 0) -> Interval:
    draws = bootstrap_values([parts], resamples=resamples, seed=seed)[:, 0]
    low, high = np.percentile(draws, [2.5, 97.5])
    return Interval(combine(parts), float(low), float(high), f"bootstrap({resamples})")


def paired_difference(
    candidate: Parts, reference: Parts, *, resamples: int = 200, seed: int = 0, method: str = "bootstrap"
) -> Interval:
    """candidate - reference on the same logged rows, with a paired interval."""
    value = combine(candidate) - combine(reference)
    if method == "normal":
        se = _standard_error(_influence(candidate) - _influence(reference))
        return Interval(value, value - Z95 * se, value + Z95 * se, "normal")
    draws = bootstrap_values([candidate, reference], resamples=resamples, seed=seed)
    low, high = np.percentile(draws[:, 0] - draws[:, 1], [2.5, 97.5])
    return Interval(value, float(low), float(high), f"bootstrap({resamples})")


def _influence(parts: Parts) -> np.ndarray:
    direct, correction, normaliser = parts
    ratio = correction.sum() / normaliser.sum()
    return direct + (correction - ratio * normaliser) / normaliser.mean()


def _standard_error(influence: np.ndarray) -> float:
    return float(influence.std(ddof=1) / np.sqrt(influence.shape[0]))
