"""The ground-truth world: magnitudes, exact propensities, constraints, determinism.

Statistical checks use fixed seeds; tolerances are 4 standard errors of the sample (a false
alarm about once in 16,000 runs for a correct world)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.log import load_log
from campaign_sim.data.text import HashingEncoder, TextEncoder
from campaign_sim.simulators.synthetic.generate import generate_log
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual
from campaign_sim.simulators.synthetic.truth import TruthParameters
from campaign_sim.simulators.synthetic.world import SyntheticWorld


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return SyntheticWorld.create(seed=0)


@pytest.fixture(scope="module")
def generated(world):
    return generate_log(world, customers=20_000, periods=6, seed=1)


def _se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def test_hashing_encoder_is_deterministic_and_normalised():
    encoder = HashingEncoder(dim=32)
    assert isinstance(encoder, TextEncoder)
    a = encoder.encode(["Last chance: 20% off tonight", "", "Last chance: 20% off tonight"])
    assert a.shape == (3, 32) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a[0]), 1.0, rtol=1e-6)
    assert not a[1].any()
    np.testing.assert_array_equal(a[0], a[2])
    np.testing.assert_array_equal(a[0], HashingEncoder(dim=32).encode(["Last chance: 20% off tonight"])[0])


def test_magnitudes_anchored_on_hillstrom(world):
    rng = np.random.default_rng(2)
    pop = world.sample_population(200_000, rng)
    state = world.initial_state(pop)
    none = world.response(pop, state, np.zeros((pop.n, 3), dtype=int))
    email = world.response(pop, state, np.tile([0, 1, 0], (pop.n, 1)))
    assert 0.09 <= none.p_visit.mean() <= 0.12
    assert 0.15 <= email.p_visit.mean() <= 0.20
    assert 0.005 <= none.p_purchase.mean() <= 0.015 and 0.005 <= email.p_purchase.mean() <= 0.015
    assert 90 <= none.expected_value.mean() <= 140  # Hillstrom converters spent $116 on average


def test_generated_log_validates_and_is_consistent(generated, tmp_path):
    frame = generated.log
    assert frame.height == 120_000
    frame.write_parquet(tmp_path / "log.parquet")
    log = load_log(tmp_path / "log.parquet", resolve_config(dataset="synthetic"))  # the preset matches
    assert log.frame.height == frame.height
    # the truth table lines up row for row, and sampled outcomes agree with it
    truth = generated.truth
    n = frame.height
    p_visit = truth.get_column("p_visit").mean()
    assert abs(frame.get_column("visit").mean() - p_visit) < 4 * _se(p_visit, n)
    p_buy = (truth.get_column("p_visit") * truth.get_column("p_conversion")).mean()
    assert abs(frame.get_column("conversion").mean() - p_buy) < 4 * _se(p_buy, n)
    profit = frame.select(pl.col("revenue") * (0.4 - pl.col("discount"))).to_series()
    cost = frame.get_column("channel").replace_strict(
        {"none": 0.0, "email": 0.01, "sms": 0.05, "push": 0.005}, return_dtype=pl.Float64
    )
    realised = profit - cost
    expected = truth.get_column("expected_profit")
    assert abs(realised.mean() - expected.mean()) < 4 * realised.std() / np.sqrt(n)


def test_logging_policy_propensities_are_exact(world):
    rng = np.random.default_rng(3)
    pop = world.sample_population(5_000, rng)
    state = world.initial_state(pop)
    allowed = world.allowed_actions(pop, state)
    probs = business_as_usual(world)(pop, state, allowed)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert (probs[~allowed] == 0).all() and (probs[allowed] > 0).all()  # full support on allowed actions
    flat, propensity = world.sample_actions(probs, rng)
    np.testing.assert_array_equal(propensity, probs[np.arange(pop.n), flat])


def test_log_respects_consent_unsubscribes_and_cap(world, generated):
    frame = generated.log
    for channel in ("email", "sms", "push"):
        contacted = frame.get_column("channel") == channel
        assert (frame.filter(contacted).get_column(f"consent_{channel}") == 1).all()
        assert (frame.filter(contacted).get_column(f"unsubscribed_{channel}") == 0).all()
    contacts = (
        frame.sort("customer_id", "period")
        .with_columns(contacted=(pl.col("channel") != "none").cast(pl.Int32))
        .with_columns(
            window=pl.col("contacted").rolling_sum(world.dynamics.contact_window).over("customer_id")
        )
    )
    assert contacts.get_column("window").drop_nulls().max() <= world.dynamics.max_contacts


def test_same_seed_same_log_other_seed_differs(world):
    a = generate_log(world, customers=2_000, periods=3, seed=5).log
    b = generate_log(world, customers=2_000, periods=3, seed=5).log
    c = generate_log(world, customers=2_000, periods=3, seed=6).log
    assert a.equals(b) and not a.equals(c)


def test_truth_round_trips_through_json(world):
    assert TruthParameters.from_json(world.truth.to_json()) == world.truth


def test_policy_ordering_no_contact_bau_myopic(world):
    """BAU beats doing nothing, the myopic oracle beats BAU (true values, paired seeds)."""

    def none(pop, state, allowed):
        return np.eye(world.n_actions)[np.zeros(pop.n, dtype=int)]

    def myopic(pop, state, allowed):
        best = np.where(allowed, world.expected_rewards(pop, state), -np.inf).argmax(axis=1)
        return np.eye(world.n_actions)[best]

    values = {
        name: world.policy_value(policy, customers=30_000, horizon=12, seed=11)
        for name, policy in (("none", none), ("bau", business_as_usual(world)), ("myopic", myopic))
    }
    assert values["none"].mean < values["bau"].mean < values["myopic"].mean
    assert values["myopic"].ci95[0] > values["bau"].ci95[1]


def test_compiled_kernel_equals_the_numpy_truth(world):
    """The environment's compiled response + sampling gives the very outcomes of the numpy path."""
    from campaign_sim.simulators.interface import sample_outcomes
    from campaign_sim.simulators.synthetic.world import _as_world_response

    rng = np.random.default_rng(9)
    pool = world.shopper_pool(5_000, seed=1)
    index = rng.integers(0, pool.size, 5_000)
    shoppers = pool.rows(index)
    state = world.initial_state(world.sample_population(5_000, rng))
    state.fatigue[:] = rng.random(5_000) * 2
    state.discount_exposure[:] = rng.random(5_000) * 0.6
    state.unsubscribed[:, 1] = rng.random(5_000) < 0.2
    action = world.flatten(rng.integers(0, [4, 4, 4], size=(5_000, 3)))
    u = rng.random((5_000, 5))
    fast, _ = world.step_outcomes(pool, index, state, action, u)
    slow = sample_outcomes(_as_world_response(world.respond(shoppers, state, action)), u)
    for name in ("visit", "conversion", "revenue", "unsubscribe"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))
    assert fast.conversion.sum() > 20  # the comparison covered purchases, not only zeros
