"""The compiled step passes agree with the numpy definitions they speed up."""

from __future__ import annotations

import numpy as np

from campaign_sim.envs.kernels import resolve_actions, settle
from campaign_sim.envs.records import Rules, copy_state, field, new_flags, new_results, new_slots, state_of
from campaign_sim.simulators.interface import flat_action
from campaign_sim.simulators.state import Dynamics, ShopperState, advance, contactable


def _rules(dynamics: Dynamics, shape: tuple[int, int, int], **rules) -> Rules:
    return Rules(
        *shape,
        max_contacts=dynamics.max_contacts,
        fatigue_decay=dynamics.fatigue_decay,
        exposure_decay=dynamics.exposure_decay,
        **{
            "margin": 0.4,
            "coupon_cap": 500.0,
            "pessimism": 2.0,
            "horizon": 12,
            "expected_reward": False,
            **rules,
        },
    )


def _slots(state: ShopperState, n_channels: int) -> tuple[np.ndarray, np.ndarray, ShopperState]:
    """Slot records and flags holding ``state``, and the state view of them."""
    slots, flags = new_slots(state.n), new_flags(state.n, n_channels, state.recent_contacts.shape[1])
    view = state_of(slots, flags, n_channels)
    copy_state(view, state)
    return slots, flags, view


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
    slots, flags, settled = _slots(state, channels)
    results = new_results(n)
    outcomes = {
        "channel": channel,
        "discount": discount,
        "revenue": revenue,
        "expected_revenue": rng.random(n) * 3,
        "conversion": conversion,
        "unsubscribe": unsubscribe,
        "disagreement": np.full(n, 0.5),
    }
    for name, values in outcomes.items():
        results[name] = values
    costs = np.array([0.0, 0.01, 0.05, 0.005])
    settle(results, slots, flags, consent, _rules(dynamics, (3, channels, 2)), costs)
    reward, profit, expected_profit, contact_cost, terminated, truncated = (
        field(results, name)
        for name in ("reward", "profit", "expected_profit", "contact_cost", "terminated", "truncated")
    )
    expected_revenue = outcomes["expected_revenue"]
    for got, want in zip(
        vars(settled).values(),
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
    np.testing.assert_allclose(expected_profit, expected_revenue * (0.4 - discount) - contact_cost)
    reachable = (consent[:, 1:] & ~expected.unsubscribed[:, 1:]).any(axis=1)
    np.testing.assert_array_equal(terminated, consent[:, 1:].any(axis=1) & ~reachable)
    np.testing.assert_array_equal(truncated, (expected.period >= 12) & ~terminated)


def test_resolve_actions_applies_the_channel_mask_like_contactable():
    rng = np.random.default_rng(1)
    n, shape, window = 5_000, (4, 4, 4), 4
    dynamics = Dynamics(contact_window=window, max_contacts=2)
    state = ShopperState.initial(np.zeros(n), shape[1], window)
    state.unsubscribed[:, 1:] = rng.random((n, 3)) < 0.2
    state.recent_contacts[:] = rng.random((n, window)) < 0.4
    consent = rng.random((n, shape[1])) < 0.7
    consent[:, 0] = True
    costs, discounts = np.array([0.0, 0.01, 0.05, 0.005]), np.array([0.0, 0.1, 0.2, 0.3])
    action = rng.integers(-1, 5, size=(n, 3))  # some outside the spaces: clipped
    left = rng.choice([0.0, 0.02, 1.0], n)  # per-slot budgets: sms unaffordable below 0.05
    _, flags, _ = _slots(state, shape[1])
    d, c, k, flat, offered, invalid = resolve_actions(
        action, flags, consent, _rules(dynamics, shape), costs, left, discounts
    )
    clipped = np.clip(action, 0, np.array(shape) - 1)
    allowed = contactable(state, consent, dynamics) & (costs[None, :] <= left[:, None] + 1e-12)
    allowed[:, 0] = True
    want_invalid = ~allowed[np.arange(n), clipped[:, 1]]
    np.testing.assert_array_equal(invalid, want_invalid)
    want_c = np.where(want_invalid, 0, clipped[:, 1])
    np.testing.assert_array_equal(c, want_c)
    np.testing.assert_array_equal(d, np.where(want_c > 0, clipped[:, 0], 0))
    np.testing.assert_array_equal(k, clipped[:, 2])
    np.testing.assert_array_equal(flat, flat_action(d, c, k, shape))
    np.testing.assert_array_equal(offered, np.where(want_c > 0, discounts[d], 0.0))
    assert 0.1 < want_invalid.mean() < 0.9  # the mask bites, and not everywhere
