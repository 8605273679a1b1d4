"""Compiled (numba) passes of the environment step: resolve actions against the masks, settle
the period, write observations.

They do what ``simulators.state.advance`` and the observation layout of ``CampaignCore`` say,
one shopper at a time in a single loop (rows split across the cores; no row reads another),
updating the state arrays in place (tests hold them equal to the numpy ``advance``). Kept
world-agnostic: the world's response happens before.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, parallel=True)
def resolve_actions(
    action, shape, consent, unsubscribed, recent, max_contacts, costs, budget_left, discounts
):  # pragma: no cover - compiled
    """Clip (n, 3) actions into the spaces and drop a contact the channel mask forbids (consent,
    unsubscribed, frequency cap, a contact the budget cannot pay: ``budget_left`` has one entry
    per row, or one for all). Returns discount, channel and copy indices, the flat action (0 for
    no contact), the discount offered and whether the channel was masked."""
    n, window = action.shape[0], recent.shape[1]
    d, c, k, flat = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    offered, invalid = np.empty(n), np.zeros(n, dtype=np.bool_)
    shared = budget_left.shape[0] == 1
    for i in numba.prange(n):  # rows are independent
        di = min(max(action[i, 0], 0), shape[0] - 1)
        ci = min(max(action[i, 1], 0), shape[1] - 1)
        k[i] = min(max(action[i, 2], 0), shape[2] - 1)
        if ci > 0:
            contacts = 0
            for j in range(window):
                contacts += recent[i, j]
            left = budget_left[0] if shared else budget_left[i]
            if (
                not consent[i, ci]
                or unsubscribed[i, ci]
                or contacts >= max_contacts
                or costs[ci] > left + 1e-12
            ):
                invalid[i] = True
                ci = 0
        d[i], c[i] = (di if ci > 0 else 0), ci
        flat[i] = (di * shape[1] + ci) * shape[2] + k[i] if ci > 0 else 0
        offered[i] = discounts[di] if ci > 0 else 0.0
    return d, c, k, flat, offered, invalid


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
    """Period accounting and the state transition, in place. Returns the per-slot arrays; the
    reward is the expected profit (revenue replaced by its expectation) if ``expected_reward``."""
    n, n_channels, window = channel.shape[0], consent.shape[1], recent.shape[1]
    reward = np.empty(n, dtype=np.float32)
    profit, discount_cost, contact_cost, penalty = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    expected_profit = np.empty(n)
    terminated, truncated = np.zeros(n, dtype=np.bool_), np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):  # rows are independent
        c = channel[i]
        contacted = c > 0
        discount_cost[i] = discount[i] * min(revenue[i], coupon_cap)
        contact_cost[i] = costs[c]
        profit[i] = revenue[i] * margin - discount_cost[i] - contact_cost[i]
        penalty[i] = pessimism * disagreement[i]
        expected_profit[i] = expected_revenue[i] * (margin - discount[i]) - contact_cost[i]
        reward[i] = (expected_profit[i] if expected_reward else profit[i]) - penalty[i]
        if contacted and unsubscribe[i]:
            unsubscribed[i, c] = True
        recent[i, period[i] % window] = 1 if contacted else 0
        fatigue[i] = fatigue_decay * fatigue[i] + (1.0 if contacted else 0.0)
        exposure[i] = exposure_decay * exposure[i] + discount[i]
        since_contact[i] = 0.0 if contacted else min(since_contact[i] + 1.0, since_cap)
        since_purchase[i] = 0.0 if conversion[i] else min(since_purchase[i] + 1.0, since_cap)
        period[i] += 1
        consented = reachable = False
        for j in range(1, n_channels):
            consented = consented or consent[i, j]
            reachable = reachable or (consent[i, j] and not unsubscribed[i, j])
        terminated[i] = consented and not reachable
        truncated[i] = period[i] >= horizon and not terminated[i]
    return reward, profit, expected_profit, discount_cost, contact_cost, penalty, terminated, truncated


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
    """Row ``out_rows[r]`` of ``out`` becomes slot ``rows[r]``'s observation: its shopper features,
    then the dynamic state, budget and time columns (one pass writes whole rows)."""
    n_features, n_channels, window = features.shape[1], unsubscribed.shape[1], recent.shape[1]
    for r in numba.prange(rows.shape[0]):  # rows are independent
        i, o = rows[r], out_rows[r]
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
        out[o, f + 4 + n_channels] = budget_share[i]
        out[o, f + 5 + n_channels] = period[i] / horizon
