"""Baseline policies: random, config rules, business-as-usual, myopic greedy (and the oracle).

The myopic policy maximises expected profit this period under a world's response model:
under the fitted world it is the "myopic greedy" baseline, under the true synthetic world it
is the oracle every agent is measured against.
"""

from __future__ import annotations

import numpy as np

from campaign_sim.agents.policy import SimulatorView, flat_masks, greedy, masked_normalise
from campaign_sim.core.rules_config import RuleSpec
from campaign_sim.simulators.interface import World, WorldResponse
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual
from campaign_sim.simulators.synthetic.population import Population
from campaign_sim.simulators.synthetic.world import SyntheticWorld


class RandomPolicy:
    """Uniform over the allowed actions."""

    name = "random"

    def __init__(self, shape: tuple[int, int, int]) -> None:
        self.shape = shape

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        allowed = flat_masks(masks, self.shape)
        return masked_normalise(np.ones(allowed.shape), allowed)


class NoContactPolicy:
    """Contact nobody: the floor every campaign must beat (its cost is zero, and so is its lift)."""

    name = "contact-nobody"

    def __init__(self, shape: tuple[int, int, int]) -> None:
        self.shape = shape

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        probs = np.zeros((obs.shape[0], int(np.prod(self.shape))))
        probs[:, 0] = 1.0  # flat action 0: no discount, no channel, first copy
        return probs


class _CorePolicy:
    """A policy that reads the simulator it acts in (see ``policy.attach``)."""

    core: SimulatorView | None = None

    def attach(self, core: SimulatorView) -> None:
        self.core = core

    def _core(self) -> SimulatorView:
        if self.core is None:
            raise RuntimeError(f"policy {self.name!r} needs attach(core) before it can act")
        return self.core


class RulePolicy(_CorePolicy):
    """A rule from the config: one contact, every ``every`` periods, optionally only recent buyers."""

    def __init__(self, rule: RuleSpec, world: World) -> None:
        self.name = f"rule:{rule.name}"
        self.rule, self.shape = rule, (len(world.discounts), len(world.channels), len(world.copy_ids))
        copy = world.copy_ids.index(rule.copy) if rule.copy else 0
        action = (world.discounts.index(rule.discount), world.channels.index(rule.channel), copy)
        # channel "none": the rule contacts nobody (flat action 0), whatever discount it names
        contacts = rule.channel != world.channels[0]
        self.flat = int(np.ravel_multi_index(action, self.shape)) if contacts else 0

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        state = self._core().state
        allowed = flat_masks(masks, self.shape)
        wanted = state.period % self.rule.every == 0
        if self.rule.bought_within is not None:
            wanted &= state.since_purchase <= self.rule.bought_within
        choice = np.where(wanted & allowed[:, self.flat], self.flat, 0)
        probs = np.zeros(allowed.shape)
        probs[np.arange(choice.shape[0]), choice] = 1.0
        return probs


class BusinessAsUsual(_CorePolicy):
    """The synthetic world's logging policy (exploration included), on the true shopper."""

    name = "business-as-usual"

    def __init__(self, world: SyntheticWorld, *, explore: float = 0.2, uniform: bool = False) -> None:
        self.world, self.rule = world, business_as_usual(world, explore=explore, uniform=uniform)

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        core = self._core()
        data = core.shopper_data()
        fields = {name: data[name] for name in Population.__dataclass_fields__}
        allowed = flat_masks(masks, self.world.shape)
        return masked_normalise(self.rule(Population(**fields), core.state, allowed), allowed)


class MyopicPolicy(_CorePolicy):
    """Greedy on expected profit this period under ``world`` (mean response, minus
    ``pessimism`` x disagreement). Under the true world this is the myopic oracle."""

    def __init__(self, world: World, *, name: str = "myopic", pessimism: float = 0.0) -> None:
        self.world, self.name, self.pessimism = world, name, pessimism
        self.shape = (len(world.discounts), len(world.channels), len(world.copy_ids))

    def expected_profits(self, allowed: np.ndarray) -> np.ndarray:
        """(n, n_actions) expected profit of each action allowed for some row (-inf elsewhere)."""
        core = self._core()
        shoppers = core.shopper_data()
        n = allowed.shape[0]
        values = np.full(allowed.shape, -np.inf)
        for flat in np.flatnonzero(allowed.any(axis=0)):
            index = np.flatnonzero(allowed[:, flat])
            if index.size >= n / 2:
                index = np.arange(n)
                some, state = shoppers, core.state
            else:  # e.g. a copy written for one profile: only its customers' responses are needed
                some = {name: column[index] for name, column in shoppers.items()}
                state = core.state.subset(index)
            response = self.world.respond(some, state, np.full(index.size, flat))
            values[index, flat] = self._profit(response, flat) - self.pessimism * response.disagreement
        return values

    def _profit(self, r: WorldResponse, flat: int) -> np.ndarray:
        d, c, _ = np.unravel_index(flat, self.shape)
        discount = self.world.discounts[d] if c > 0 else 0.0
        order_value = np.exp(r.log_value_mean + 0.5 * r.value_sigma**2)
        margin = self.world.margin - discount
        return r.p_visit * r.p_conversion * order_value * margin - self.world.contact_cost[c]

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        allowed = flat_masks(masks, self.shape, self._core().valid)
        return greedy(self.expected_profits(allowed), allowed)


def oracle(world: SyntheticWorld) -> MyopicPolicy:
    """The myopic oracle: best expected profit this period under the TRUE response."""
    return MyopicPolicy(world, name="oracle-myopic")
