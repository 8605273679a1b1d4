"""Compiled (numba) passes of the environment step: resolve actions against the masks, settle
the period, write observations.

They do what ``simulators.state.advance`` and the observation layout of ``CampaignEngine`` say,
one shopper at a time in a single loop (rows split across the cores; no row reads another),
updating the state arrays in place (tests hold them equal to the numpy ``advance``). Each pass
is a loop over a row function (``*_row``), so ``fused.py`` can run them, with a world's own
row response, in one loop. Kept world-agnostic: the world's response happens between them.

Arrays go in one by one, hence the long parameter lists: grouped in tuples, numba 0.68's
parallel loops silently dropped some writes through them (a reset ``period`` stayed put; a
results tuple came back unwritten; tests caught both). Tuples of scalars are safe (fused.py's
``rules``).
"""

from __future__ import annotations

import numba
import numpy as np

from campaign_sim.core.seeding import pair_uniforms, row_base


@numba.njit(cache=True, inline="always")
def resolve_row(
    i, action, shape, consent, unsubscribed, recent, max_contacts, costs, left
):  # pragma: no cover - compiled
    """Row ``i``'s (discount, channel, copy) indices clipped into the spaces, with the channel
    dropped to 0 (no contact) if the mask forbids it: consent, unsubscribed, frequency cap, a
    contact the budget ``left`` cannot pay. Returns them and whether the channel was masked."""
    di = min(max(action[i, 0], 0), shape[0] - 1)
    ci = min(max(action[i, 1], 0), shape[1] - 1)
    ki = min(max(action[i, 2], 0), shape[2] - 1)
    contacts = 0
    for j in range(recent.shape[1]):
        contacts += recent[i, j]
    # bitwise, not short-circuit: random actions made each of these branches a coin flip
    masked = (
        (not consent[i, ci]) | unsubscribed[i, ci] | (contacts >= max_contacts) | (costs[ci] > left + 1e-12)
    )
    invalid = (ci > 0) & masked
    ci = 0 if invalid else ci
    return (di if ci > 0 else 0), ci, ki, invalid


@numba.njit(cache=True, parallel=True)
def resolve_actions(
    action, shape, consent, unsubscribed, recent, max_contacts, costs, budget_left, discounts
):  # pragma: no cover - compiled
    """``resolve_row`` for every row (``budget_left`` has one entry per row, or one for all).
    Returns discount, channel and copy indices, the flat action (0 for no contact), the
    discount offered and whether the channel was masked."""
    n = action.shape[0]
    d, c, k, flat = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    offered, invalid = np.empty(n), np.zeros(n, dtype=np.bool_)
    shared = budget_left.shape[0] == 1
    for i in numba.prange(n):  # rows are independent
        left = budget_left[0] if shared else budget_left[i]
        d[i], c[i], k[i], invalid[i] = resolve_row(
            i, action, shape, consent, unsubscribed, recent, max_contacts, costs, left
        )
        flat[i] = (d[i] * shape[1] + c[i]) * shape[2] + k[i] if c[i] > 0 else 0
        offered[i] = discounts[d[i]] if c[i] > 0 else 0.0
    return d, c, k, flat, offered, invalid


@numba.njit(cache=True, inline="always")
def settle_row(
    i,
    c,
    discount,
    revenue,
    expected_revenue,
    conversion,
    unsubscribe,
    disagreement,
    margin,
    costs,
    coupon_cap,
    pessimism,
    consent,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    fatigue_decay,
    exposure_decay,
    since_cap,
    horizon,
    expected_reward,
):  # pragma: no cover - compiled
    """Row ``i``'s state transition (in place) and period accounting, given its channel ``c``,
    discount and outcomes (scalars). Returns reward, profit, expected profit, discount cost,
    contact cost, penalty, terminated, truncated; the reward is the expected profit (revenue
    replaced by its expectation) if ``expected_reward``."""
    contacted = c > 0
    discount_cost = discount * min(revenue, coupon_cap)
    contact_cost = costs[c]
    profit = revenue * margin - discount_cost - contact_cost
    penalty = pessimism * disagreement
    expected_profit = expected_revenue * (margin - discount) - contact_cost
    reward = (expected_profit if expected_reward else profit) - penalty
    if contacted and unsubscribe:
        unsubscribed[i, c] = True
    recent[i, period[i] % recent.shape[1]] = 1 if contacted else 0
    fatigue[i] = fatigue_decay * fatigue[i] + (1.0 if contacted else 0.0)
    exposure[i] = exposure_decay * exposure[i] + discount
    since_contact[i] = 0.0 if contacted else min(since_contact[i] + 1.0, since_cap)
    since_purchase[i] = 0.0 if conversion else min(since_purchase[i] + 1.0, since_cap)
    period[i] += 1
    consented = False
    reachable = False
    for j in range(1, consent.shape[1]):
        consented = consented or consent[i, j]
        reachable = reachable or (consent[i, j] and not unsubscribed[i, j])
    terminated = consented and not reachable
    truncated = period[i] >= horizon and not terminated
    return reward, profit, expected_profit, discount_cost, contact_cost, penalty, terminated, truncated


@numba.njit(cache=True, parallel=True)
def settle(
    channel,
    discount,
    revenue,
    expected_revenue,
    conversion,
    unsubscribe,
    disagreement,
    margin,
    costs,
    coupon_cap,
    pessimism,
    consent,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    fatigue_decay,
    exposure_decay,
    since_cap,
    horizon,
    expected_reward,
):  # pragma: no cover - compiled
    """``settle_row`` for every row: the period's per-slot arrays, in ``settle_row``'s order
    (the reward as float32)."""
    n = channel.shape[0]
    reward = np.empty(n, dtype=np.float32)
    profit, expected_profit, discount_cost = np.empty(n), np.empty(n), np.empty(n)
    contact_cost, penalty = np.empty(n), np.empty(n)
    terminated, truncated = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):  # rows are independent
        (
            reward[i],
            profit[i],
            expected_profit[i],
            discount_cost[i],
            contact_cost[i],
            penalty[i],
            terminated[i],
            truncated[i],
        ) = settle_row(
            i,
            channel[i],
            discount[i],
            revenue[i],
            expected_revenue[i],
            conversion[i],
            unsubscribe[i],
            disagreement[i],
            margin,
            costs,
            coupon_cap,
            pessimism,
            consent,
            fatigue,
            exposure,
            since_contact,
            since_purchase,
            unsubscribed,
            recent,
            period,
            fatigue_decay,
            exposure_decay,
            since_cap,
            horizon,
            expected_reward,
        )
    return reward, profit, expected_profit, discount_cost, contact_cost, penalty, terminated, truncated


@numba.njit(cache=True, inline="always")
def observation_row(
    out,
    o,
    i,
    features,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    budget_share,
    since_cap,
    max_contacts,
    horizon,
):  # pragma: no cover - compiled
    """Row ``o`` of ``out`` becomes slot ``i``'s observation: its shopper features, then the
    dynamic state, budget and time columns."""
    n_features, n_channels, window = features.shape[1], unsubscribed.shape[1], recent.shape[1]
    for j in range(n_features):
        out[o, j] = features[i, j]
    f = n_features
    out[o, f] = fatigue[i]
    out[o, f + 1] = exposure[i]
    out[o, f + 2] = since_contact[i] / since_cap
    out[o, f + 3] = since_purchase[i] / since_cap
    for j in range(1, n_channels):
        out[o, f + 3 + j] = 1.0 if unsubscribed[i, j] else 0.0
    contacts = 0
    for j in range(window):
        contacts += recent[i, j]
    out[o, f + 3 + n_channels] = contacts / max(max_contacts, 1)
    out[o, f + 4 + n_channels] = budget_share
    out[o, f + 5 + n_channels] = period[i] / horizon


@numba.njit(cache=True, parallel=True)
def write_observations(
    out,
    out_rows,
    rows,
    features,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    budget_share,
    since_cap,
    max_contacts,
    horizon,
):  # pragma: no cover - compiled
    """Row ``out_rows[r]`` of ``out`` becomes slot ``rows[r]``'s observation (one pass writes
    whole rows)."""
    for r in numba.prange(rows.shape[0]):  # rows are independent
        i = rows[r]
        observation_row(
            out,
            out_rows[r],
            i,
            features,
            fatigue,
            exposure,
            since_contact,
            since_purchase,
            unsubscribed,
            recent,
            period,
            budget_share[i],
            since_cap,
            max_contacts,
            horizon,
        )


@numba.njit(cache=True, inline="always")
def draw_shopper(key, draw_period, pool_size):  # pragma: no cover - compiled
    """The pool row an episode with ``key`` seats: a uniform at ``draw_period``."""
    draw, _ = pair_uniforms(row_base(key, draw_period), 0)
    return min(np.int64(draw * pool_size), pool_size - 1)


@numba.njit(cache=True, inline="always")
def fresh_state_row(
    i,
    last_purchase,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    since_cap,
):  # pragma: no cover - compiled
    """Slot ``i``'s dynamic state at the start of an episode; ``last_purchase`` is the seated
    shopper's periods since their last purchase."""
    for j in range(unsubscribed.shape[1]):
        unsubscribed[i, j] = False
    for j in range(recent.shape[1]):
        recent[i, j] = 0
    fatigue[i] = exposure[i] = 0.0
    since_contact[i] = since_cap
    since_purchase[i] = min(last_purchase, since_cap)
    period[i] = 0


@numba.njit(cache=True, inline="always")
def start_row(
    i,
    key,
    draw_period,
    slot_keys,
    shopper,
    pool_features,
    pool_consent,
    pool_since_purchase,
    features,
    consent,
    seated_since_purchase,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    since_cap,
):  # pragma: no cover - compiled
    """Slot ``i`` begins an episode with ``key``: it draws its shopper from the pool, takes a
    copy of the shopper's features and consent and starts from a fresh state. Returns the pool
    row drawn."""
    slot_keys[i] = key
    s = draw_shopper(key, draw_period, pool_features.shape[0])
    shopper[i] = s
    # element loops, not slices: a slice is a view whose reference count both threads bump
    for j in range(features.shape[1]):
        features[i, j] = pool_features[s, j]
    for j in range(consent.shape[1]):
        consent[i, j] = pool_consent[s, j]
    seated_since_purchase[i] = pool_since_purchase[s]
    fresh_state_row(
        i,
        pool_since_purchase[s],
        fatigue,
        exposure,
        since_contact,
        since_purchase,
        unsubscribed,
        recent,
        period,
        since_cap,
    )
    return s


@numba.njit(cache=True, parallel=True)
def start_slots(
    rows,
    keys,
    draw_period,
    slot_keys,
    shopper,
    pool_features,
    pool_consent,
    pool_since_purchase,
    features,
    consent,
    seated_since_purchase,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    since_cap,
):  # pragma: no cover - compiled
    """``start_row`` for slots ``rows`` with ``keys``, in one pass (numpy's fancy indexing per
    array cost more than the copies)."""
    for r in numba.prange(rows.shape[0]):  # rows are independent
        start_row(
            rows[r],
            keys[r],
            draw_period,
            slot_keys,
            shopper,
            pool_features,
            pool_consent,
            pool_since_purchase,
            features,
            consent,
            seated_since_purchase,
            fatigue,
            exposure,
            since_contact,
            since_purchase,
            unsubscribed,
            recent,
            period,
            since_cap,
        )
