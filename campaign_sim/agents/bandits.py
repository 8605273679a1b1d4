"""Contextual bandits over the flat action: LinUCB and linear Thompson sampling.

One ridge regression per action on the observation (plus an intercept) predicts this period's
reward. LinUCB picks the highest upper bound; Thompson sampling picks the best of one
posterior draw per action. Actions have independent posteriors, so for Thompson the exact
probability of each action is estimated by drawing many score vectors (what off-policy
evaluation needs). Both learn online from their own choices (``train_online``).
"""

from __future__ import annotations

import numpy as np

from campaign_sim.agents.evaluate import run_policy
from campaign_sim.agents.policy import flat_masks, greedy
from campaign_sim.envs.engine import CampaignEngine

THOMPSON_DRAWS = 64


class LinearBandit:
    """``kind`` "linucb" (bonus ``alpha`` x std) or "thompson" (posterior scale ``alpha``)."""

    def __init__(
        self,
        shape: tuple[int, int, int],
        dim: int,
        *,
        kind: str,
        alpha: float = 1.0,
        ridge: float = 1.0,
        seed: int = 0,
    ) -> None:
        if kind not in ("linucb", "thompson"):
            raise ValueError(f"kind must be 'linucb' or 'thompson', got {kind!r}")
        self.name, self.kind, self.alpha, self.shape = kind, kind, alpha, shape
        n_actions = int(np.prod(shape))
        self.gram = np.broadcast_to(ridge * np.eye(dim + 1), (n_actions, dim + 1, dim + 1)).copy()
        self.moment = np.zeros((n_actions, dim + 1))
        self.rng = np.random.default_rng(seed)
        self.valid: np.ndarray | None = None  # the engine's copy-action grid (``attach``)
        self._refresh()

    def attach(self, core) -> None:  # noqa: ANN001 - a SimulatorView
        self.valid = core.valid

    def _refresh(self) -> None:
        self.inverse = np.linalg.inv(self.gram)
        self.theta = np.einsum("aij,aj->ai", self.inverse, self.moment)

    def _scores(self, obs: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n, n_actions) mean and spread of ``actions``' rewards (zero for the others, which no
        row may take: the (discount, none, copy) cells, copies off their offers and channels)."""
        x = _with_intercept(obs)
        mean, spread = (
            np.zeros((x.shape[0], self.theta.shape[0])),
            np.zeros((x.shape[0], self.theta.shape[0])),
        )
        mean[:, actions] = x @ self.theta[actions].T
        quad = np.einsum("ni,aij,nj->na", x, self.inverse[actions], x, optimize=True)
        spread[:, actions] = np.sqrt(np.maximum(quad, 0.0))
        return mean, spread

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        allowed = flat_masks(masks, self.shape, self.valid)
        mean, spread = self._scores(obs, np.flatnonzero(allowed.any(axis=0)))
        if self.kind == "linucb":
            return greedy(mean + self.alpha * spread, allowed)
        counts = np.zeros(allowed.shape)
        rows = np.arange(allowed.shape[0])
        for _ in range(THOMPSON_DRAWS):
            draw = mean + self.alpha * spread * self.rng.standard_normal(mean.shape)
            counts[rows, np.where(allowed, draw, -np.inf).argmax(axis=1)] += 1.0
        return counts / THOMPSON_DRAWS

    def update(self, obs: np.ndarray, flat: np.ndarray, reward: np.ndarray, active: np.ndarray) -> None:
        x, r = _with_intercept(obs[active]), reward[active].astype(np.float64)
        for action in np.unique(flat[active]):
            rows = flat[active] == action
            self.gram[action] += x[rows].T @ x[rows]
            self.moment[action] += x[rows].T @ r[rows]
        self._refresh()


def train_online(bandit: LinearBandit, core: CampaignEngine, *, campaigns: int, seed: int) -> None:
    """Let ``bandit`` run ``campaigns`` whole campaigns of ``core.n`` shoppers, learning each period."""
    for round_ in range(campaigns):
        run_policy(bandit, core, seed=seed * 1_000 + round_, learn=bandit.update)


def _with_intercept(obs: np.ndarray) -> np.ndarray:
    return np.column_stack([obs.astype(np.float64), np.ones(obs.shape[0])])
