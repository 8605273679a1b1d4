"""CampaignEnv, the batched vector env and the SB3 adapter: API checks, equivalence, masks."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import campaign_sim.envs  # noqa: F401 - registers the id
from campaign_sim.envs import ENV_ID
from campaign_sim.envs.campaign_env import CampaignEnv
from campaign_sim.envs.sb3_vec_env import CampaignVecEnv
from campaign_sim.envs.vector_env import VectorCampaignEnv

POOL = {"pool_size": 2_000}


def test_gymnasium_and_sb3_checkers_pass():
    gym_check_env(gym.make(ENV_ID, **POOL).unwrapped)
    sb3_check_env(CampaignEnv(**POOL))


def test_registered_with_both_entry_points():
    env = gym.make(ENV_ID, **POOL)
    assert isinstance(env.unwrapped, CampaignEnv)
    vec = gym.make_vec(ENV_ID, num_envs=4, vectorization_mode="vector_entry_point", **POOL)
    assert isinstance(vec.unwrapped, VectorCampaignEnv) and vec.num_envs == 4


def _random_actions(rng, n, steps):
    return rng.integers(0, [4, 4, 4], size=(steps, n, 3))


def test_vector_env_equals_sync_vector_env_of_single_envs():
    """Same seeds and actions: identical observations, rewards, terminations, truncations, infos
    (three episodes per slot, so autoresets are covered)."""
    n, steps = 6, 40
    vec = VectorCampaignEnv(n, **POOL)
    sync = gym.vector.SyncVectorEnv([lambda: CampaignEnv(**POOL) for _ in range(n)])
    np.testing.assert_array_equal(vec.reset(seed=7)[0], sync.reset(seed=7)[0])
    for action in _random_actions(np.random.default_rng(1), n, steps):
        a, b = vec.step(action), sync.step(action)
        for x, y in zip(a[:4], b[:4], strict=True):
            np.testing.assert_array_equal(x, y)
        for key in ("revenue", "profit", "channel", "unsubscribe"):
            mask = a[4][f"_{key}"]
            np.testing.assert_array_equal(mask, b[4].get(f"_{key}", np.zeros(n, dtype=bool)))
            if not mask.any():
                continue
            np.testing.assert_array_equal(np.asarray(a[4][key])[mask], np.asarray(b[4][key])[mask])


def test_same_seed_same_rollout_other_seed_differs():
    def rollout(seed):
        env = VectorCampaignEnv(32, **POOL)
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for action in _random_actions(np.random.default_rng(0), 32, 15):
            obs, reward, *_ = env.step(action)
            out += [obs, reward]
        return out

    a, b, c = rollout(3), rollout(3), rollout(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_episode_semantics():
    env = CampaignEnv(**POOL)
    env.reset(seed=0)
    for period in range(12):
        _, reward, terminated, truncated, info = env.step(np.array([0, 0, 0]))
        assert not terminated and truncated == (period == 11)
        assert info["contact_cost"] == 0 and not info["contacted"]
        assert reward == pytest.approx(info["revenue"] * 0.4)  # organic purchases count


def test_termination_when_every_consented_channel_is_gone():
    env = VectorCampaignEnv(64, **POOL, horizon=400)
    env.reset(seed=0)
    core = env.core
    consent = core.pool.consent[core.shopper]
    core.state.unsubscribed[:, 1:] = consent[:, 1:]  # everyone unsubscribes from every consented channel...
    core.state.unsubscribed[0, 1:] = False  # ...except shopper 0
    _, _, terminated, truncated, _ = env.step(np.zeros((64, 3), dtype=int))
    expected = consent[:, 1:].any(axis=1)
    expected[0] = False
    np.testing.assert_array_equal(terminated, expected)
    assert not truncated.any()


def test_masks_are_respected_for_10k_steps():
    """Random actions drawn only from the masks: never a non-consented or unsubscribed channel, never
    a contact-cap breach, never a budget overspend (shared budget binds: $0.30 per shopper)."""
    n, budget = 100, 0.3
    env = VectorCampaignEnv(n, **POOL, budget=budget)
    env.reset(seed=5)
    core, limits = env.core, env.core.world.dynamics
    rng = np.random.default_rng(0)
    spent = clipped = 0.0
    sizes = np.cumsum([0, *core.shape])
    for _ in range(100):  # 100 steps x 100 shoppers = 10,000 decisions
        masks = env.action_masks()
        action = np.column_stack(
            [[rng.choice(np.flatnonzero(m[sizes[j] : sizes[j + 1]])) for m in masks] for j in range(3)]
        )
        consent = core.pool.consent[core.shopper].copy()
        unsubscribed = core.state.unsubscribed.copy()
        pool_before = core.budget.left.sum()
        _, _, _, _, info = env.step(action)
        channel = np.asarray(info["channel"])
        live = np.asarray(info["_channel"])
        rows = np.flatnonzero(live & (channel > 0))
        assert consent[rows, channel[rows]].all()
        assert not unsubscribed[rows, channel[rows]].any()
        assert (core.state.contacts_in_window() <= limits.max_contacts).all()
        step_spend = float((np.asarray(info["discount_cost"]) + np.asarray(info["contact_cost"]))[live].sum())
        assert step_spend <= pool_before + 1e-9
        assert (core.budget.left >= -1e-9).all()
        spent += step_spend
        clipped += float(np.asarray(info["budget_clipped"])[live].sum())
    assert spent > 0.5 * n * budget  # the budget was actually in play


def test_sb3_vec_env_protocol():
    env = CampaignVecEnv(16, **POOL, seed=0)
    assert isinstance(env, VecEnv)
    obs = env.reset()
    assert obs.shape == (16, len(env.observation_names))
    dones_seen = 0
    for action in _random_actions(np.random.default_rng(0), 16, 13):
        obs, reward, done, infos = env.step(action)
        assert reward.shape == (16,) and done.shape == (16,)
        for i in np.flatnonzero(done):
            assert infos[i]["terminal_observation"].shape == obs[i].shape
            assert "TimeLimit.truncated" in infos[i]
            dones_seen += 1
    assert dones_seen >= 16  # every slot reached the horizon once
    masks = np.stack(env.env_method("action_masks"))
    assert masks.shape == (16, 12) and masks.dtype == bool


def test_sb3_wrappers_leave_the_shared_empty_info_empty():
    """Unfinished slots all get one empty dict; SB3's VecMonitor adds its ``episode`` entries to
    copies, so that dict stays empty and finished slots' infos carry the episode statistics."""
    env = VecMonitor(CampaignVecEnv(16, **POOL, seed=0))
    env.reset()
    episodes = 0
    for action in _random_actions(np.random.default_rng(0), 16, 26):
        _, _, done, infos = env.step(action)
        assert all(infos[i] == {} for i in np.flatnonzero(~done))
        episodes += sum("episode" in infos[i] for i in np.flatnonzero(done))
    assert episodes >= 16 and env.venv._empty_infos[0] == {}


@pytest.mark.parametrize("reward", ["sampled", "expected"])
def test_one_pass_synthetic_step_equals_the_general_passes(reward):
    """The SB3 adapter's one-pass step (envs/fused.py) gives exactly what the general passes give:
    observations, rewards, dones, terminal observations and every info array, over three
    episodes per slot (restarts included, one pass too), with actions that break masks and leave the spaces."""
    n = 300
    fused, general = (CampaignVecEnv(n, **POOL, reward=reward, seed=4) for _ in range(2))
    general.core._fused = False
    assert fused.core._fused
    assert np.array_equal(fused.reset(), general.reset())
    actions = np.random.default_rng(1).integers(-1, [5, 5, 5], size=(36, n, 3))
    for action in actions:
        a, b = fused.step(action), general.step(action)
        for x, y in zip(a[:3], b[:3], strict=True):
            assert np.array_equal(x, y)
        assert [sorted(i) for i in a[3]] == [sorted(i) for i in b[3]]
        for i in np.flatnonzero(a[2]):
            assert np.array_equal(a[3][i]["terminal_observation"], b[3][i]["terminal_observation"])
            assert a[3][i]["TimeLimit.truncated"] == b[3][i]["TimeLimit.truncated"]
        assert fused.last_info.keys() == general.last_info.keys()
        for key, values in fused.last_info.items():
            assert values.dtype == general.last_info[key].dtype, key
            assert np.array_equal(values, general.last_info[key]), key
    assert fused.last_info["invalid_action"].any() and fused.last_info["conversion"].any()
    # the one-pass restart (fused.synthetic_restart) seats the same shoppers in the same state
    f, g = fused.core, general.core
    for x, y in zip(
        (f.keys, f.shopper, f.seated.data["terms"], *f.state.arrays()),
        (g.keys, g.shopper, g.seated.data["terms"], *g.state.arrays()),
        strict=True,
    ):
        assert np.array_equal(x, y)


def test_budgeted_campaigns_take_the_general_step():
    assert not CampaignVecEnv(8, **POOL, budget=5.0).core._fused
