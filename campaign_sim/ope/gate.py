"""The launch gate: GO only when the candidate beats business-as-usual with confidence and the
evidence is healthy; otherwise NO-GO with every reason named."""

from __future__ import annotations

from dataclasses import dataclass, field

from campaign_sim.ope.diagnostics import Diagnostics
from campaign_sim.ope.intervals import Interval

MIN_ESS = 1_000  # fewer effective rows: the interval itself is not trustworthy
MIN_ESS_SHARE = 0.01
MAX_SUPPORT_VIOLATION = 0.05
MEAN_WEIGHT_TOLERANCE = 0.1  # |mean w - 1| beyond this: propensities or support are off
# a lower bound must clear this, not merely zero: two identical policies differ by rounding only
MIN_GAIN = 1e-6


@dataclass(frozen=True)
class Verdict:
    go: bool
    estimator: str
    difference: Interval
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return "GO" if self.go else "NO-GO"

    def to_dict(self) -> dict:
        return {
            "verdict": self.label,
            "estimator": self.estimator,
            "difference": self.difference.to_dict(),
            "reasons": list(self.reasons),
        }


def launch_gate(estimator: str, difference: Interval, diagnostics: Diagnostics) -> Verdict:
    """``difference`` = candidate - business-as-usual by ``estimator`` (paired 95% interval)."""
    reasons = []
    if difference.low <= MIN_GAIN:
        reasons.append(
            f"the lower 95% bound of (candidate - business-as-usual) by {estimator} is "
            f"{difference.low:+.4g}, not above zero"
        )
    if diagnostics.ess < MIN_ESS or diagnostics.ess_share < MIN_ESS_SHARE:
        reasons.append(
            f"effective sample size {diagnostics.ess:,.0f} ({diagnostics.ess_share:.2%} of "
            f"{diagnostics.rows:,} rows) is below {MIN_ESS:,} or {MIN_ESS_SHARE:.0%}"
        )
    if abs(diagnostics.mean_weight - 1.0) > MEAN_WEIGHT_TOLERANCE:
        reasons.append(
            f"mean importance weight {diagnostics.mean_weight:.3f} is far from 1 "
            "(propensities or support are off)"
        )
    violation = diagnostics.support_violation_mass
    if violation is not None and violation > MAX_SUPPORT_VIOLATION:
        reasons.append(f"{violation:.1%} of the candidate's probability is on actions the log never takes")
    return Verdict(not reasons, estimator, difference, tuple(reasons))
