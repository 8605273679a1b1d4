"""The gain of a policy over the logging policy over a whole campaign, first-order in the change.

Performance-difference lemma (Kakade & Langford, ICML 2002): V(π) − V(π_b) = Σ_t E_{s~d_t^π}
[Σ_a (π − π_b)(a|s) Q_t^{π_b}(s, a)]. Taking the states from the log (d^{π_b} for d^π, exact to
first order in π − π_b) and the logged return-to-go G_t as the unbiased sample of Q^{π_b}(s_t,
a_t) that it is under the logging policy gives, per customer,

    Δ_i = Σ_t (π(a_t|s_t) / π_b(a_t|s_t) − 1) · G_t.

Unlike per-decision importance sampling, whose products of 12 ratios collapse (ESS ~2% on a
campaign), each term carries one ratio. It is exact for a policy that deviates in one period and
drops only the second-order effect of the deviations on later states; its coverage is measured
in benchmarks/bench_safety.py. A policy equal to the logging policy gets exactly 0.

The interval is over customers (independent units; periods within a customer are summed) and
studentized (bootstrap-t, as ``ope.intervals``): the gain of moving mass to a rarely logged
action rests on a few rare, large purchases times large ratios, so the estimate is right-skewed;
a normal interval then sits too low and missed the truth on the high side on exploring histories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from campaign_sim.ope.checks import check_finite, check_probabilities
from campaign_sim.ope.intervals import interval


@dataclass(frozen=True)
class FirstOrderGain:
    """Estimated V(π) − V(π_b) per customer, its 95% interval and the weight diagnostics."""

    mean: float
    low: float
    high: float
    customers: int
    max_ratio: float  # the largest π/π_b over logged decisions
    moved_share: float  # mean |π/π_b − 1| over decisions: how far the policy is from the log's


def first_order_gain(
    reward: np.ndarray, propensity: np.ndarray, target: np.ndarray, active: np.ndarray, *, seed: int = 0
) -> FirstOrderGain:
    """``reward``, ``propensity`` (logging probability of the logged action), ``target`` (the
    policy's probability of it) and ``active`` are (customers, periods); ``seed`` the bootstrap's."""
    check_finite("reward", reward)
    check_probabilities("propensity", propensity, active)
    ratio = np.where(active, target / np.where(active, propensity, 1.0), 1.0)
    rewards = np.where(active, reward, 0.0)
    to_go = np.cumsum(rewards[:, ::-1], axis=1)[:, ::-1]
    per_customer = ((ratio - 1.0) * to_go).sum(axis=1)
    n = per_customer.shape[0]
    moved = float(np.abs(ratio - 1.0)[active].mean()) if active.any() else 0.0
    if n < 2 or not per_customer.any():  # no spread to resample: the estimate is all there is
        mean = float(per_customer.mean()) if n else 0.0
        low, high = (mean, mean) if n > 1 else (-np.inf, np.inf)
        return FirstOrderGain(mean, low, high, n, float(ratio.max()), moved)
    found = interval((np.zeros(n), per_customer, np.ones(n)), method="studentized", seed=seed)
    return FirstOrderGain(found.value, found.low, found.high, n, float(ratio.max()), moved)
