"""The ``Policy`` protocol every agent and baseline implements, and the flat-action helpers.

A policy maps a batch of observations and sb3-contrib action masks to probabilities over the
*flat* action ``(discount, channel, copy)`` raveled in C order. "No contact" is the single
flat action 0: with channel "none" the discount and copy mean nothing, so the other
(discount, none, copy) cells never get probability. Evaluation, off-policy evaluation and
reports only ever see ``action_probs``, so SB3 agents and baselines are treated alike.

Policies that decide from the simulator's own state (business-as-usual on the true shopper,
myopic greedy under a world, the SPIBB policies) also implement ``attach(view)``: evaluation
calls it with the ``CampaignEngine`` they act in before the first decision, and they read it
only through ``SimulatorView``. The rollout oracle, which simulates ahead, takes the engine.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from campaign_sim.envs.engine import CampaignEngine
from campaign_sim.simulators.state import ShopperState


@runtime_checkable
class Policy(Protocol):
    name: str

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """(n, n_actions) probabilities, zero outside ``flat_masks(masks)``."""
        ...


class SimulatorView(Protocol):
    """What a policy that reads the simulator may see of the shoppers it decides for (the
    ``CampaignEngine`` is one)."""

    n: int  # shoppers deciding together
    shape: tuple[int, int, int]  # discounts, channels, copies
    valid: np.ndarray | None  # (discounts, channels, copies): which copy goes with which action

    @property
    def state(self) -> ShopperState:
        """Their dynamic state now (read-only by convention)."""
        ...

    def shopper_data(self) -> dict[str, np.ndarray]:
        """The world's per-shopper data of the shoppers seated now (one row each)."""
        ...


def attach(policy: Policy, core: CampaignEngine) -> None:
    """Let a policy that reads the simulator state see ``core`` (no-op for the others)."""
    hook = getattr(policy, "attach", None)
    if hook is not None:
        hook(core)


def flat_masks(masks: np.ndarray, shape: tuple[int, int, int], valid: np.ndarray | None = None) -> np.ndarray:
    """sb3-contrib MultiDiscrete masks (n, D + C + K) -> (n, D * C * K) allowed flat actions;
    ``valid`` (D, C, K), the engine's: which copy may go with which offer and channel."""
    n_d, n_c, n_k = shape
    d, c, k = masks[:, :n_d], masks[:, n_d : n_d + n_c], masks[:, n_d + n_c :]
    allowed = d[:, :, None, None] & c[:, None, :, None] & k[:, None, None, :]
    if valid is not None:
        allowed &= valid[None]
    allowed[:, :, 0, :] = False
    allowed[:, 0, 0, 0] = True  # no contact is always possible
    return allowed.reshape(masks.shape[0], -1)


def unflatten(flat: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """(n,) flat indices -> (n, 3) (discount, channel, copy) indices."""
    return np.column_stack(np.unravel_index(flat, shape)).astype(np.int64)


def masked_normalise(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Non-negative ``scores`` restricted to ``allowed`` and normalised per row; uniform over the
    allowed actions where a row has no mass left."""
    probs = np.where(allowed, np.maximum(scores, 0.0), 0.0)
    total = probs.sum(axis=1, keepdims=True)
    uniform = allowed / allowed.sum(axis=1, keepdims=True)
    return np.where(total > 0, probs / np.where(total > 0, total, 1.0), uniform)


def one_hot(index: np.ndarray, n_actions: int) -> np.ndarray:
    out = np.zeros((index.shape[0], n_actions))
    out[np.arange(index.shape[0]), index] = 1.0
    return out


def greedy(values: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """One-hot of the best allowed action per row (ties to the lowest index: no contact first)."""
    return one_hot(np.where(allowed, values, -np.inf).argmax(axis=1), values.shape[1])


def sample_actions(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One flat action per row from uniforms ``u`` (n,) in [0, 1) by inverse CDF."""
    cumulative = np.cumsum(probs, axis=1)
    # cum[i-1] <= x < cum[i] picks i, so an action with zero probability is never drawn
    picked = (cumulative <= (u * cumulative[:, -1])[:, None]).sum(axis=1)
    return np.minimum(picked, probs.shape[1] - 1)
