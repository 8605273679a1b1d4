"""The true response and its sampling as one compiled loop (numba), for environments.

Per shopper, the terms that depend only on who the shopper is (segment base rates, frequency,
order-value level, channel lifts, copy effects by segment) are computed once per pool
(``static_terms``); each period then costs a single pass over the batch. The formulas are those
of ``truth.true_response`` and ``interface.sample_outcomes`` (tests hold them equal).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from campaign_sim.simulators.synthetic.population import SEGMENTS, Population
from campaign_sim.simulators.synthetic.truth import VALUE_SIGMA, TruthParameters, copy_effects


def static_terms(truth: TruthParameters, pop: Population, copy_embeddings: np.ndarray) -> np.ndarray:
    """(P, 8 + C + K) per-shopper terms of the true response that no action or state changes, one
    row per shopper so the kernel reads one contiguous row, not eleven arrays: visit base,
    conversion base, visit and conversion discount slopes, deal seeker, log order value,
    unsubscribe extra, mean order value, then the channel lifts and the copy effects."""
    seg = pop.segment
    log_value = 4.35 + 0.5 * np.log(pop.monetary / 100.0)
    columns = [
        np.asarray(truth.visit_base)[seg] + 0.3 * np.log1p(pop.frequency),
        np.asarray(truth.conversion_base)[seg] + 0.15 * np.log1p(pop.frequency),
        np.asarray(truth.visit_discount, dtype=np.float64)[seg],
        np.asarray(truth.conversion_discount, dtype=np.float64)[seg],
        (seg == SEGMENTS.index("deal_seeker")).astype(np.float64),
        log_value,
        0.8 * (seg == SEGMENTS.index("dormant")),
        np.exp(log_value + 0.5 * VALUE_SIGMA**2),  # lognormal mean: one exp per shopper, not per step
    ]
    lift = np.asarray(truth.channel_lift)[seg]
    copies = copy_effects(truth, copy_embeddings)[seg]
    return np.ascontiguousarray(np.column_stack([*columns, lift, copies]))


def constants(truth: TruthParameters) -> np.ndarray:
    """What the compiled response reads besides the shopper, in the kernel's order: the truth's
    scalar coefficients (``N_COEFFICIENTS``), then the unsubscribe base rate of each channel."""
    coefficients = [
        truth.fatigue_sensitivity,
        truth.recency_decay,
        truth.disengagement,
        truth.deep_discount_threshold,
        truth.deep_discount_boost,
        truth.habituation,
        truth.habituation_threshold,
        truth.unsubscribe_fatigue,
        VALUE_SIGMA,
    ]
    return np.array([*coefficients, *truth.unsubscribe_base], dtype=np.float64)


N_COEFFICIENTS = 9


@numba.njit(cache=True, inline="always")
def _sigmoid(x):  # pragma: no cover - compiled
    # libm's scalar tanh costs twice exp here; 1 / (1 + e^-x) is the same function (within an ulp)
    return 1.0 / (1.0 + math.exp(-x))


@numba.njit(cache=True, inline="always")
def respond_row(t, offer, state, constants, u):  # pragma: no cover - compiled
    """One shopper's true response and sampled outcomes. ``t`` is the shopper's row of static
    terms; ``offer`` = (channel, copy, discount offered); ``state`` = (fatigue, discount
    exposure, periods since purchase, channels unsubscribed); ``constants`` as ``constants()``
    builds them; ``u`` the shopper's five uniforms of the OUTCOME_STREAMS. Returns visit,
    conversion, revenue, unsubscribe and the expected revenue."""
    c, copy, d = offer
    fatigue, exposure, since_purchase, n_unsubscribed = state
    u0, u1, u2, u3, u4 = u
    fatigue_k, recency, disengage, threshold, boost = (
        constants[0],
        constants[1],
        constants[2],
        constants[3],
        constants[4],
    )
    habituation, hab_threshold, unsub_fatigue, sigma = constants[5], constants[6], constants[7], constants[8]
    lift0 = 8
    copy0 = lift0 + constants.shape[0] - N_COEFFICIENTS
    contacted = c > 0
    logit = t[0] - recency * since_purchase - disengage * n_unsubscribed + t[2] * d
    if contacted:
        logit += math.exp(-fatigue_k * fatigue) * (t[lift0 + c] + t[copy0 + copy])
    p_visit = _sigmoid(logit)
    push = boost * max(d - threshold, 0.0) if t[4] > 0.5 else t[3] * d
    logit = t[1] + push
    if d == 0.0:
        logit -= habituation * max(exposure - hab_threshold, 0.0)
    p_conversion = _sigmoid(logit)
    visit = u0 < p_visit
    conversion = visit & (u1 < p_conversion)  # bitwise: no branch on a coin-flip visit
    revenue = 0.0
    if conversion:
        normal = math.sqrt(-2.0 * math.log1p(-u2)) * math.cos(2.0 * math.pi * u3)
        revenue = round(math.exp(t[5] + sigma * normal), 2)
    unsubscribe = False
    if contacted:
        base = constants[N_COEFFICIENTS + c]
        unsubscribe = u4 < _sigmoid(base + unsub_fatigue * fatigue + t[6])
    return visit, conversion, revenue, unsubscribe, p_visit * p_conversion * t[7]


@numba.njit(cache=True, parallel=True)
def respond_and_sample(
    terms, shopper, fatigue, exposure, since_purchase, unsubscribed, action, decode, discounts, constants, u
):  # pragma: no cover - compiled
    """``respond_row`` for every row: row i is pool shopper ``shopper[i]``, whose static terms
    are row ``terms[shopper[i]]``; ``action`` holds flat actions, row ``a`` of ``decode`` their
    (discount, channel, copy) indices (a table lookup: integer division in the loop cost a
    third of the kernel)."""
    n = shopper.shape[0]
    visit = np.zeros(n, dtype=np.bool_)
    conversion = np.zeros(n, dtype=np.bool_)
    revenue = np.zeros(n)
    expected_revenue = np.empty(n)
    unsubscribe = np.zeros(n, dtype=np.bool_)
    for i in numba.prange(n):  # rows are independent: both cores, same numbers
        a = action[i]
        c = decode[a, 1]
        n_unsubscribed = 0
        for j in range(unsubscribed.shape[1]):
            n_unsubscribed += unsubscribed[i, j]
        visit[i], conversion[i], revenue[i], unsubscribe[i], expected_revenue[i] = respond_row(
            terms[shopper[i]],
            (c, decode[a, 2], discounts[decode[a, 0]] if c > 0 else 0.0),
            (fatigue[i], exposure[i], since_purchase[i], n_unsubscribed),
            constants,
            (u[i, 0], u[i, 1], u[i, 2], u[i, 3], u[i, 4]),
        )
    return visit, conversion, revenue, unsubscribe, expected_revenue
