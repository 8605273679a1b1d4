"""Cross-fitted cell means: no row is scored by a model that saw its own reward."""

from __future__ import annotations

import numpy as np

from campaign_sim.ope.reward_models import crossfit_cell_means


def test_a_rows_own_reward_never_enters_its_estimate():
    rng = np.random.default_rng(0)
    cell = rng.integers(0, 3, 400)
    reward = rng.random(400)
    q, fold = crossfit_cell_means(cell, reward, 3, prior=0.5, strength=5.0, seed=2)
    changed = reward.copy()
    changed[0] += 100.0  # only row 0's reward moves: its own estimate must not
    q2, _ = crossfit_cell_means(cell, changed, 3, prior=0.5, strength=5.0, seed=2)
    assert q2[0, cell[0]] == q[0, cell[0]]
    other_fold = fold != fold[0]
    assert np.all(q2[other_fold, cell[0]] > q[other_fold, cell[0]])  # the other fold learned from it


def test_estimates_shrink_towards_the_prior_with_few_rows():
    q, _ = crossfit_cell_means(
        np.array([0, 0, 1, 1]), np.array([1.0, 1.0, 1.0, 1.0]), 3, prior=0.0, strength=10.0, folds=2
    )
    assert np.all(q[:, 2] == 0.0)  # a cell never seen is the prior
    assert np.all(q[:, :2] < 0.5)  # at most two rows of 1.0 against ten prior rows of 0.0
