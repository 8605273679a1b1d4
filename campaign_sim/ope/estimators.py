"""Single-decision off-policy estimators as frozen dataclasses over arrays.

Every estimator reduces a logged batch to three per-row arrays, ``direct``, ``correction`` and
``normaliser``, and its value is ``mean(direct) + sum(correction) / sum(normaliser)``. That one
form covers DM, IPS, SNIPS, DR, SNDR, Switch-DR, DRos and clipped IPS, and lets the bootstrap
resample all of them at once (``intervals.py``): a resample only reweights the rows.

Notation: ``w = pi(a_i | x_i) / pi0(a_i | x_i)`` the importance weight of the logged action,
``q_hat`` (n, A) a reward model, ``dm = sum_a pi(a | x_i) q_hat(x_i, a)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from campaign_sim.ope.checks import (
    check_actions,
    check_distributions,
    check_finite,
    check_probabilities,
    check_shapes,
)


@dataclass(frozen=True)
class LoggedBandit:
    """A logged batch and the candidate policy's probabilities on it."""

    reward: np.ndarray  # (n,)
    action: np.ndarray  # (n,) int: logged action
    propensity: np.ndarray  # (n,) pi0(a_i | x_i) of the logging policy, > 0
    target: np.ndarray  # (n, A) pi(. | x_i) of the candidate policy
    q_hat: np.ndarray | None = None  # (n, A) reward model, needed by DM and the DR family

    def __post_init__(self) -> None:
        n = self.reward.shape[0]
        check_shapes(n, action=self.action, propensity=self.propensity, target=self.target)
        check_finite("reward", self.reward)
        check_probabilities("propensity", self.propensity)  # 0 cannot be reweighted
        check_actions("action", self.action, self.target.shape[1])
        check_distributions("target", self.target)
        if self.q_hat is not None:
            check_shapes(n, q_hat=self.q_hat)
            check_finite("q_hat", self.q_hat)

    @property
    def n(self) -> int:
        return int(self.reward.shape[0])

    @property
    def weight(self) -> np.ndarray:
        return self.target[np.arange(self.n), self.action] / self.propensity

    def model(self) -> tuple[np.ndarray, np.ndarray]:
        """``dm`` (n,) and ``q_hat`` of the logged action (n,)."""
        if self.q_hat is None:
            raise ValueError("this estimator needs a reward model (q_hat)")
        return (self.target * self.q_hat).sum(axis=1), self.q_hat[np.arange(self.n), self.action]


Parts = tuple[np.ndarray, np.ndarray, np.ndarray]


def combine(parts: Parts) -> float:
    direct, correction, normaliser = parts
    return float(direct.mean() + correction.sum() / normaliser.sum())


@dataclass(frozen=True)
class DM:
    name: str = "DM"

    def parts(self, d: LoggedBandit) -> Parts:
        dm, _ = d.model()
        return dm, np.zeros(d.n), np.ones(d.n)


@dataclass(frozen=True)
class IPS:
    name: str = "IPS"

    def parts(self, d: LoggedBandit) -> Parts:
        return np.zeros(d.n), d.weight * d.reward, np.ones(d.n)


@dataclass(frozen=True)
class SNIPS:
    name: str = "SNIPS"

    def parts(self, d: LoggedBandit) -> Parts:
        w = d.weight
        return np.zeros(d.n), w * d.reward, w


@dataclass(frozen=True)
class ClippedIPS:
    clip: float = 20.0
    name: str = "IPS-clipped"

    def parts(self, d: LoggedBandit) -> Parts:
        return np.zeros(d.n), np.minimum(d.weight, self.clip) * d.reward, np.ones(d.n)


@dataclass(frozen=True)
class DR:
    name: str = "DR"

    def parts(self, d: LoggedBandit) -> Parts:
        dm, q_logged = d.model()
        return dm, d.weight * (d.reward - q_logged), np.ones(d.n)


@dataclass(frozen=True)
class SNDR:
    name: str = "SNDR"

    def parts(self, d: LoggedBandit) -> Parts:
        dm, q_logged = d.model()
        w = d.weight
        return dm, w * (d.reward - q_logged), w


@dataclass(frozen=True)
class SwitchDR:
    """DR where the weight is at most ``tau``; the reward model alone elsewhere (OBP's form)."""

    tau: float = 20.0
    name: str = "Switch-DR"

    def parts(self, d: LoggedBandit) -> Parts:
        dm, q_logged = d.model()
        w = d.weight
        return dm, np.where(w <= self.tau, w * (d.reward - q_logged), 0.0), np.ones(d.n)


@dataclass(frozen=True)
class DRos:
    """DR with optimistic shrinkage of the weights, w -> lam w / (w^2 + lam) (Su et al., 2020)."""

    lam: float = 10.0
    name: str = "DRos"

    def parts(self, d: LoggedBandit) -> Parts:
        dm, q_logged = d.model()
        w = d.weight
        shrunk = self.lam * w / (w**2 + self.lam)
        return dm, shrunk * (d.reward - q_logged), np.ones(d.n)


ALL = (DM(), IPS(), SNIPS(), ClippedIPS(), DR(), SNDR(), SwitchDR(), DRos())
WITHOUT_MODEL = (IPS(), SNIPS(), ClippedIPS())
