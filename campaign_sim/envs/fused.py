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
    keys,
    action,
    shape,
    consent,
    costs,
    discounts,
    max_contacts,
    terms,
    unsubscribe_base,
    coefficients,
    features,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    rules,
    obs,
):  # pragma: no cover - compiled
    """Play one period for every slot and write the observations after it into ``obs``.
    ``rules`` = (margin, coupon cap, pessimism, fatigue decay, exposure decay, since cap,
    horizon, expected reward). Returns reward, terminated, truncated, then the info arrays
    revenue, discount cost, contact cost, profit, expected profit, penalty, visit, conversion,
    unsubscribe, channel and discount offered, invalid action."""
    margin, coupon_cap, pessimism, fatigue_decay, exposure_decay, since_cap, horizon, expected_reward = rules
    n = action.shape[0]
    reward = np.empty(n, dtype=np.float32)
    revenue, discount_cost, contact_cost = np.empty(n), np.empty(n), np.empty(n)
    profit, expected_profit, penalty, offered = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    visit, conversion = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    unsubscribe, invalid = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    terminated, truncated = np.empty(n, dtype=np.bool_), np.empty(n, dtype=np.bool_)
    channel = np.empty(n, dtype=np.int64)
    for i in numba.prange(n):  # rows are independent
        base = row_base(keys[i], np.uint64(period[i]))
        u0, u1 = pair_uniforms(base, 0)
        u2, u3 = pair_uniforms(base, 1)
        u4, _ = pair_uniforms(base, 2)
        d, c, k, invalid[i] = resolve_row(
            i, action, shape, consent, unsubscribed, recent, max_contacts, costs, np.inf
        )
        channel[i], offered[i] = c, discounts[d] if c > 0 else 0.0
        n_unsubscribed = 0
        for j in range(unsubscribed.shape[1]):
            n_unsubscribed += unsubscribed[i, j]
        visit[i], conversion[i], revenue[i], unsubscribe[i], expected_revenue = respond_row(
            terms[i],
            c,
            k,
            offered[i],
            fatigue[i],
            exposure[i],
            since_purchase[i],
            n_unsubscribed,
            unsubscribe_base,
            coefficients,
            u0,
            u1,
            u2,
            u3,
            u4,
        )
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
            c,
            offered[i],
            revenue[i],
            expected_revenue,
            conversion[i],
            unsubscribe[i],
            0.0,  # the true world has no model disagreement
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
        observation_row(
            obs,
            i,
            i,
            features,
            fatigue,
            exposure,
            since_contact,
            since_purchase,
            unsubscribed,
            recent,
            period,
            1.0,  # no budget: all of it is always left
            since_cap,
            max_contacts,
            horizon,
        )
    return (
        reward,
        terminated,
        truncated,
        revenue,
        discount_cost,
        contact_cost,
        profit,
        expected_profit,
        penalty,
        visit,
        conversion,
        unsubscribe,
        channel,
        offered,
        invalid,
    )


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
    draw_period,
    slot_keys,
    shopper,
    records,
    features,
    consent,
    seated_since_purchase,
    terms,
    fatigue,
    exposure,
    since_contact,
    since_purchase,
    unsubscribed,
    recent,
    period,
    since_cap,
    max_contacts,
    horizon,
    obs,
    last,
):  # pragma: no cover - compiled
    """``CampaignEngine.restart(rows)`` then ``observe_restarted`` in one pass: each slot's next
    key, its new shopper (a row of ``pool_records``) and fresh state, and its first observation.
    With ``last`` (m, D), row ``r`` of it first gets the observation slot ``rows[r]`` had (its
    terminal one), copied while that row is being rewritten anyway; (0, D) skips it. Every
    shopper is drawn first, so the copies can prefetch the records ``RECORDS_AHEAD`` rows on
    (prefetch.py)."""
    n_terms, n_features = terms.shape[1], features.shape[1]
    m = rows.shape[0]
    drawn = np.empty(m, dtype=np.int64)
    for r in numba.prange(m):  # rows are independent
        i = rows[r]
        key = next_key_row(slot_keys[i])
        slot_keys[i] = key
        drawn[r] = shopper[i] = draw_shopper(key, draw_period, records.shape[0])
    for r in numba.prange(m):
        if r + RECORDS_AHEAD < m:
            prefetch_row(records, drawn[r + RECORDS_AHEAD])
        i, s = rows[r], drawn[r]
        if last.shape[0] > 0:
            for j in range(obs.shape[1]):
                last[r, j] = obs[i, j]
        for j in range(n_terms):
            terms[i, j] = records[s, j]
        for j in range(n_features):
            features[i, j] = records[s, n_terms + j]
        last_purchase = records[s, n_terms + n_features]
        for j in range(consent.shape[1]):
            consent[i, j] = records[s, n_terms + n_features + 1 + j] != 0.0
        seated_since_purchase[i] = last_purchase
        fresh_state_row(
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
        )
        observation_row(
            obs,
            i,
            i,
            features,
            fatigue,
            exposure,
            since_contact,
            since_purchase,
            unsubscribed,
            recent,
            period,
            1.0,  # no budget: all of it is always left
            since_cap,
            max_contacts,
            horizon,
        )
