"""Multi-period estimators against the exact value of a policy in the synthetic world.

Logged: 4,000 shoppers x 4 periods under business-as-usual (exact propensities). Candidate:
90% business-as-usual, 10% the myopic oracle, evaluated at the logged states. Truth: the
candidate's campaign value by simulation on 200,000 fresh shoppers (its own 95% half-width
is ~0.06; PDIS's is ~0.4). Tolerance: the estimator's 95% interval widened by the truth's half-width must
hold the truth; with this fixed seed the check is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.ope.intervals import normal_interval
from campaign_sim.ope.sequential import PDIS, WPDIS, LoggedEpisodes, SeqDR
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual
from campaign_sim.simulators.synthetic.world import SyntheticWorld

pytestmark = pytest.mark.slow  # the module's fitted-world fixture alone takes 15-35 s

SHOPPERS, PERIODS, MIX = 4_000, 4, 0.1


def candidate(world):
    logging = business_as_usual(world)

    def probs(pop, state, allowed):
        q = np.where(allowed, world.expected_rewards(pop, state), -np.inf)
        greedy = np.zeros(allowed.shape)
        greedy[np.arange(pop.n), q.argmax(axis=1)] = 1.0
        return (1 - MIX) * logging(pop, state, allowed) + MIX * greedy

    return probs


@pytest.fixture(scope="module")
def logged():
    world = SyntheticWorld.create(seed=0)
    logging, target = business_as_usual(world), candidate(world)
    rng = np.random.default_rng(3)
    pop = world.sample_population(SHOPPERS, rng)
    state = world.initial_state(pop)
    columns = {k: [] for k in ("reward", "propensity", "target", "q_hat", "v_hat")}
    for _ in range(PERIODS):
        allowed = world.allowed_actions(pop, state)
        pi0, pi = logging(pop, state, allowed), target(pop, state, allowed)
        q_all = np.where(allowed, world.expected_rewards(pop, state), 0.0)
        flat, propensity = world.sample_actions(pi0, rng)
        outcome, state = world.step(pop, state, world.unflatten(flat), rng)
        rows = np.arange(SHOPPERS)
        for key, value in (
            ("reward", outcome.profit),
            ("propensity", propensity),
            ("target", pi[rows, flat]),
            ("q_hat", q_all[rows, flat]),
            ("v_hat", (pi * q_all).sum(axis=1)),
        ):
            columns[key].append(value)
    arrays = {k: np.column_stack(v) for k, v in columns.items()}
    episodes = LoggedEpisodes(active=np.ones((SHOPPERS, PERIODS), dtype=bool), **arrays)
    truth = world.policy_value(target, customers=200_000, horizon=PERIODS, seed=11)
    return episodes, truth


def test_pdis_and_seqdr_intervals_hold_the_true_value(logged):
    episodes, truth = logged
    slack = (truth.ci95[1] - truth.ci95[0]) / 2
    for estimator in (PDIS(), SeqDR()):
        ci = normal_interval(estimator.parts(episodes))
        assert ci.low - slack <= truth.mean <= ci.high + slack, (estimator.name, ci, truth)


def test_wpdis_bootstrap_holds_the_true_value_and_seqdr_is_tighter_than_pdis(logged):
    episodes, truth = logged
    slack = (truth.ci95[1] - truth.ci95[0]) / 2
    ci = WPDIS().interval(episodes, resamples=300, seed=0)
    assert ci.low - slack <= truth.mean <= ci.high + slack
    pdis = normal_interval(PDIS().parts(episodes))
    seqdr = normal_interval(SeqDR().parts(episodes))
    assert seqdr.high - seqdr.low < pdis.high - pdis.low  # an exact model removes reward noise


def test_identical_policies_give_the_on_policy_mean():
    rng = np.random.default_rng(0)
    reward = rng.random((50, 3))
    p = rng.uniform(0.2, 1.0, (50, 3))
    e = LoggedEpisodes(reward, p, p, np.ones((50, 3), dtype=bool))
    on_policy = reward.sum(axis=1).mean()
    assert np.isclose(normal_interval(PDIS().parts(e)).value, on_policy)
    assert np.isclose(WPDIS().value(e), on_policy)
