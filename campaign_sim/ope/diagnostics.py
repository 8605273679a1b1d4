"""Is the log able to say anything about this policy? Weights, effective sample size, support."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from campaign_sim.ope.estimators import LoggedBandit


@dataclass(frozen=True)
class Diagnostics:
    rows: int
    ess: float  # (sum w)^2 / sum w^2: how many logged rows the estimate is worth
    ess_share: float
    max_weight: float
    mean_weight: float  # ~1 when propensities are right and the policy is in support
    zero_probability_share: float  # logged rows the candidate would never take
    support_violation_mass: float | None  # candidate mass on actions the logger never takes (None: unknown)

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def from_weights(w: np.ndarray, *, zero_probability_share: float, violation: float | None) -> Diagnostics:
    """Diagnostics of importance weights ``w`` (one per logged row or per logged campaign)."""
    ess = float(w.sum() ** 2 / max((w**2).sum(), 1e-300))
    return Diagnostics(
        rows=int(w.shape[0]),
        ess=ess,
        ess_share=ess / w.shape[0],
        max_weight=float(w.max()),
        mean_weight=float(w.mean()),
        zero_probability_share=zero_probability_share,
        support_violation_mass=violation,
    )


def diagnose(d: LoggedBandit, *, logging_probs: np.ndarray | None = None) -> Diagnostics:
    """``logging_probs`` (n, A): the logging policy's full distribution, when known, to measure
    the candidate's mass where the logger has none (support violations)."""
    violation = None
    if logging_probs is not None:
        violation = float((d.target * (logging_probs <= 0)).sum(axis=1).mean())
    zero = float((d.target[np.arange(d.n), d.action] == 0).mean())
    return from_weights(d.weight, zero_probability_share=zero, violation=violation)
