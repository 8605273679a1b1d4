"""The environment over a fitted world loaded from disk: same API, pessimism on by default."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import campaign_sim.envs  # noqa: F401
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.log import load_log
from campaign_sim.envs import ENV_ID
from campaign_sim.simulators.fitted.fit import fit_world
from campaign_sim.simulators.synthetic.generate import generate_log
from campaign_sim.simulators.synthetic.world import SyntheticWorld

pytestmark = pytest.mark.slow  # the module's fitted-world fixture alone takes 15-35 s


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fitted")
    world = SyntheticWorld.create(seed=0)
    generate_log(world, customers=2_000, periods=4, seed=1).log.write_parquet(folder / "log.parquet")
    config = resolve_config(
        dataset="synthetic", overrides=["world.ensemble=3", "world.max_epochs=3", "world.hidden=[16]"]
    )
    result = fit_world(load_log(folder / "log.parquet", config), seed=0)
    return result.world.save(folder / "world")


def test_fitted_world_env_passes_checker(world_dir):
    env = gym.make(ENV_ID, world=str(world_dir), pool_size=500)
    check_env(env.unwrapped)
    assert env.unwrapped.core.settings.pessimism == 1.0  # on by default for fitted worlds


def test_pessimism_penalty_is_reported_and_subtracted(world_dir):
    env = gym.make_vec(
        ENV_ID, num_envs=64, vectorization_mode="vector_entry_point", world=str(world_dir), pool_size=500
    )
    env.reset(seed=0)
    action = np.tile([2, 1, 1], (64, 1))  # 20% e-mail: contacts, so members disagree
    _, reward, _, _, info = env.step(action)
    assert (info["penalty"] > 0).all()
    np.testing.assert_allclose(reward, info["profit"] - info["penalty"], rtol=1e-5, atol=1e-5)
    raw = gym.make_vec(
        ENV_ID,
        num_envs=64,
        vectorization_mode="vector_entry_point",
        world=str(world_dir),
        pool_size=500,
        pessimism=0.0,
    )
    raw.reset(seed=0)
    _, reward_raw, _, _, info_raw = raw.step(action)
    np.testing.assert_allclose(reward_raw, info_raw["profit"], rtol=1e-5, atol=1e-5)
