"""Always-valid intervals for a pilot that is looked at before it ends.

The asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy & Ramdas,
"Time-uniform central limit theory and asymptotic confidence sequences" (Annals of Statistics,
2024, Theorem 2.2): with i.i.d. terms of variance σ², the running mean μ̂_t satisfies

    μ̂_t ± σ̂_t · sqrt( 2 (t ρ² + 1) / (t² ρ²) · log( sqrt(t ρ² + 1) / α ) )

at every t simultaneously with probability ≥ 1 − α (asymptotically), so a CRM team may check the
pilot daily and stop when an arm clears zero without inflating false winners. ρ sets where the
boundary is tightest; ``rho_for`` puts that at the planned sample size. For a randomised pilot
the terms are inverse-propensity differences (their paper's Section 3), one per customer.

The guarantee is asymptotic, and purchases are rare: before enough of them the running variance
is too small (no purchase yet: zero). Measured over 400 runs of 6,000 terms each (normal; 5% and
1% purchases worth 40; lognormal order values; IPW differences of two arms), the interval held
at every look in 39-86% of runs when shown from the 50th term, and in 96-99% when shown only
once MIN_EVENTS terms were non-zero (tests/unit/ope/test_confidence_sequences.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_EVENTS = 20  # non-zero terms (purchases) before an interval is shown


def rho_for(planned: int, alpha: float) -> float:
    """ρ that makes the boundary tightest at ``planned`` terms (their eq. 15)."""
    log_term = -2 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1)) / max(planned, 1))


def half_width(sd: float | np.ndarray, t: int | np.ndarray, *, alpha: float, rho: float) -> np.ndarray:
    """The boundary's half-width after ``t`` terms of standard deviation ``sd``."""
    t = np.asarray(t, dtype=float)
    v = t * rho**2
    return np.asarray(sd) * np.sqrt(2 * (v + 1) / (t**2 * rho**2) * np.log(np.sqrt(v + 1) / alpha))


@dataclass(frozen=True)
class SequentialInterval:
    """A mean with its always-valid (1 − α) interval after ``n`` terms, and the fixed-n one."""

    mean: float
    low: float
    high: float
    n: int
    fixed_low: float  # the usual normal interval: valid only when looked at once, at the end
    fixed_high: float

    @property
    def shown(self) -> bool:
        """False until enough purchases for any claim (the interval is then unbounded)."""
        return math.isfinite(self.low)

    def to_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def sequential_interval(
    terms: np.ndarray, *, alpha: float, planned: int, events: np.ndarray | None = None
) -> SequentialInterval:
    """The always-valid interval of the mean of ``terms`` (i.i.d. per customer). ``events`` marks
    the terms that carry a purchase (default: the non-zero ones); a contact's cost alone makes a
    term non-zero without telling anything of the purchase rate, so profit terms pass it."""
    terms = np.asarray(terms, dtype=float)
    n = terms.size
    mean = float(terms.mean()) if n else 0.0
    purchases = np.count_nonzero(terms if events is None else events)
    if purchases < MIN_EVENTS:  # too few purchases for the CLT: no claim yet
        return SequentialInterval(mean, -math.inf, math.inf, n, -math.inf, math.inf)
    sd = float(terms.std(ddof=1))
    half = float(half_width(sd, n, alpha=alpha, rho=rho_for(planned, alpha)))
    z = _normal_quantile(1 - alpha / 2)
    fixed = z * sd / math.sqrt(n)
    return SequentialInterval(mean, mean - half, mean + half, n, mean - fixed, mean + fixed)


def running_coverage(terms: np.ndarray, truth: float, *, alpha: float, planned: int) -> bool:
    """Whether the interval held ``truth`` after every prefix of ``terms`` it is shown for (once
    MIN_EVENTS terms were non-zero)."""
    terms = np.asarray(terms, dtype=float)
    t = np.arange(1, terms.size + 1)
    mean = np.cumsum(terms) / t
    second = np.cumsum(terms**2) / t
    sd = np.sqrt(np.maximum(second - mean**2, 0) * t / np.maximum(t - 1, 1))
    half = half_width(sd, t, alpha=alpha, rho=rho_for(planned, alpha))
    shown = np.cumsum(terms != 0) >= MIN_EVENTS
    return bool(np.all((np.abs(mean - truth) <= half)[shown]))


def _normal_quantile(p: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)
