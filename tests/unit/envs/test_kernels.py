"""The compiled step passes agree with the numpy definitions they speed up."""

from __future__ import annotations

import numpy as np

from campaign_sim.envs.kernels import settle
from campaign_sim.simulators.state import SINCE_CAP, Dynamics, ShopperState, advance


def test_settle_updates_state_like_advance():
    rng = np.random.default_rng(0)
    n, channels, window = 2_000, 4, 4
    dynamics = Dynamics(fatigue_decay=0.7, exposure_decay=0.9, contact_window=window, max_contacts=3)
    state = ShopperState.initial(rng.uniform(0, 30, n), channels, window)
    state.fatigue[:] = rng.random(n) * 2
    state.discount_exposure[:] = rng.random(n)
    state.unsubscribed[:, 2] = rng.random(n) < 0.3
    state.recent_contacts[:] = rng.random((n, window)) < 0.4
    state.period[:] = rng.integers(0, 11, n)
    channel = rng.integers(0, channels, n)
    discount = np.where(channel > 0, rng.choice([0.0, 0.1, 0.2], n), 0.0)
    conversion = rng.random(n) < 0.2
    unsubscribe = rng.random(n) < 0.1
    expected = advance(
        state,
        dynamics,
        channel=channel,
        discount=discount,
        purchased=conversion,
        unsubscribed_now=unsubscribe,
    )
    consent = rng.random((n, channels)) < 0.7
    consent[:, 0] = True
    revenue = np.where(conversion, rng.lognormal(4.4, 0.8, n), 0.0)
    arrays = [
        state.fatigue.copy(),
        state.discount_exposure.copy(),
        state.since_contact.copy(),
        state.since_purchase.copy(),
        state.unsubscribed.copy(),
        state.recent_contacts.copy(),
        state.period.copy(),
    ]
    reward, profit, discount_cost, contact_cost, penalty, terminated, truncated = settle(
        channel,
        discount,
        revenue,
        conversion,
        unsubscribe,
        np.full(n, 0.5),
        0.4,
        np.array([0.0, 0.01, 0.05, 0.005]),
        500.0,
        2.0,
        consent,
        *arrays,
        0.7,
        0.9,
        SINCE_CAP,
        12,
    )
    for got, want in zip(
        arrays,
        (
            expected.fatigue,
            expected.discount_exposure,
            expected.since_contact,
            expected.since_purchase,
            expected.unsubscribed,
            expected.recent_contacts,
            expected.period,
        ),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(profit, revenue * 0.4 - discount * np.minimum(revenue, 500) - contact_cost)
    np.testing.assert_allclose(reward, profit - 1.0, rtol=1e-6, atol=1e-5)
    reachable = (consent[:, 1:] & ~expected.unsubscribed[:, 1:]).any(axis=1)
    np.testing.assert_array_equal(terminated, consent[:, 1:].any(axis=1) & ~reachable)
    np.testing.assert_array_equal(truncated, (expected.period >= 12) & ~terminated)
