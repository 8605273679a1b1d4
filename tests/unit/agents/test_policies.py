"""The Policy protocol's helpers and every baseline: probabilities, masks, known values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaign_sim.agents.bandits import LinearBandit, train_online
from campaign_sim.agents.baselines import (
    BusinessAsUsual,
    MyopicPolicy,
    NoContactPolicy,
    RandomPolicy,
    RulePolicy,
    oracle,
)
from campaign_sim.agents.evaluate import make_core, run_policy
from campaign_sim.agents.policy import flat_masks, sample_actions, unflatten
from campaign_sim.core.rules_config import RuleSpec
from campaign_sim.simulators.synthetic.world import SyntheticWorld

WORLD = SyntheticWorld.create(seed=0)
SHAPE = WORLD.shape


def test_flat_masks_allow_no_contact_once_and_combine_the_three_heads():
    masks = np.ones((2, sum(SHAPE)), dtype=bool)
    masks[1, SHAPE[0] + 2] = False  # shopper 1 may not get sms
    masks[1, 3] = False  # nor a 30% discount
    allowed = flat_masks(masks, SHAPE).reshape(2, *SHAPE)
    assert allowed[:, 0, 0, 0].all() and allowed[:, :, 0, :].sum() == 2  # "none" is only (0, 0, 0)
    assert allowed[0, :, 1:, :].all()
    assert not allowed[1, :, 2, :].any() and not allowed[1, 3, :, :].any()
    assert allowed[1, :3, 1, :].all()


@given(st.lists(st.floats(0, 1), min_size=5, max_size=5), st.floats(0, 0.999999))
def test_sampling_never_picks_an_action_without_probability(weights, u):
    probs = np.array([weights])
    probs[0, 1] = 0.0
    if probs.sum() == 0:
        probs[0, 4] = 1.0
    picked = sample_actions(probs / probs.sum(), np.array([u]))[0]
    assert probs[0, picked] > 0


def test_sampling_follows_the_probabilities():
    # 200k draws: each share is within 4 standard errors (sd <= 0.0012) of its probability
    probs = np.tile([0.1, 0.0, 0.6, 0.3], (200_000, 1))
    picked = sample_actions(probs, np.random.default_rng(0).random(200_000))
    shares = np.bincount(picked, minlength=4) / picked.size
    assert np.abs(shares - probs[0]).max() < 4 * np.sqrt(0.25 / 200_000)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomPolicy(SHAPE),
        lambda: NoContactPolicy(SHAPE),
        lambda: BusinessAsUsual(WORLD),
        lambda: oracle(WORLD),
        lambda: RulePolicy(RuleSpec("r", "email", 0.1, "standard", every=2), WORLD),
    ],
)
def test_baselines_give_distributions_inside_the_masks(make):
    policy = make()
    core = make_core(WORLD, 500)
    run_policy(policy, core, seed=3, periods=5)  # mid-campaign: fatigue, caps and unsubscribes in play
    masks = core.action_masks()
    probs = policy.action_probs(core.observe(), masks)
    assert probs.shape == (500, int(np.prod(SHAPE)))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert (probs[~flat_masks(masks, SHAPE)] == 0).all()


def test_the_oracle_picks_the_action_with_the_best_true_expected_profit():
    core = make_core(WORLD, 300)
    policy = oracle(WORLD)
    run_policy(policy, core, seed=1, periods=3)
    allowed = flat_masks(core.action_masks(), SHAPE)
    chosen = policy.action_probs(core.observe(), core.action_masks()).argmax(axis=1)
    from campaign_sim.simulators.synthetic.population import Population

    pop = Population(**{f: core.pool.data[f][core.shopper] for f in Population.__dataclass_fields__})
    truth = np.where(allowed, WORLD.expected_rewards(pop, core.state), -np.inf)
    np.testing.assert_allclose(truth[np.arange(300), chosen], truth.max(axis=1), rtol=1e-9)


def test_the_rule_contacts_on_its_periods_only():
    policy = RulePolicy(RuleSpec("r", "email", 0.1, "standard", every=2), WORLD)
    core = make_core(WORLD, 2_000)
    episodes = run_policy(policy, core, seed=0)
    # 12 periods, contacts on 0, 2, ..., 10 where e-mail is allowed: at most 6 per shopper
    assert episodes.contacts.max() <= 6 and episodes.contacts.mean() > 3


def test_contact_nobody_and_a_none_rule_send_nothing_and_cost_nothing():
    core = make_core(WORLD, 1_000)
    for policy in (NoContactPolicy(SHAPE), RulePolicy(RuleSpec("quiet", "none", 0.1), WORLD)):
        episodes = run_policy(policy, core, seed=2)
        assert (
            episodes.contacts.max() == 0 and episodes.discount_cost.max() == 0 == episodes.contact_cost.max()
        )


def test_the_oracle_beats_business_as_usual_which_beats_random_in_the_true_world():
    core = make_core(WORLD, 4_000)
    values = {
        p.name: run_policy(p, core, seed=5).expected_profit
        for p in (oracle(WORLD), BusinessAsUsual(WORLD), RandomPolicy(SHAPE))
    }
    # paired on the same shoppers; the gaps (~0.7 and ~2.0 per shopper) dwarf their standard errors (~0.03)
    for better, worse in (("oracle-myopic", "business-as-usual"), ("business-as-usual", "random")):
        diff = values[better] - values[worse]
        assert diff.mean() > 5 * diff.std() / np.sqrt(diff.size)


@pytest.mark.slow
def test_bandits_learn_something_better_than_random():
    core = make_core(WORLD, 1_024)
    dim = core.observe().shape[1]
    bandit = LinearBandit(SHAPE, dim, kind="thompson", alpha=0.5, seed=0)
    train_online(bandit, core, campaigns=2, seed=0)
    probs = bandit.action_probs(core.observe(), core.action_masks())
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    evaluation = make_core(WORLD, 4_000)
    learned = run_policy(bandit, evaluation, seed=9).expected_profit
    random = run_policy(RandomPolicy(SHAPE), evaluation, seed=9).expected_profit
    diff = learned - random
    assert diff.mean() > 4 * diff.std() / np.sqrt(diff.size)


def test_myopic_under_a_world_equals_the_oracle_when_that_world_is_the_truth():
    core = make_core(WORLD, 400)
    a = run_policy(MyopicPolicy(WORLD), core, seed=2).expected_profit
    b = run_policy(oracle(WORLD), core, seed=2).expected_profit
    np.testing.assert_array_equal(a, b)


def test_unflatten_inverts_the_c_order_flat_index():
    flat = np.arange(int(np.prod(SHAPE)))
    np.testing.assert_array_equal(np.ravel_multi_index(unflatten(flat, SHAPE).T, SHAPE), flat)
