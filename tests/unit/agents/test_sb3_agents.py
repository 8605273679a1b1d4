"""SB3 agents on the campaign VecEnv: every algorithm trains, acts inside masks, is repeatable,
and a training killed with SIGKILL resumes to the requested total."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from campaign_sim.agents.evaluate import make_core, run_policy
from campaign_sim.agents.policy import flat_masks
from campaign_sim.agents.sb3_agents import (
    ALGORITHMS,
    SB3Policy,
    TrainSettings,
    build_model,
    load_model,
    make_vec_env,
)
from campaign_sim.agents.training import AGENT_META, CHECKPOINT, MODEL, checkpoint_steps
from campaign_sim.simulators.synthetic.world import SyntheticWorld
from campaign_sim.workflows.train import TrainRequest, run_train

WORLD = SyntheticWorld.create(seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("algo", ALGORITHMS)
def test_every_algorithm_trains_and_acts_inside_the_masks(algo, tmp_path):
    settings = TrainSettings(
        algo=algo, timesteps=3_000, n_envs=64, seed=1, hyper={"learning_starts": 500} if algo == "dqn" else {}
    )
    env = make_vec_env(WORLD, settings)
    model = build_model(settings, env)
    model.learn(settings.timesteps)
    model.save(tmp_path / "agent.zip")
    policy = SB3Policy(
        load_model(algo, tmp_path / "agent.zip"), name=algo, shape=WORLD.shape, deterministic=False
    )
    core = make_core(WORLD, 300)
    run_policy(policy, core, seed=0, periods=4)
    masks = core.action_masks()
    probs = policy.action_probs(core.observe(), masks)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-9)
    assert (probs[~flat_masks(masks, WORLD.shape)] == 0).all()


def test_masked_dqn_explores_only_allowed_actions():
    settings = TrainSettings(algo="dqn", timesteps=1, n_envs=256, seed=0)
    env = make_vec_env(WORLD, settings)
    model = build_model(settings, env)
    model._last_obs = env.reset()
    for _ in range(20):  # warm-up draws are uniform over the allowed actions
        action, _ = model._sample_action(learning_starts=10**9, n_envs=256)
        assert env.action_masks()[np.arange(256), action].all()
        env.step(action)


def _train(tmp_path: Path, name: str) -> dict:
    request = TrainRequest(
        world="synthetic",
        out=tmp_path / name,
        algos=("ppo",),
        timesteps=4_000,
        seeds=2,
        n_envs=64,
        eval_shoppers=400,
        baselines=False,
    )
    return run_train(request).evaluation


def test_the_same_seed_gives_identical_evaluation_numbers(tmp_path):
    first, second = _train(tmp_path, "a"), _train(tmp_path, "b")
    assert first.evaluated_in == second.evaluated_in
    assert (tmp_path / "a" / "evaluations" / "train_episodes.parquet").exists()


@pytest.mark.slow
def test_training_killed_with_sigkill_resumes_to_the_requested_total(tmp_path):
    total = 300_000
    command = [
        str(Path(sys.executable).parent / "campaign-sim"),
        "train",
        "--out",
        str(tmp_path / "run"),
        "--timesteps",
        str(total),
        "--n-envs",
        "256",
        "--checkpoint-every",
        "20000",
        "--no-baselines",
        "--eval-shoppers",
        "200",
        "--quiet",
    ]
    agent = tmp_path / "run" / "agents" / "ppo-seed0"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 300
    while (checkpoint_steps(agent) or 0) < 40_000 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "training ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = checkpoint_steps(agent)
    assert killed_at is not None and 0 < killed_at < total
    assert not (agent / AGENT_META).exists()
    load_model("ppo", agent / CHECKPOINT)  # the checkpoint on disk is whole
    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    meta = json.loads((agent / AGENT_META).read_text())
    assert meta["trained_timesteps"] >= total
    model = load_model("ppo", agent / MODEL)
    assert model.num_timesteps == meta["trained_timesteps"]
    # every counted step was learned from: PPO updates n_epochs times per rollout of n_steps x n_envs
    trained_samples = model._n_updates // model.n_epochs * model.n_steps * model.n_envs
    assert trained_samples == model.num_timesteps


def test_masked_dqn_exploration_is_seeded_by_the_agent_seed():
    def actions(seed: int) -> np.ndarray:
        settings = TrainSettings(algo="dqn", timesteps=1, n_envs=128, seed=seed)
        env = make_vec_env(WORLD, settings)
        model = build_model(settings, env)
        model._last_obs = env.reset()
        np.random.seed(seed + 99)  # numpy's global state must not matter
        return model._sample_action(learning_starts=10**9, n_envs=128)[0]

    np.testing.assert_array_equal(actions(3), actions(3))
    assert (actions(3) != actions(4)).any()
