"""The fitted response model: persistence, numpy inference, determinism, uncertainty."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
import torch

from campaign_sim.core.errors import DataError, InputError
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.log import load_log
from campaign_sim.simulators.fitted.fit import fit_world
from campaign_sim.simulators.fitted.network import HEADS, ResponseNet, ScaledLinear
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.synthetic.generate import generate_log
from campaign_sim.simulators.synthetic.world import SyntheticWorld

pytestmark = pytest.mark.slow  # the module's fitted-world fixture alone takes 15-35 s

FAST = ["world.ensemble=3", "world.max_epochs=4", "world.hidden=[32, 32]"]


@pytest.fixture(scope="module")
def world():
    return SyntheticWorld.create(seed=0)


@pytest.fixture(scope="module")
def small_log(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "log.parquet"
    generate_log(world, customers=3_000, periods=6, seed=2).log.write_parquet(path)
    return load_log(path, resolve_config(dataset="synthetic", overrides=FAST))


@pytest.fixture(scope="module")
def fitted(small_log, world):
    return fit_world(
        small_log, copy_embeddings=dict(zip(world.copy_ids, world.copy_embeddings, strict=True)), seed=4
    )


def test_save_load_round_trip(fitted, tmp_path):
    world = fitted.world
    world.save(tmp_path)
    again = FittedWorld.load(tmp_path)
    rows = np.arange(200)
    a = world.predict_inputs(fitted.inputs[rows], fitted.actions[rows])
    b = again.predict_inputs(fitted.inputs[rows], fitted.actions[rows])
    np.testing.assert_array_equal(a.p_visit, b.p_visit)
    np.testing.assert_array_equal(a.member_revenue, b.member_revenue)
    assert again.config == world.config and again.encoding.to_dict() == world.encoding.to_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "manifest.json",
        "population.parquet",
        "weights.safetensors",
        "world.json",
    ]
    assert again.population.equals(world.population)


def test_inputs_cross_each_category_level_with_the_offer(fitted, small_log):
    enc = fitted.world.encoding
    shopper, state = enc.shopper_matrix(small_log.frame[:300]), enc.state_matrix(small_log.frame[:300])
    actions = fitted.actions[:300]
    inputs = enc.inputs(shopper, state, actions)
    assert enc.crosses and inputs.shape[1] == enc.input_dim
    np.testing.assert_array_equal(inputs, fitted.inputs[:300])
    offer = [i for i, c in enumerate(enc.action_columns) if c.startswith(("discount=", "channel="))]
    levels = sum(len(v) for v in enc.categorical.values())
    start = enc.shopper_dim + len(enc.state)
    cross = inputs[:, start : start + enc.cross_dim].reshape(300, levels, len(offer))
    one_hot = shopper[:, enc.shopper_dim - levels : enc.shopper_dim]
    np.testing.assert_array_equal(cross, one_hot[:, :, None] * enc.action_table[actions][:, None, offer])
    np.testing.assert_array_equal(inputs[:, start + enc.cross_dim :], enc.action_table[actions])
    # a world saved before crosses existed loads without them (its weights expect no cross block)
    old = {k: v for k, v in enc.to_dict().items() if k != "crosses"}
    legacy = type(enc).from_dict(old, enc.action_table, enc.copy_basis)
    assert not legacy.crosses and legacy.input_dim == enc.input_dim - enc.cross_dim
    assert legacy.inputs(shopper, state, actions).shape == (300, legacy.input_dim)


def test_action_table_flags_each_offered_discount_level(fitted, world):
    enc = fitted.world.encoding
    columns = list(enc.action_columns)
    table = enc.action_table
    levels = [c for c in columns if c.startswith("discount=")]
    assert levels == ["discount=0.1", "discount=0.2", "discount=0.3"]  # 0 is the absence of all
    offered = table[:, columns.index("discount")]
    for name in levels:
        np.testing.assert_array_equal(table[:, columns.index(name)], np.isclose(offered, float(name[9:])))
    assert table[0, [columns.index(n) for n in levels]].sum() == 0  # no contact, no discount
    # a new copy's rows flag its offer's level like the logged copies' rows do
    rows = enc.copy_action_rows(world.copy_embeddings[:2], 0.2, "sms")
    assert (rows[:, columns.index("discount=0.2")] == 1).all()
    assert (rows[:, [columns.index(n) for n in levels if n != "discount=0.2"]] == 0).all()
    # a world saved before the level columns crosses the discount's value instead
    keep = [i for i, c in enumerate(columns) if not c.startswith("discount=")]
    legacy = dataclasses.replace(
        enc, action_table=table[:, keep], action_columns=tuple(columns[i] for i in keep)
    )
    levels_in_shopper = sum(len(v) for v in enc.categorical.values())
    assert legacy.cross_dim == levels_in_shopper * (1 + len(world.channels) - 1)


def test_wide_weights_learn_at_their_own_speed():
    """One Adam step moves each wide weight by about the learning rate times its speed."""
    speed = torch.tensor([[1.0, 10.0], [3.0, 3.0]])
    layer = ScaledLinear(2, 2, speed)
    optimiser = torch.optim.Adam(layer.parameters(), lr=0.01)
    layer(torch.tensor([[1.0, -2.0]])).sum().backward()
    optimiser.step()
    np.testing.assert_allclose(layer.weight.detach().abs().numpy(), 0.01 * speed.numpy(), rtol=1e-4)
    layer.set_columns(slice(1, 2), torch.tensor([[5.0], [6.0]]))
    np.testing.assert_allclose(layer.weight.detach()[:, 1].numpy(), [5.0, 6.0], rtol=1e-6)


def test_sparse_heads_wide_path_learns_slower():
    """Conversion (trained on visits) and order value (on purchases) overfit at the visit head's
    wide-path speed, so their rows of the wide path learn slower."""
    speed = ResponseNet(7, (4,)).wide.speed
    visit, conversion, value, unsubscribe = (speed[HEADS.index(h)] for h in HEADS)
    assert (conversion < visit).all() and (value < visit).all() and (unsubscribe == visit).all()


def test_load_rejects_a_non_world(tmp_path):
    with pytest.raises(InputError, match="not a fitted world"):
        FittedWorld.load(tmp_path)


def test_numpy_inference_matches_torch(fitted):
    """The numpy forward pass reproduces the torch network member by member."""
    weights = fitted.world.weights
    net = ResponseNet(fitted.inputs.shape[1], (32, 32))
    linears = [m for m in [*net.trunk, net.head] if isinstance(m, torch.nn.Linear)]
    x = fitted.inputs[:50]
    numpy_out = fitted.world.member_outputs(x)
    for member in range(fitted.world.members):
        with torch.no_grad():
            for i, layer in enumerate(linears):
                layer.weight.copy_(torch.from_numpy(weights[f"layer{i}.weight"][member].T))
                layer.bias.copy_(torch.from_numpy(weights[f"layer{i}.bias"][member]))
            net.wide.set_columns(slice(None), torch.from_numpy(weights["wide"][member].T))  # wide + prior
            torch_out = net(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(numpy_out[member], torch_out, rtol=1e-4, atol=1e-5)


def test_same_seed_same_weights(small_log, fitted, world):
    again = fit_world(
        small_log, copy_embeddings=dict(zip(world.copy_ids, world.copy_embeddings, strict=True)), seed=4
    )
    for key, value in fitted.world.weights.items():
        np.testing.assert_array_equal(value, again.world.weights[key])


def test_split_is_by_customer(small_log, fitted):
    ids = small_log.frame.get_column("customer_id").to_numpy()
    train, test = set(ids[fitted.split.train]), set(ids[fitted.split.test])
    assert train and test and not train & test


def test_withheld_action_has_more_disagreement(world, tmp_path):
    """An action the history never shows is flagged and the ensemble disagrees more on it."""
    config = resolve_config(
        dataset="synthetic", overrides=["world.ensemble=5", "world.max_epochs=10", "world.hidden=[32, 32]"]
    )
    frame = generate_log(world, customers=10_000, periods=6, seed=3).log
    withheld = (pl.col("discount") == 0.3) & (pl.col("channel") == "email") & (pl.col("copy_id") == "value")
    path = tmp_path / "log.parquet"
    frame.filter(~withheld).write_parquet(path)
    log = load_log(path, config)
    result = fit_world(
        log, copy_embeddings=dict(zip(world.copy_ids, world.copy_embeddings, strict=True)), seed=0
    )
    fw = result.world
    action = fw.config.actions
    flat = (action.discounts.index(0.3) * 4 + action.channels.index("email")) * 4 + action.copies.index(
        "value"
    )
    assert fw.support[flat] == 0 and not fw.supported[flat]
    sample = log.frame.filter(pl.col("channel") == "email").head(2_000)
    shopper, state = fw.encoding.shopper_matrix(sample), fw.encoding.state_matrix(sample)

    def spread(
        flat_action: int,
    ) -> float:  # revenue disagreement: margins differ by discount, uncertainty not
        return float(fw.predict(shopper, state, np.full(sample.height, flat_action)).disagreement.mean())

    # well-logged contact actions; a 5-member spread is itself noisy, so compare with their mean
    well_logged = [a for a in np.flatnonzero(fw.support >= 200) if fw.contacted(np.array([a]))[0]]
    assert len(well_logged) >= 5
    logged = np.array([spread(a) for a in well_logged])
    print(f"withheld {spread(flat):.3f}, well-logged mean {logged.mean():.3f} max {logged.max():.3f}")
    assert spread(flat) > 2 * logged.mean()


def test_one_arm_log_is_unidentifiable(tmp_path):
    frame = pl.DataFrame(
        {
            "customer_id": range(50),
            "period": [0] * 50,
            "discount": [0.0] * 50,
            "channel": ["none"] * 50,
            "copy_id": [None] * 50,
            "visit": [0, 1] * 25,
            "conversion": [0] * 50,
            "revenue": [0.0] * 50,
            "x": np.linspace(0, 1, 50),
        }
    )
    path = tmp_path / "one.csv"
    frame.write_csv(path)
    log = load_log(path, resolve_config(overrides=FAST))
    with pytest.raises(InputError, match="only one action is logged .* unidentifiable"):
        fit_world(log)


def test_missing_outcome_is_a_data_error(tmp_path, world):
    frame = generate_log(world, customers=100, periods=2, seed=0).log.drop("revenue")
    frame.write_parquet(tmp_path / "log.parquet")
    with pytest.raises(DataError, match="column 'revenue': required column is missing"):
        load_log(tmp_path / "log.parquet", resolve_config(dataset="synthetic"))
