"""The whole step in the built-in synthetic world as one compiled pass.

The general step (``CampaignEngine.step`` then ``observe``) makes five passes over the batch:
draw uniforms, resolve actions, the world's response, settle, write observations; each writes
arrays the next reads back. In the synthetic world the response is a row function too
(``simulators.synthetic.kernel.respond_row``), so one loop can do all five per shopper while its
state is in cache. The row functions are the very ones the general passes loop over, so both
paths give the same numbers (tests hold them equal). Budgets need a pass over the whole batch
(a shared pool serves contacts in priority order), so a budgeted campaign takes the general path.
Restarts of finished slots are one pass too (``synthetic_restart``), reading the pool as one
record per shopper (``pool_records``), prefetched a few rows ahead.
"""

from __future__ import annotations

import numba
import numpy as np

from campaign_sim.core.seeding import next_key_row, pair_uniforms, row_base
from campaign_sim.envs.kernels import draw_shopper, fresh_state_row, observation_row, resolve_row, settle_row
from campaign_sim.envs.prefetch import prefetch_row
from campaign_sim.simulators.interface import ShopperPool
from campaign_sim.simulators.synthetic.kernel import respond_row

RECORDS_AHEAD = 8  # rows a restart prefetches ahead: 4, 8 and 16 took 0.47x, 0.44x and 0.50x the time


@numba.njit(cache=True, parallel=True)
def synthetic_step(
    action, consent, costs, discounts, terms, constants, features, slots, flags, rules, obs, results
):  # pragma: no cover - compiled
    """Play one period for every slot: its ``results`` record gets the period's outcomes and
    accounting, ``obs`` the observation after it. ``terms`` and ``constants`` are the synthetic
    world's (``RowFunctionWorld``)."""
    for i in numba.prange(action.shape[0]):  # rows are independent
        slot, result = slots[i], results[i]
        base = row_base(slot.key, np.uint64(slot.period))
        u0, u1 = pair_uniforms(base, 0)
        u2, u3 = pair_uniforms(base, 1)
        u4, _ = pair_uniforms(base, 2)
        d, c, k, invalid = resolve_row(i, action, flags, consent, rules, costs, np.inf)
        offered = discounts[d] if c > 0 else 0.0
        n_unsubscribed = 0
        for j in range(rules.n_channels):
            n_unsubscribed += flags[i, j]
        visit, conversion, revenue, unsubscribe, expected_revenue = respond_row(
            terms[i],
            (c, k, offered),
            (slot.fatigue, slot.exposure, slot.since_purchase, n_unsubscribed),
            constants,
            (u0, u1, u2, u3, u4),
        )
        result.channel, result.discount, result.invalid_action = c, offered, invalid
        result.contacted = c > 0
        result.visit, result.conversion, result.unsubscribe = visit, conversion, unsubscribe
        result.revenue, result.expected_revenue = revenue, expected_revenue
        result.disagreement = 0.0  # the true world has no model disagreement
        result.budget_clipped = False  # nor a budget (fused steps are unbudgeted)
        settle_row(i, result, slot, flags, consent, rules, costs)
        observation_row(obs, i, i, features, slot, flags, 1.0, rules)  # no budget: all of it is left


def pool_records(pool: ShopperPool) -> np.ndarray:
    """(P, T + F + 1 + C) float64, one contiguous row per pool shopper: the world's terms, the
    features, periods since the last purchase and consent (exact in float64). A restart draws
    pool rows at random, so each is a cache miss: from one row it touches ~4 adjacent lines on
    one page, from four arrays ~6 lines on four pages (restarts 23% faster at a 50k pool)."""
    columns = (pool.data["terms"], pool.features, pool.since_purchase[:, None], pool.consent)
    return np.ascontiguousarray(np.concatenate([np.asarray(c, dtype=np.float64) for c in columns], axis=1))


@numba.njit(cache=True, parallel=True)
def synthetic_restart(
    rows,
    records,
    seated_features,
    seated_consent,
    seated_since_purchase,
    terms,
    slots,
    flags,
    rules,
    obs,
    last,
):  # pragma: no cover - compiled
    """``CampaignEngine.restart(rows)`` then ``observe_restarted`` in one pass: each slot's next
    key, its new shopper (a row of ``pool_records``) and fresh state, and its first observation.
    With ``last`` (m, D), row ``r`` of it first gets the observation slot ``rows[r]`` had (its
    terminal one), copied while that row is being rewritten anyway; (0, D) skips it. Every
    shopper is drawn first, so the copies can prefetch the records ``RECORDS_AHEAD`` rows on
    (prefetch.py)."""
    n_terms, n_features = terms.shape[1], seated_features.shape[1]
    m = rows.shape[0]
    drawn = np.empty(m, dtype=np.int64)
    for r in numba.prange(m):  # rows are independent
        slot = slots[rows[r]]
        slot.key = next_key_row(slot.key)
        slot.shopper = draw_shopper(slot.key, records.shape[0])
        drawn[r] = slot.shopper
    for r in numba.prange(m):
        if r + RECORDS_AHEAD < m:
            prefetch_row(records, drawn[r + RECORDS_AHEAD])
        i, s, slot = rows[r], drawn[r], slots[rows[r]]
        if last.shape[0] > 0:
            for j in range(obs.shape[1]):
                last[r, j] = obs[i, j]
        for j in range(n_terms):
            terms[i, j] = records[s, j]
        for j in range(n_features):
            seated_features[i, j] = records[s, n_terms + j]
        last_purchase = records[s, n_terms + n_features]
        for j in range(seated_consent.shape[1]):
            seated_consent[i, j] = records[s, n_terms + n_features + 1 + j] != 0.0
        seated_since_purchase[i] = last_purchase
        fresh_state_row(i, slot, flags, last_purchase)
        observation_row(obs, i, i, seated_features, slot, flags, 1.0, rules)  # no budget: all of it is left
