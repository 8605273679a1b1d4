"""Safe policy improvement: the behaviour policy and baseline-bootstrapped (SPIBB) policies.

Π≤b-SPIBB (Laroche, Trichelair & Tachet des Combes, "Safe Policy Improvement with Baseline
Bootstrapping", ICML 2019): in a (context group, action) cell logged fewer than N∧ times, or
where the behaviour policy takes the action less than MIN_BEHAVIOUR_PROB of the time, the
policy never puts more probability than the behaviour policy does; the rest of the mass goes to
the best well-supported action. Its greedy projection, per state: walk the actions from the
highest estimated value down; a thin action takes at most its behaviour probability, the first
supported action takes all that is left. With no supported action the row is exactly the
behaviour policy. ``action_probs`` is the mixture that is deployed and evaluated.

Action values come from the fitted world (expected profit this period, less ``pessimism`` x the
ensemble's disagreement) averaged over each group's logged states: a table per (group, action),
the finite-state setting the paper's guarantee is stated for, and cheap at every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from campaign_sim.agents.baselines import _CorePolicy
from campaign_sim.agents.policy import flat_masks
from campaign_sim.simulators.fitted.world import FittedWorld

Q_ROWS_PER_GROUP = 2_000  # logged states per group the value table averages over
# A cell is supported only where the logging policy also takes the action at least this often:
# mass moved onto rarer actions gets importance weights above 1/MIN_BEHAVIOUR_PROB, and its
# held-out estimate rests on a handful of purchases (bench_safety: a candidate moving mass onto
# 0.12%-explored discounts scored +3.5 [+1.0, +7.6] on the gate customers, truth +0.03).
MIN_BEHAVIOUR_PROB = 0.01


class BehaviourPolicy(_CorePolicy):
    """The logging policy, from the fitted world's behaviour model (usable at any state)."""

    def __init__(self, world: FittedWorld, *, name: str = "behaviour") -> None:
        self.world, self.name = world, name
        self.shape = world.config.actions.shape

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        core = self._core()
        x = core.shopper_data()["x"]
        return self.probs_at(x, self.world.raw_state(core.state), flat_masks(masks, self.shape))

    def probs_at(self, x: np.ndarray, raw: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        return self.world.behaviour_probs(x, raw, allowed)


class SpibbPolicy(_CorePolicy):
    """Π≤b-SPIBB over a (group, action) value table; ``n_min`` is the support threshold N∧ in
    logged decisions per cell. ``bounded=False`` is Πb-SPIBB (thin cells keep exactly the
    behaviour probability)."""

    def __init__(
        self, world: FittedWorld, values: np.ndarray, *, n_min: int, name: str, bounded: bool = True
    ) -> None:
        self.world, self.values, self.n_min, self.name, self.bounded = world, values, n_min, name, bounded
        self.shape = world.config.actions.shape
        self.supported = world.support_table.decisions >= n_min  # (groups, actions)

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        core = self._core()
        x = core.shopper_data()["x"]
        allowed = flat_masks(masks, self.shape)
        return self.probs_at(x, self.world.raw_state(core.state), allowed)

    def probs_at(self, x: np.ndarray, raw: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        """(n, A) the deployed mixture at shoppers ``x`` in dynamic state ``raw`` (as in a log)."""
        behaviour = self.world.behaviour_probs(x, raw, allowed)
        group = self.world.group_of(x, raw)
        values = np.where(allowed, self.values[group], -np.inf)
        thin = ~self.supported[group] | (behaviour < MIN_BEHAVIOUR_PROB)
        return spibb_projection(behaviour, values, thin & allowed, bounded=self.bounded)


class MixturePolicy(_CorePolicy):
    """(1 - ``share``) x the behaviour policy + ``share`` x ``policy``: a partial roll-out.

    Conservative policy iteration (Kakade & Langford, ICML 2002): the first-order gain of a
    mixture is ``share`` times the full change's, while the error of estimating it from the
    logging policy's states shrinks with ``share`` squared. Deployed as "with probability
    ``share`` act as ``policy``, else as usual"."""

    def __init__(self, policy: SpibbPolicy, *, share: float, name: str) -> None:
        self.policy, self.share, self.name = policy, share, name
        self.world, self.shape, self.n_min = policy.world, policy.shape, policy.n_min

    def attach(self, core) -> None:
        super().attach(core)
        self.policy.attach(core)

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        core = self._core()
        x = core.shopper_data()["x"]
        return self.probs_at(x, self.world.raw_state(core.state), flat_masks(masks, self.shape))

    def probs_at(self, x: np.ndarray, raw: dict[str, np.ndarray], allowed: np.ndarray) -> np.ndarray:
        behaviour = self.world.behaviour_probs(x, raw, allowed)
        return (1 - self.share) * behaviour + self.share * self.policy.probs_at(x, raw, allowed)


def spibb_projection(
    behaviour: np.ndarray, values: np.ndarray, thin: np.ndarray, *, bounded: bool = True
) -> np.ndarray:
    """(n, A) SPIBB policy from behaviour probabilities, action values (-inf: not allowed) and
    the thin cells. Supported = allowed and not thin; rows without one keep the behaviour policy."""
    n = behaviour.shape[0]
    supported = np.isfinite(values) & ~thin
    best = np.where(supported, values, -np.inf).argmax(axis=1)
    has_support = supported.any(axis=1)
    # Π≤b: thin actions valued above the best supported one keep their behaviour mass; Πb: all do
    above_best = values > values[np.arange(n), best][:, None]
    keep_thin = thin & above_best if bounded else thin
    probs = np.where(keep_thin, behaviour, 0.0)
    probs[np.arange(n), best] += 1.0 - probs.sum(axis=1)
    return np.where(has_support[:, None], probs, behaviour)


@dataclass(frozen=True)
class ValueStates:
    """The logged states a value table averages over: up to Q_ROWS_PER_GROUP per group."""

    shopper: np.ndarray  # (rows, shopper_dim) encoded
    state: np.ndarray  # (rows, state_dim) standardised
    group: np.ndarray  # (rows,) context group
    groups: int

    def table(self, values: ActionValues, *, pessimism: float) -> np.ndarray:
        """(groups, actions) mean of ``values.mean - pessimism x values.spread`` per group."""
        table = np.zeros((self.groups, values.mean.shape[0]))
        for action in range(values.mean.shape[0]):
            np.add.at(table[:, action], self.group, values.mean[action] - pessimism * values.spread[action])
        return table / np.maximum(np.bincount(self.group, minlength=self.groups), 1)[:, None]


@dataclass(frozen=True)
class ActionValues:
    """Each action's expected profit this period at each sampled state, and the ensemble's
    disagreement on it: (actions, rows) arrays, computed once for every pessimism level."""

    mean: np.ndarray
    spread: np.ndarray

    @staticmethod
    def join(parts: list[ActionValues]) -> ActionValues:
        """Values computed for consecutive action chunks, as one."""
        mean, spread = (np.concatenate([getattr(p, k) for p in parts]) for k in ("mean", "spread"))
        return ActionValues(mean, spread)


def value_states(world: FittedWorld, frame: pl.DataFrame, *, seed: int) -> ValueStates:
    """Up to Q_ROWS_PER_GROUP logged states of each group of ``frame``, drawn with ``seed``."""
    enc = world.encoding
    x, state_std = enc.shopper_matrix(frame), enc.state_matrix(frame)
    raw = {c: frame.get_column(c).cast(pl.Float64).to_numpy() for c in enc.state}
    group = world.support_table.group_of(x, raw.__getitem__, enc)
    rng = np.random.default_rng([seed, 0x0A])
    rows = np.concatenate(
        [
            rng.permutation(np.flatnonzero(group == g))[:Q_ROWS_PER_GROUP]
            for g in range(world.support_table.groups)
        ]
    )
    return ValueStates(x[rows], state_std[rows], group[rows], world.support_table.groups)


def action_values(world: FittedWorld, states: ValueStates, actions: range) -> ActionValues:
    """The fitted world's expected profit of each of ``actions`` at every sampled state."""
    pairs = [
        world.expected_reward(states.shopper, states.state, np.full(states.group.size, a)) for a in actions
    ]
    return ActionValues(np.array([m for m, _ in pairs]), np.array([s for _, s in pairs]))


def value_table(world: FittedWorld, frame: pl.DataFrame, *, pessimism: float, seed: int) -> np.ndarray:
    """(groups, actions) the fitted world's expected profit of each action (minus ``pessimism``
    x disagreement), averaged over up to Q_ROWS_PER_GROUP logged states of each group."""
    states = value_states(world, frame, seed=seed)
    values = action_values(world, states, range(world.config.actions.n_actions))
    return states.table(values, pessimism=pessimism)
