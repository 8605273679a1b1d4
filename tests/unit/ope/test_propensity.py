"""Estimated propensities: a correctly specified logistic logger is recovered.

20,000 rows, 3 actions, softmax of a linear score. Each half is fitted on 10,000 rows: the
coefficients' standard errors are ~0.02, so predicted probabilities are within ~0.01 of the
truth on average; the tolerance (0.02 mean absolute error, 0.02 ECE) is twice that. Seeded.
"""

from __future__ import annotations

import numpy as np

from campaign_sim.ope.propensity import estimate_propensities
from campaign_sim.ope.sequential import LoggedEpisodes, diagnose_episodes


def test_logistic_logging_policy_is_recovered_and_calibrated():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20_000, 2))
    scores = x @ np.array([[1.0, -0.5, 0.0], [0.3, 0.8, 0.0]]) + np.array([0.2, -0.4, 0.0])
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    action = (probs.cumsum(axis=1) < rng.random(20_000)[:, None]).sum(axis=1)
    fitted = estimate_propensities(x, action, 3, seed=0)
    truth = probs[np.arange(20_000), action]
    assert np.abs(fitted.propensity - truth).mean() < 0.02
    assert fitted.ece < 0.02 and "not logged" in fitted.warning()


def test_actions_missing_from_the_log_leave_valid_propensities():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2_000, 1))
    action = (x[:, 0] > 0).astype(int) * 2  # actions 0 and 2 only; 3 never appears
    fitted = estimate_propensities(x, action, 4, seed=0)
    assert np.all(fitted.propensity > 0) and np.all(fitted.propensity <= 1)


def test_episode_diagnostics_of_the_logging_policy_itself():
    p = np.full((100, 3), 0.25)
    e = LoggedEpisodes(np.ones((100, 3)), p, p, np.ones((100, 3), dtype=bool))
    d = diagnose_episodes(e)
    assert d.ess == 100 and d.mean_weight == 1.0 and d.zero_probability_share == 0.0
    half = LoggedEpisodes(
        np.ones((100, 3)), p, np.where(np.arange(100)[:, None] < 50, 0.5, 0.0) + 0 * p, e.active
    )
    assert (
        np.isclose(diagnose_episodes(half).ess, 50) and diagnose_episodes(half).zero_probability_share == 0.5
    )
