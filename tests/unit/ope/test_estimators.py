"""Off-policy estimators on a contextual bandit whose true policy values are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.ope.diagnostics import diagnose
from campaign_sim.ope.estimators import ALL, DR, IPS, SNIPS, LoggedBandit, combine
from campaign_sim.ope.gate import launch_gate
from campaign_sim.ope.intervals import bootstrap_interval, normal_interval, paired_difference

A = 5


def bandit(n: int, seed: int, *, model_error: float = 0.05):
    """Contexts x ~ N(0,1); expected reward sigmoid(x * b_a + c_a); logging softmax(0.5 x a),
    target = a sharper softmax. Returns the logged batch, the logging probs and the true value."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    slopes, offsets = np.linspace(-1, 1, A), np.linspace(-2, -1, A)
    mean = 1 / (1 + np.exp(-(x[:, None] * slopes + offsets)))
    logits = 0.5 * x[:, None] * np.arange(A)
    logging = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    sharp = np.exp(2 * logits + offsets)
    target = sharp / sharp.sum(axis=1, keepdims=True)
    action = (logging.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1).clip(max=A - 1)
    reward = (rng.random(n) < mean[np.arange(n), action]).astype(float)
    q_hat = np.clip(mean + model_error * rng.standard_normal((n, A)), 0, 1)
    data = LoggedBandit(reward, action, logging[np.arange(n), action], target, q_hat)
    return data, logging, float((target * mean).sum(axis=1).mean())


@pytest.mark.parametrize("estimator", ALL, ids=lambda e: e.name)
def test_every_estimator_is_close_to_the_truth_at_large_n(estimator):
    data, _, truth = bandit(200_000, seed=1)
    # sd of IPS here is ~1.3 / sqrt(200k) = 0.003; DM carries the model error's bias (< 0.01)
    assert abs(combine(estimator.parts(data)) - truth) < 0.015


@pytest.mark.parametrize("estimator", [IPS(), SNIPS(), DR()], ids=lambda e: e.name)
def test_normal_intervals_cover_the_truth_at_the_nominal_rate(estimator):
    # 200 replications at n = 2,000: coverage ~ Binomial(200, 0.95) / 200, sd 0.015; +-3 sd
    hits = 0
    for seed in range(200):
        data, _, truth = bandit(2_000, seed=100 + seed)
        ci = normal_interval(estimator.parts(data))
        hits += ci.low <= truth <= ci.high
    assert 0.905 <= hits / 200 <= 0.995


def test_bootstrap_is_seeded_and_agrees_with_the_normal_interval():
    data, _, _ = bandit(20_000, seed=3)
    parts = DR().parts(data)
    a, b = bootstrap_interval(parts, seed=7), bootstrap_interval(parts, seed=7)
    assert a == b
    normal = normal_interval(parts)
    width = normal.high - normal.low
    assert abs((a.high - a.low) - width) < 0.2 * width  # 200 resamples: width known to ~10%


def test_a_policy_against_itself_differs_by_exactly_zero():
    data, _, _ = bandit(5_000, seed=4)
    parts = SNIPS().parts(data)
    diff = paired_difference(parts, parts, seed=0)
    assert diff.value == 0 and diff.low == 0 and diff.high == 0


def test_the_gate_says_go_only_with_a_positive_lower_bound_and_healthy_weights():
    data, logging, _ = bandit(50_000, seed=5)
    worse = LoggedBandit(
        data.reward, data.action, data.propensity, np.roll(data.target, 1, axis=1), data.q_hat
    )
    better_diff = paired_difference(DR().parts(data), DR().parts(worse), seed=0)
    verdict = launch_gate("DR", better_diff, diagnose(data, logging_probs=logging))
    assert verdict.go, verdict.reasons
    reverse = paired_difference(DR().parts(worse), DR().parts(data), seed=0)
    no = launch_gate("DR", reverse, diagnose(worse, logging_probs=logging))
    assert not no.go and any("lower 95% bound" in r for r in no.reasons)


def test_diagnostics_flag_policies_outside_the_logged_support():
    data, logging, _ = bandit(10_000, seed=6)
    logging = logging.copy()
    logging[:, 4] = 0.0  # pretend the logger never takes action 4: the target's mass there is a violation
    d = diagnose(data, logging_probs=logging)
    assert d.support_violation_mass == pytest.approx(data.target[:, 4].mean())
    assert 0 < d.ess <= data.n and d.max_weight >= d.mean_weight
