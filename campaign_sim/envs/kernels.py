"""Compiled (numba) passes of the environment step: resolve actions against the masks, settle
the period, write observations, start episodes.

They do what ``simulators.state.advance`` and the observation layout of ``CampaignEngine`` say,
one shopper at a time in a single loop (rows split across the cores; no row reads another),
updating the slots in place (tests hold them equal to the numpy ``advance``). Each pass is a
loop over a row function (``*_row``), so ``fused.py`` can run them, with a world's own row
response, in one loop. Kept world-agnostic: the world's response happens between them.

Per-slot state and results are record arrays (``slots``, ``results``), the per-channel
unsubscribes and recent contacts one (n, C + W) array (``flags``), the scalars one ``Rules``
tuple; ``records.py`` says why not tuples of arrays. Rows of 2-D arrays go to row functions as
(array, row index), not slices: a slice is a view whose reference count both threads bump.
"""

from __future__ import annotations

import numba
import numpy as np

from campaign_sim.core.seeding import pair_uniforms, row_base
from campaign_sim.simulators.state import SINCE_CAP

DRAW_PERIOD = np.uint64(2**40)  # the "period" at which a slot's shopper is drawn


@numba.njit(cache=True, inline="always")
def resolve_row(i, action, flags, consent, rules, costs, left):  # pragma: no cover - compiled
    """Slot ``i``'s (discount, channel, copy) ``action`` clipped into the spaces, with the
    channel dropped to 0 (no contact) if the mask forbids it: consent, unsubscribed, frequency
    cap, a contact the budget ``left`` cannot pay. Returns them and whether the channel was
    masked."""
    di = min(max(action[i, 0], 0), rules.n_discounts - 1)
    ci = min(max(action[i, 1], 0), rules.n_channels - 1)
    ki = min(max(action[i, 2], 0), rules.n_copies - 1)
    contacts = 0
    for j in range(rules.n_channels, flags.shape[1]):
        contacts += flags[i, j]
    # bitwise, not short-circuit: random actions made each of these branches a coin flip
    masked = (
        (not consent[i, ci])
        | (flags[i, ci] != 0)
        | (contacts >= rules.max_contacts)
        | (costs[ci] > left + 1e-12)
    )
    invalid = (ci > 0) & masked
    ci = 0 if invalid else ci
    return (di if ci > 0 else 0), ci, ki, invalid


@numba.njit(cache=True, parallel=True)
def resolve_actions(
    action, flags, consent, rules, costs, budget_left, discounts
):  # pragma: no cover - compiled
    """``resolve_row`` for every row (``budget_left`` has one entry per row, or one for all).
    Returns discount, channel and copy indices, the flat action (0 for no contact), the
    discount offered and whether the channel was masked."""
    n, n_channels, n_copies = action.shape[0], rules.n_channels, rules.n_copies
    d, c, k, flat = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    offered, invalid = np.empty(n), np.zeros(n, dtype=np.bool_)
    shared = budget_left.shape[0] == 1
    for i in numba.prange(n):  # rows are independent
        left = budget_left[0] if shared else budget_left[i]
        d[i], c[i], k[i], invalid[i] = resolve_row(i, action, flags, consent, rules, costs, left)
        flat[i] = (d[i] * n_channels + c[i]) * n_copies + k[i] if c[i] > 0 else 0
        offered[i] = discounts[d[i]] if c[i] > 0 else 0.0
    return d, c, k, flat, offered, invalid


@numba.njit(cache=True, inline="always")
def settle_row(i, result, slot, flags, consent, rules, costs):  # pragma: no cover - compiled
    """Slot ``i``'s state transition and period accounting, in place: ``result`` holds the
    channel, discount and outcomes, and gets reward, profit, expected profit, discount and
    contact cost, penalty, terminated, truncated; the reward is the expected profit (revenue
    replaced by its expectation) if ``rules.expected_reward``."""
    c, discount, revenue = result.channel, result.discount, result.revenue
    contacted = c > 0
    result.discount_cost = discount * min(revenue, rules.coupon_cap)
    result.contact_cost = costs[c]
    result.profit = revenue * rules.margin - result.discount_cost - result.contact_cost
    result.penalty = rules.pessimism * result.disagreement
    result.expected_profit = result.expected_revenue * (rules.margin - discount) - result.contact_cost
    earned = result.expected_profit if rules.expected_reward else result.profit
    result.reward = np.float32(earned - result.penalty)
    n_channels, window = rules.n_channels, flags.shape[1] - rules.n_channels
    if contacted and result.unsubscribe != 0:
        flags[i, c] = 1
    flags[i, n_channels + slot.period % window] = 1 if contacted else 0
    slot.fatigue = rules.fatigue_decay * slot.fatigue + (1.0 if contacted else 0.0)
    slot.exposure = rules.exposure_decay * slot.exposure + discount
    slot.since_contact = 0.0 if contacted else min(slot.since_contact + 1.0, SINCE_CAP)
    slot.since_purchase = 0.0 if result.conversion != 0 else min(slot.since_purchase + 1.0, SINCE_CAP)
    slot.period += 1
    consented = False
    reachable = False
    for j in range(1, n_channels):
        consented = consented or consent[i, j]
        reachable = reachable or (consent[i, j] and flags[i, j] == 0)
    terminated = consented and not reachable
    result.terminated = terminated
    result.truncated = slot.period >= rules.horizon and not terminated


@numba.njit(cache=True, parallel=True)
def settle(results, slots, flags, consent, rules, costs):  # pragma: no cover - compiled
    """``settle_row`` for every row."""
    for i in numba.prange(results.shape[0]):  # rows are independent
        settle_row(i, results[i], slots[i], flags, consent, rules, costs)


@numba.njit(cache=True, inline="always")
def observation_row(out, o, i, features, slot, flags, budget_share, rules):  # pragma: no cover - compiled
    """Row ``o`` of ``out`` becomes slot ``i``'s observation: its shopper features, then the
    dynamic state, budget and time columns (``observation.ObservationLayout``)."""
    n_features, n_channels = features.shape[1], rules.n_channels
    for j in range(n_features):
        out[o, j] = features[i, j]
    f = n_features
    out[o, f] = slot.fatigue
    out[o, f + 1] = slot.exposure
    out[o, f + 2] = slot.since_contact / SINCE_CAP
    out[o, f + 3] = slot.since_purchase / SINCE_CAP
    for j in range(1, n_channels):
        out[o, f + 3 + j] = 1.0 if flags[i, j] != 0 else 0.0
    contacts = 0
    for j in range(n_channels, flags.shape[1]):
        contacts += flags[i, j]
    out[o, f + 3 + n_channels] = contacts / max(rules.max_contacts, 1)
    out[o, f + 4 + n_channels] = budget_share
    out[o, f + 5 + n_channels] = slot.period / rules.horizon


@numba.njit(cache=True, parallel=True)
def write_observations(
    out, out_rows, rows, features, slots, flags, budget_share, rules
):  # pragma: no cover - compiled
    """Row ``out_rows[r]`` of ``out`` becomes slot ``rows[r]``'s observation (one pass writes
    whole rows)."""
    for r in numba.prange(rows.shape[0]):  # rows are independent
        i = rows[r]
        observation_row(out, out_rows[r], i, features, slots[i], flags, budget_share[i], rules)


@numba.njit(cache=True, inline="always")
def draw_shopper(key, pool_size):  # pragma: no cover - compiled
    """The pool row an episode with ``key`` seats: a uniform at ``DRAW_PERIOD``."""
    draw, _ = pair_uniforms(row_base(key, DRAW_PERIOD), 0)
    return min(np.int64(draw * pool_size), pool_size - 1)


@numba.njit(cache=True, inline="always")
def fresh_state_row(i, slot, flags, last_purchase):  # pragma: no cover - compiled
    """Slot ``i``'s dynamic state at the start of an episode; ``last_purchase`` is the seated
    shopper's periods since their last purchase."""
    for j in range(flags.shape[1]):
        flags[i, j] = 0
    slot.fatigue = 0.0
    slot.exposure = 0.0
    slot.since_contact = SINCE_CAP
    slot.since_purchase = min(last_purchase, SINCE_CAP)
    slot.period = 0


@numba.njit(cache=True, parallel=True)
def start_slots(
    rows,
    keys,
    slots,
    flags,
    pool_features,
    pool_consent,
    pool_since_purchase,
    seated_features,
    seated_consent,
    seated_since_purchase,
):  # pragma: no cover - compiled
    """Slots ``rows`` begin episodes with ``keys``: each draws its shopper from the pool, takes a
    copy of the shopper's features, consent and periods since purchase and starts from a fresh
    state, in one pass (numpy's fancy indexing per array cost more than the copies)."""
    for r in numba.prange(rows.shape[0]):  # rows are independent
        i, slot = rows[r], slots[rows[r]]
        slot.key = keys[r]
        s = draw_shopper(keys[r], pool_features.shape[0])
        slot.shopper = s
        for j in range(pool_features.shape[1]):
            seated_features[i, j] = pool_features[s, j]
        for j in range(pool_consent.shape[1]):
            seated_consent[i, j] = pool_consent[s, j]
        seated_since_purchase[i] = pool_since_purchase[s]
        fresh_state_row(i, slot, flags, pool_since_purchase[s])
