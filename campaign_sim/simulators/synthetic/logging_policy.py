"""Business-as-usual: what a competent CRM team runs, with recorded exploration.

Rule: e-mail shoppers who bought recently the new-arrivals copy at full price every other
period; win back the lapsed with 10% off and the personal copy (by SMS when e-mail is not
possible), but at most one discount in a while (teams know discounts train shoppers to wait),
else the personal copy at full price.
With probability ``explore`` the action is instead drawn over the allowed actions, discounted
ones at a tenth of the weight (``uniform=True``: all at equal weight, the exploring history of
bench_safety), so every allowed action has support in the log and the recorded propensities
are exact.
"""

from __future__ import annotations

import numpy as np

from campaign_sim.simulators.state import ShopperState
from campaign_sim.simulators.synthetic.population import Population
from campaign_sim.simulators.synthetic.world import SyntheticWorld

ACTIVE_PERIODS = 6  # bought within the last 6 periods (three months): "recently active"
RECENT_DISCOUNT = 0.05  # discount exposure above this: discounted recently, no new offer
DISCOUNT_EXPLORE_WEIGHT = 0.1


def business_as_usual(world: SyntheticWorld, *, explore: float = 0.2, uniform: bool = False):
    """The logging policy as a ``PolicyFn`` over ``world``'s flat actions."""
    d_std, d_deep = world.discounts.index(0.0), world.discounts.index(0.1)
    email, sms = world.channels.index("email"), world.channels.index("sms")
    standard, personal = world.copy_ids.index("standard"), world.copy_ids.index("personal")
    shape = world.shape
    discounted = world.unflatten(np.arange(world.n_actions))[:, 0] > 0
    explore_weights = np.where(discounted & (not uniform), DISCOUNT_EXPLORE_WEIGHT, 1.0)

    def probabilities(pop: Population, state: ShopperState, allowed: np.ndarray) -> np.ndarray:
        active = state.since_purchase <= ACTIVE_PERIODS
        rested = state.since_contact >= 1
        rule = np.zeros(pop.n, dtype=np.int64)  # flat 0 = no contact
        email_ok = allowed[:, np.ravel_multi_index((d_std, email, standard), shape)] & rested
        sms_ok = allowed[:, np.ravel_multi_index((d_deep, sms, personal), shape)] & rested
        rule = np.where(email_ok & active, np.ravel_multi_index((d_std, email, standard), shape), rule)
        winback = np.where(state.discount_exposure < RECENT_DISCOUNT, d_deep, d_std)
        rule = np.where(email_ok & ~active, np.ravel_multi_index((winback, email, personal), shape), rule)
        rule = np.where(
            ~email_ok & sms_ok & ~active, np.ravel_multi_index((winback, sms, personal), shape), rule
        )
        weights = allowed * explore_weights
        probs = explore * weights / weights.sum(axis=1, keepdims=True)
        probs[np.arange(pop.n), rule] += 1.0 - explore
        return probs

    return probabilities
