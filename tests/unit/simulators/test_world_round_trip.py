"""A saved world predicts exactly what the fitted one did, whatever the categorical order; the
simulated population is a random (arm-stratified) sample of customers, not the file's first rows."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from campaign_sim.core.errors import InputError
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.log import load_log
from campaign_sim.simulators.fitted.encoding import training_actions
from campaign_sim.simulators.fitted.fit import fit_world, shopper_population
from campaign_sim.simulators.fitted.world import META_FILE, FittedWorld

pytestmark = pytest.mark.slow  # the module's fitted-world fixture alone takes 15-35 s

TINY = ["world.ensemble=2", "world.max_epochs=2", "world.hidden=[16]"]


def hillstrom_shaped(n: int, seed: int) -> pl.DataFrame:
    """A log in the Hillstrom RCT's columns; the preset's categorical order (history_segment,
    zip_code, channel -> purchase_channel) is not alphabetical, and each level moves the visit
    rate, so a scrambled one-hot changes predictions."""
    rng = np.random.default_rng(seed)
    zip_code = rng.choice(["Urban", "Surburban", "Rural"], n)
    channel = rng.choice(["Web", "Phone", "Multichannel"], n)
    segment = rng.choice(["1) $0 - $100", "2) $100 - $200", "3) $200 - $350"], n)
    arm = rng.choice(["No E-Mail", "Mens E-Mail", "Womens E-Mail"], n)
    logit = -2.0 + 1.5 * (zip_code == "Rural") - 1.0 * (channel == "Phone") + 0.5 * (arm != "No E-Mail")
    visit = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    conversion = visit * (rng.random(n) < 0.2)
    return pl.DataFrame(
        {
            "recency": rng.integers(1, 13, n),
            "history_segment": segment,
            "history": rng.gamma(2.0, 120.0, n).round(2),
            "mens": rng.integers(0, 2, n),
            "womens": rng.integers(0, 2, n),
            "zip_code": zip_code,
            "newbie": rng.integers(0, 2, n),
            "channel": channel,
            "segment": arm,
            "visit": visit,
            "conversion": conversion.astype(int),
            "spend": np.where(conversion > 0, rng.gamma(3.0, 40.0, n), 0.0).round(2),
        }
    )


@pytest.fixture(scope="module")
def fitted_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("rct") / "rct.csv"
    hillstrom_shaped(4_000, seed=1).write_csv(path)
    log = load_log(path, resolve_config(dataset="hillstrom", overrides=TINY))
    assert list(log.categorical) != sorted(log.categorical)  # the case the bug hid in
    return log, fit_world(log, seed=3)


def test_reloaded_world_predicts_bit_equal_from_the_log(fitted_log, tmp_path):
    log, result = fitted_log
    again = FittedWorld.load(result.world.save(tmp_path))
    assert list(again.encoding.categorical) == list(log.categorical)
    frame, actions = log.frame, training_actions(log)

    def predict(world: FittedWorld):
        enc = world.encoding
        return world.predict(enc.shopper_matrix(frame), enc.state_matrix(frame), actions)

    before, after = predict(result.world), predict(again)
    np.testing.assert_array_equal(before.p_visit, after.p_visit)
    np.testing.assert_array_equal(before.member_revenue, after.member_revenue)
    pool_before = result.world.pool_of(frame.head(50)).features
    np.testing.assert_array_equal(pool_before, again.pool_of(frame.head(50)).features)


def test_format_1_world_loads_in_its_training_order(fitted_log, tmp_path):
    """Worlds saved before format 2 hold the levels as a key-sorted mapping; the log's categorical
    list (saved beside it) restores the order the network was trained on."""
    log, result = fitted_log
    result.world.save(tmp_path)
    meta = json.loads((tmp_path / META_FILE).read_text())
    meta["format"] = 1
    meta["encoding"]["categorical"] = dict(sorted((k, v) for k, v in meta["encoding"]["categorical"]))
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    (tmp_path / "manifest.json").unlink()  # format-1 worlds were saved without a manifest
    again = FittedWorld.load(tmp_path)
    assert again.encoding.shopper_names == result.world.encoding.shopper_names

    meta.pop("categorical")
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(InputError, match="categorical feature order cannot be recovered"):
        FittedWorld.load(tmp_path)


def test_population_is_a_random_arm_stratified_sample(fitted_log):
    log, _ = fitted_log
    actions = training_actions(log)
    sample = shopper_population(log, actions, seed=5, limit=1_000)
    assert sample.frame.height == 1_000 and "by logged arm" in sample.description
    # Not the first rows: the file's first 1,000 customers are ids 0..999.
    ids = sample.frame.get_column("customer_id").cast(pl.Int64).to_numpy()
    assert ids.max() > 1_000
    # Each arm keeps its log share up to rounding (largest remainders: within one customer).
    chosen = np.isin(log.frame.get_column("customer_id").cast(pl.Int64).to_numpy(), ids)
    shares = np.bincount(actions, minlength=actions.max() + 1) / actions.size * 1_000
    np.testing.assert_allclose(np.bincount(actions[chosen], minlength=shares.size), shares, atol=1.0)
    same = shopper_population(log, actions, seed=5, limit=1_000)
    assert same.frame.equals(sample.frame)
    assert not shopper_population(log, actions, seed=6, limit=1_000).frame.equals(sample.frame)
