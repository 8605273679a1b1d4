"""Multi-period off-policy estimators over whole logged campaigns (episodes x periods).

``LoggedEpisodes`` holds per-period rewards, the logging propensity of each logged action,
the candidate's probability of it, and optionally a reward model (``q_hat`` of the logged
action, ``v_hat`` = the candidate's expected model reward in that state). Periods after an
episode ends carry ``active = False`` (ratio 1, reward 0).

- PDIS: per-decision importance sampling, sum_t g^t rho_{1:t} r_t, averaged over episodes.
- WPDIS: weighted PDIS, each period's rho_{1:t} normalised over episodes (biased, far steadier).
- SeqDR: sequential doubly robust (Jiang & Li 2016), sum_t g^t [rho_{1:t}(r_t - q_t) + rho_{1:t-1} v_t].
PDIS and SeqDR are means of per-episode terms, so they return ``Parts`` and share the
single-decision intervals; WPDIS, a ratio per period, has its own episode-level Poisson bootstrap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from campaign_sim.ope.checks import check_finite, check_probabilities, first_bad
from campaign_sim.ope.diagnostics import Diagnostics, from_weights
from campaign_sim.ope.estimators import Parts
from campaign_sim.ope.intervals import Interval
from campaign_sim.ope.resampling import poisson_weighted_sums


@dataclass(frozen=True)
class LoggedEpisodes:
    reward: np.ndarray  # (n, T)
    propensity: np.ndarray  # (n, T) logging probability of the logged action (> 0 where active)
    target: np.ndarray  # (n, T) candidate's probability of the logged action
    active: np.ndarray  # (n, T) bool: the episode is still running in this period
    q_hat: np.ndarray | None = None  # (n, T) model reward of the logged action
    v_hat: np.ndarray | None = None  # (n, T) sum_a pi(a | s_t) q_hat(s_t, a)
    gamma: float = 1.0

    def __post_init__(self) -> None:
        shape = self.reward.shape
        for name in ("propensity", "target", "active"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have the rewards' (episodes, periods) shape {shape}")
        check_probabilities("propensity", self.propensity, where=self.active)
        first_bad(
            "target",
            self.target,
            self.active & ~((self.target >= 0) & (self.target <= 1)),
            "a probability in [0, 1]",
        )
        check_finite("reward", np.where(self.active, self.reward, 0.0))

    @property
    def n(self) -> int:
        return int(self.reward.shape[0])

    def cumulative_ratio(self) -> np.ndarray:
        """(n, T) rho_{1:t}: the product of per-period ratios up to and including t."""
        ratio = np.where(self.active, self.target / np.where(self.active, self.propensity, 1.0), 1.0)
        return np.cumprod(ratio, axis=1)

    def discount(self) -> np.ndarray:
        return self.gamma ** np.arange(self.reward.shape[1])


def logged_return(e: LoggedEpisodes) -> Parts:
    """The logging policy's own campaign value: each episode's discounted return (on-policy)."""
    terms = (e.discount() * np.where(e.active, e.reward, 0.0)).sum(axis=1)
    return np.zeros(e.n), terms, np.ones(e.n)


def diagnose_episodes(e: LoggedEpisodes) -> Diagnostics:
    """Weights of whole campaigns (rho over every period an episode ran): how many logged
    campaigns the estimate is worth. ``zero_probability_share`` counts logged decisions."""
    zero = float((e.target[e.active] == 0).mean())
    return from_weights(e.cumulative_ratio()[:, -1], zero_probability_share=zero, violation=None)


@dataclass(frozen=True)
class PDIS:
    name: str = "PDIS"

    def parts(self, e: LoggedEpisodes) -> Parts:
        terms = (e.discount() * e.cumulative_ratio() * np.where(e.active, e.reward, 0.0)).sum(axis=1)
        return np.zeros(e.n), terms, np.ones(e.n)


@dataclass(frozen=True)
class SeqDR:
    name: str = "SeqDR"

    def parts(self, e: LoggedEpisodes) -> Parts:
        if e.q_hat is None or e.v_hat is None:
            raise ValueError("SeqDR needs a reward model (q_hat and v_hat)")
        rho = e.cumulative_ratio()
        rho_before = np.concatenate([np.ones((e.n, 1)), rho[:, :-1]], axis=1)
        step = rho * (e.reward - e.q_hat) + rho_before * e.v_hat
        terms = (e.discount() * np.where(e.active, step, 0.0)).sum(axis=1)
        return np.zeros(e.n), terms, np.ones(e.n)


@dataclass(frozen=True)
class WPDIS:
    name: str = "WPDIS"

    def value(self, e: LoggedEpisodes) -> float:
        return float(self._from_sums(self._columns(e).sum(axis=0)[None, :], e)[0])

    def interval(self, e: LoggedEpisodes, *, resamples: int = 500, seed: int = 0) -> Interval:
        """Percentile interval over Poisson resamples of whole episodes (one compiled pass)."""
        draws = self._from_sums(poisson_weighted_sums(self._columns(e), resamples, seed)[:, :-1], e)
        low, high = np.percentile(draws, [2.5, 97.5])
        return Interval(self.value(e), float(low), float(high), f"bootstrap({resamples}, episodes)")

    @staticmethod
    def _columns(e: LoggedEpisodes) -> np.ndarray:
        """(n, 2T): rho_{1:t} r_t, then rho_{1:t}: each period's ratio estimate is a quotient of sums."""
        rho = e.cumulative_ratio()
        return np.hstack([rho * np.where(e.active, e.reward, 0.0), rho])

    @staticmethod
    def _from_sums(sums: np.ndarray, e: LoggedEpisodes) -> np.ndarray:
        periods = e.reward.shape[1]
        numerator, denominator = sums[:, :periods], sums[:, periods : 2 * periods]
        ratio = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)
        return ratio @ e.discount()
