"""Train one SB3 agent with periodic atomic checkpoints, resumable after a crash.

Layout of an agent directory (``runs/X/agents/<algo>-seed<k>/``):

- ``checkpoint.zip`` + ``checkpoint.json``: the latest checkpoint and how many steps it holds.
  The zip is renamed into place before the JSON names it, so a kill at any moment leaves a
  JSON that points at a complete zip (or no JSON at all).
- ``model.zip`` + ``agent.json``: the finished agent and its settings; written last.

``--resume`` continues from the checkpoint to the requested total. DQN's replay buffer is not
checkpointed (hundreds of MB): a resumed DQN refills it, which changes its trajectory but not
the step count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from campaign_sim.agents.sb3_agents import TrainSettings, build_model, load_model, make_vec_env
from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.core.errors import InputError
from campaign_sim.core.jsonio import read_json
from campaign_sim.simulators.interface import World

CHECKPOINT, CHECKPOINT_META, MODEL, AGENT_META = (
    "checkpoint.zip",
    "checkpoint.json",
    "model.zip",
    "agent.json",
)
# progress(steps done, total, steps per second, mean episode reward or nan)
Progress = Callable[[int, int, float, float], None]


@dataclass(frozen=True)
class TrainedAgent:
    directory: Path
    settings: TrainSettings
    model: BaseAlgorithm
    seconds: float
    resumed_from: int  # steps already in the checkpoint it resumed from (0 = fresh)


class _Checkpoints(BaseCallback):
    """Saves every ``every`` steps (atomically) and reports progress."""

    def __init__(
        self, directory: Path, every: int, total: int, progress: Progress | None, max_seconds: float | None
    ) -> None:
        super().__init__()
        self.directory, self.every, self.total, self.progress = directory, every, total, progress
        self.max_seconds = max_seconds
        self.last_saved = 0
        self.started = time.perf_counter()
        self.start_steps = 0

    def _on_training_start(self) -> None:
        self.started, self.start_steps = time.perf_counter(), self.num_timesteps
        self.last_saved = self.num_timesteps
        self.on_policy = isinstance(self.model, OnPolicyAlgorithm)

    def _save_when_due(self) -> None:
        if self.num_timesteps - self.last_saved >= self.every:
            save_checkpoint(self.model, self.directory)
            self.last_saved = self.num_timesteps

    def _on_rollout_start(self) -> None:
        # PPO / A2C: here the previous rollout has been learned from, so every counted step is a
        # trained sample. A checkpoint mid-rollout counted steps whose buffer a kill then lost
        # (one kill: 20,480 steps counted, 19,968 trained).
        if self.on_policy:
            self._save_when_due()

    def _on_step(self) -> bool:
        if not self.on_policy:  # DQN learns every step (its replay buffer is not checkpointed)
            self._save_when_due()
        # a wall-clock budget ends training early (benchmarks: "value reached within 120 s")
        return self.max_seconds is None or time.perf_counter() - self.started < self.max_seconds

    def _on_rollout_end(self) -> None:
        if self.progress is None:
            return
        rate = (self.num_timesteps - self.start_steps) / max(time.perf_counter() - self.started, 1e-9)
        episodes = self.model.ep_info_buffer
        reward = float(np.mean([e["r"] for e in episodes])) if episodes else float("nan")
        self.progress(self.num_timesteps, self.total, rate, reward)


def save_checkpoint(model: BaseAlgorithm, directory: Path) -> None:
    with atomic_path(directory / CHECKPOINT) as tmp:
        model.save(tmp.with_suffix(".zip"))
        tmp.with_suffix(".zip").replace(tmp)
    write_text_atomic(directory / CHECKPOINT_META, json.dumps({"timesteps": int(model.num_timesteps)}))


def checkpoint_steps(directory: Path) -> int | None:
    """Steps in the directory's checkpoint, or None without one."""
    meta = directory / CHECKPOINT_META
    if not meta.exists():
        return None
    return _timesteps(read_json(meta), meta)


def _timesteps(meta: dict, path: Path) -> int:
    steps = meta.get("timesteps")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise InputError(f"{path}: 'timesteps' must be a non-negative integer, got {steps!r}")
    return steps


def train_agent(
    world: World | str | Path | None,
    settings: TrainSettings,
    directory: Path,
    *,
    resume: bool = False,
    checkpoint_every: int = 200_000,
    tensorboard: Path | None = None,
    progress: Progress | None = None,
    world_seed: int = 0,
    max_seconds: float | None = None,
) -> TrainedAgent:
    """Train (or resume) one agent into ``directory``; returns the finished model."""
    directory.mkdir(parents=True, exist_ok=True)
    env = make_vec_env(world, settings, world_seed=world_seed)
    done_before = checkpoint_steps(directory) if resume else None
    if done_before is not None:
        model = load_model(settings.algo, directory / CHECKPOINT)
        if model.n_envs != env.num_envs:
            raise InputError(
                f"{directory / CHECKPOINT}: was trained with --n-envs {model.n_envs}; "
                f"resume with the same (got {env.num_envs})"
            )
        model.set_env(env)
        model.tensorboard_log = str(tensorboard) if tensorboard else None
    else:
        model = build_model(settings, env, tensorboard=tensorboard)
    remaining = settings.timesteps - (done_before or 0)
    start = time.perf_counter()
    if remaining > 0:
        model.learn(
            remaining,
            callback=_Checkpoints(directory, checkpoint_every, settings.timesteps, progress, max_seconds),
            reset_num_timesteps=done_before is None,
            tb_log_name=directory.name,
        )
    save_checkpoint(model, directory)
    with atomic_path(directory / MODEL) as tmp:
        model.save(tmp.with_suffix(".zip"))
        tmp.with_suffix(".zip").replace(tmp)
    meta = {**settings.to_dict(), "trained_timesteps": int(model.num_timesteps)}
    write_text_atomic(directory / AGENT_META, json.dumps(meta, indent=2))
    env.close()
    return TrainedAgent(directory, settings, model, time.perf_counter() - start, done_before or 0)
