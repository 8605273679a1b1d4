"""Safe improvement: SPIBB projection, the deployed mixture, held-out selection, first-order gain."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.agents.evaluate import make_core
from campaign_sim.agents.policy import flat_masks, sample_actions
from campaign_sim.agents.spibb import BehaviourPolicy, SpibbPolicy, spibb_projection, value_table
from campaign_sim.core.seeding import key_from
from campaign_sim.data import schema as S
from campaign_sim.data.bandit import flat_action_index
from campaign_sim.data.datasets import resolve_config
from campaign_sim.ope.first_order import first_order_gain, tail_index
from campaign_sim.simulators.fitted.behaviour import logged_allowed
from campaign_sim.simulators.fitted.fit import fit_world
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.synthetic.generate import generate_log
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual
from campaign_sim.simulators.synthetic.world import SyntheticWorld
from campaign_sim.workflows.safety import BASELINE, fit_baseline, held_out, split_customers
from tests.unit.synthetic_logs import synthetic_log

pytestmark = pytest.mark.slow  # the module's fitted-world fixture alone takes 15-35 s

FAST = ["world.ensemble=2", "world.max_epochs=3", "world.hidden=[32]"]


def random_case(rng: np.random.Generator, n: int = 400, actions: int = 7):
    allowed = rng.random((n, actions)) < 0.7
    allowed[:, 0] = True
    behaviour = np.where(allowed, rng.random((n, actions)), 0.0)
    behaviour /= behaviour.sum(axis=1, keepdims=True)
    values = np.where(allowed, rng.normal(size=(n, actions)), -np.inf)
    thin = (rng.random((n, actions)) < 0.5) & allowed
    return behaviour, values, thin, allowed


def test_projection_keeps_behaviour_mass_on_thin_cells():
    rng = np.random.default_rng(0)
    behaviour, values, thin, allowed = random_case(rng)
    for bounded in (True, False):
        probs = spibb_projection(behaviour, values, thin, bounded=bounded)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
        assert (probs[~allowed] == 0).all()
        if bounded:  # Π≤b: never more than the behaviour policy on a thin cell
            assert (probs[thin] <= behaviour[thin] + 1e-12).all()
        else:  # Πb: exactly the behaviour policy on thin cells
            np.testing.assert_array_equal(probs[thin], behaviour[thin])
        # the supported mass goes to one action, the best supported one
        supported = allowed & ~thin
        best = np.where(supported, values, -np.inf).argmax(axis=1)
        moved = np.where(supported, probs, 0.0)
        has = supported.any(axis=1)
        np.testing.assert_array_equal(moved[has].argmax(axis=1), best[has])
        # rows without a supported action are exactly the behaviour policy
        np.testing.assert_array_equal(probs[~has], behaviour[~has])


def test_bounded_projection_keeps_thin_actions_valued_above_the_best_supported():
    behaviour = np.array([[0.5, 0.2, 0.3]])
    values = np.array([[0.0, 2.0, 1.0]])  # action 1 thin but valued highest; action 2 best supported
    thin = np.array([[False, True, False]])
    np.testing.assert_allclose(spibb_projection(behaviour, values, thin), [[0.0, 0.2, 0.8]])
    values = np.array([[0.0, -1.0, 1.0]])  # thin action valued below: its mass moves
    np.testing.assert_allclose(spibb_projection(behaviour, values, thin), [[0.0, 0.0, 1.0]])


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    log = synthetic_log(tmp_path_factory.mktemp("log"), customers=1_500, periods=4, seed=3, overrides=FAST)
    return log, fit_world(log, seed=1).world


def test_support_table_counts_every_logged_decision(small, tmp_path):
    log, world = small
    table = world.support_table
    assert table.decisions.sum() == log.frame.height
    assert table.purchases.sum() == int(log.frame.get_column(S.CONVERSION).sum())
    assert table.profile_feature == "segment" and len(table.group_names()) == table.groups
    again = FittedWorld.load(world.save(tmp_path))
    np.testing.assert_array_equal(again.support_table.decisions, table.decisions)
    for name, values in world.behaviour.items():
        np.testing.assert_array_equal(again.behaviour[name], values)


def test_action_probs_is_the_deployed_mixture(small):
    """Actions drawn from ``action_probs`` over many shoppers at one state match it: the policy
    evaluated is the policy that acts (tolerance: 5 binomial standard errors per action)."""
    log, world = small
    values = value_table(world, log.frame, pessimism=0.0, seed=0)
    policy = SpibbPolicy(world, values, n_min=50, name="spibb")
    core = make_core(world, 20_000)
    core.start(np.arange(core.n), key_from(np.random.default_rng([5, 0]), core.n))
    policy.attach(core)
    probs = policy.action_probs(core.observe(), core.action_masks())
    assert (probs[~flat_masks(core.action_masks(), world.config.actions.shape)] == 0).all()
    drawn = sample_actions(probs, np.random.default_rng(9).random(core.n))
    frequency = np.bincount(drawn, minlength=probs.shape[1]) / core.n
    expected = probs.mean(axis=0)
    tolerance = 5 * np.sqrt(expected * (1 - expected) / core.n) + 1e-9
    assert (np.abs(frequency - expected) <= tolerance).all()


def test_split_keeps_selection_and_gate_customers_apart(small):
    log, _ = small
    parts = split_customers(log, seed=4)
    ids = {name: set(part.frame.get_column(S.CUSTOMER_ID).to_list()) for name, part in parts.items()}
    assert not (ids["fit"] & ids["select"]) and not (ids["fit"] & ids["gate"])
    assert not (ids["select"] & ids["gate"])
    assert sum(len(v) for v in ids.values()) == log.frame.get_column(S.CUSTOMER_ID).n_unique()


def test_behaviour_policy_gain_interval_contains_zero(small):
    """π = π_b: every ratio is 1, the estimate 0 and its interval [0, 0]."""
    log, world = small
    episodes = held_out(split_customers(log, seed=4)["gate"], world)
    gain = first_order_gain(episodes.reward, episodes.propensity, episodes.propensity, episodes.active)
    assert gain.low <= 0.0 <= gain.high and gain.mean == 0.0
    estimated = episodes.gain(BehaviourPolicy(world, name=BASELINE))
    assert estimated.low <= 0.0 <= estimated.high


def test_first_order_gain_is_exact_for_a_one_period_change():
    """Two periods, logging uniform over two actions; the target plays action 1 in period 0
    only. True gain = (r1 − r0)/2 in period 0; the estimate's interval covers it (seed fixed,
    n = 40,000: the half-width is about 2 standard errors of a ±1-valued mean, ~0.01)."""
    rng = np.random.default_rng(11)
    n = 40_000
    action = rng.integers(0, 2, (n, 2))
    reward = np.where(action == 1, 1.0, 0.0) + rng.normal(0, 0.5, (n, 2))
    propensity = np.full((n, 2), 0.5)
    target = np.where(np.arange(2)[None, :] == 0, (action == 1).astype(float), 0.5)
    gain = first_order_gain(reward, propensity, target, np.ones((n, 2), dtype=bool))
    assert gain.low <= 0.5 <= gain.high and gain.high - gain.low < 0.05


def test_logged_allowed_matches_the_logging_policy_allowed_set():
    """A log drawn uniformly over the allowed actions records p = 1 / |allowed|: the allowed set
    rebuilt from the log must have exactly that many actions at every row (one 'no contact')."""
    truth = SyntheticWorld.create(seed=0)
    uniform = business_as_usual(truth, explore=1.0, uniform=True)
    frame = generate_log(truth, customers=300, periods=4, seed=8, policy=uniform).log
    config = resolve_config(dataset="synthetic")
    allowed = logged_allowed(frame, config, flat_action_index(frame, config))
    expected = np.rint(1.0 / frame.get_column(S.PROPENSITY).to_numpy())
    np.testing.assert_array_equal(allowed.sum(axis=1), expected)


def test_tail_index_flags_a_mean_carried_by_a_few_units():
    """PSIS's k̂ (n = 4,000, fixed seed): a normal sample is light-tailed (k̂ well below 0.7), a
    Pareto sample with infinite variance (shape 1/α = 1.25) is flagged above 0.7."""
    rng = np.random.default_rng(2)
    assert tail_index(rng.normal(size=4_000)) < 0.3
    assert tail_index(rng.pareto(0.8, size=4_000)) > 0.7


def test_a_state_baseline_leaves_the_gain_of_the_logging_policy_at_zero(small):
    """π = π_b: every ratio is 1, so any baseline of the state leaves the estimate exactly 0."""
    log, world = small
    parts = split_customers(log, seed=4)
    weights = fit_baseline(held_out(parts["fit"], world))
    episodes = held_out(parts["gate"], world).with_baseline(weights)
    assert np.abs(episodes.baseline[episodes.active]).sum() > 0
    gain = first_order_gain(
        episodes.reward, episodes.propensity, episodes.propensity, episodes.active, baseline=episodes.baseline
    )
    assert gain.mean == 0.0 and gain.low <= 0.0 <= gain.high
