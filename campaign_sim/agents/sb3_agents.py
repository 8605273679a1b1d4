"""Stable-baselines3 agents on the campaign environment, and their ``Policy`` adapter.

PPO, A2C and MaskablePPO act on the ``MultiDiscrete`` (discount, channel, copy) action; DQN on
the flattened ``Discrete`` action (``FlatActionVecEnv``) with masked action selection
(``MaskedDQN``). Defaults were measured on this problem with 2 cores and one torch thread
(benchmarks/bench_agents.py): many shoppers per step keep the network batches large and the
Python overhead per sample small.
"""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from stable_baselines3 import A2C, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecMonitor

from campaign_sim.agents.policy import flat_masks, greedy, masked_normalise
from campaign_sim.agents.safe_load import safe_objects
from campaign_sim.core.errors import InputError
from campaign_sim.envs.sb3_vec_env import CampaignVecEnv
from campaign_sim.simulators.interface import World

ALGORITHMS = ("ppo", "a2c", "dqn", "maskable-ppo")
CLASSES: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "a2c": A2C, "dqn": DQN, "maskable-ppo": MaskablePPO}


@dataclass(frozen=True)
class TrainSettings:
    """What a training run needs besides the world; ``hyper`` overrides an algorithm's defaults."""

    algo: str = "ppo"
    timesteps: int = 1_000_000
    n_envs: int = 1024
    seed: int = 0
    pessimism: float | None = None  # None: the world's default (on for fitted worlds)
    net: tuple[int, ...] = (64, 64)
    hyper: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "net": list(self.net)}


def default_hyper(algo: str, n_envs: int) -> dict[str, Any]:
    """Measured defaults (bench_agents.py): two campaigns per PPO rollout, few large batches."""
    if algo in ("ppo", "maskable-ppo"):
        return {
            "n_steps": 24,
            "batch_size": min(4096, 24 * n_envs),
            "n_epochs": 5,
            "learning_rate": 1e-3,
            "gamma": 0.99,
            "gae_lambda": 0.95,
            "ent_coef": 0.003,
        }
    if algo == "a2c":
        return {"n_steps": 12, "learning_rate": 1e-3, "gamma": 0.99, "gae_lambda": 0.95, "ent_coef": 0.003}
    if algo == "dqn":
        return {
            "buffer_size": 400_000,
            "learning_starts": 20 * n_envs,
            "batch_size": 2048,
            "train_freq": 1,
            "gradient_steps": max(1, n_envs // 256),
            "learning_rate": 5e-4,
            "gamma": 0.99,
            "target_update_interval": 50 * n_envs,
            "exploration_fraction": 0.3,
            "exploration_final_eps": 0.02,
        }
    raise ValueError(f"unknown algorithm {algo!r}; expected one of {ALGORITHMS}")


class FlatActionVecEnv(VecEnvWrapper):
    """The campaign VecEnv with one ``Discrete`` action: flat index of (discount, channel, copy)."""

    def __init__(self, venv: CampaignVecEnv) -> None:
        self.shape = tuple(int(n) for n in venv.action_space.nvec)
        super().__init__(venv, action_space=spaces.Discrete(int(np.prod(self.shape))))

    def step_async(self, actions: np.ndarray) -> None:
        self.venv.step_async(np.column_stack(np.unravel_index(np.asarray(actions).reshape(-1), self.shape)))

    def step_wait(self):
        return self.venv.step_wait()

    def reset(self) -> np.ndarray:
        return self.venv.reset()

    def action_masks(self) -> np.ndarray:
        return flat_masks(self.venv.action_masks(), self.shape)


class MaskedDQN(DQN):
    """DQN whose exploration and greedy choices stay inside the environment's action mask."""

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_explore_rng"]  # a Generator would be pickled

    def _sample_action(self, learning_starts: int, action_noise=None, n_envs: int = 1):
        allowed = self.env.action_masks()
        if getattr(self, "_explore_rng", None) is None:  # seeded by the agent's seed, not numpy's global
            self._explore_rng = np.random.default_rng(self.seed)
        rng = self._explore_rng
        if self.num_timesteps < learning_starts or rng.random() < self.exploration_rate:
            scores = rng.random(allowed.shape)  # uniform over the allowed actions
        else:
            with torch.no_grad():
                scores = self.q_net(torch.as_tensor(self._last_obs, device=self.device)).cpu().numpy()
        action = np.where(allowed, scores, -np.inf).argmax(axis=1)
        return action, action


def make_vec_env(world: World | str | Path | None, settings: TrainSettings, *, world_seed: int = 0) -> VecEnv:
    """The training environment: shared budget, expected-profit reward, the horizon as the end."""
    env = CampaignVecEnv(
        settings.n_envs,
        world,
        world_seed=world_seed,
        pessimism=settings.pessimism,
        reward="expected",
        bootstrap_at_horizon=False,
        seed=settings.seed,
    )
    env = VecMonitor(env)
    return FlatActionVecEnv(env) if settings.algo == "dqn" else env


def build_model(settings: TrainSettings, env: VecEnv, *, tensorboard: Path | None = None) -> BaseAlgorithm:
    torch.set_num_threads(1)  # two threads were 5-12x slower on this 2-core machine under load
    hyper = {**default_hyper(settings.algo, settings.n_envs), **settings.hyper}
    cls = MaskedDQN if settings.algo == "dqn" else CLASSES[settings.algo]
    arch = list(settings.net)
    return cls(
        "MlpPolicy",
        env,
        seed=settings.seed,
        device="cpu",
        verbose=0,
        tensorboard_log=str(tensorboard) if tensorboard else None,
        policy_kwargs={"net_arch": arch},
        **hyper,
    )


def load_model(algo: str, path: str | Path) -> BaseAlgorithm:
    """An agent saved by ``BaseAlgorithm.save``, loaded without unpickling anything from it
    (``safe_load``: a received run directory must not run code)."""
    cls = MaskedDQN if algo == "dqn" else CLASSES[algo]
    objects = safe_objects(Path(path), cls)
    try:
        with warnings.catch_warnings():  # torch's notes on a refused pickle: the error says it
            warnings.simplefilter("ignore")
            return cls.load(str(path), device="cpu", custom_objects=objects)
    except (
        OSError,
        EOFError,
        KeyError,
        ValueError,
        RuntimeError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
    ) as exc:
        # policy.pth is read with torch.load(weights_only=True): a pickle of code is refused there
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        raise InputError(f"{path}: not a loadable agent ({type(exc).__name__}: {first})") from None


def check_agent_file(algo: str, path: str | Path) -> None:
    """Refuse an agent zip a report would not load (tampered entries, weights that are not plain
    tensors) without loading it: a received run is checked whole, not only the agent it shows."""
    cls = MaskedDQN if algo == "dqn" else CLASSES[algo]
    safe_objects(Path(path), cls)
    try:
        with zipfile.ZipFile(path) as archive, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.load(io.BytesIO(archive.read("policy.pth")), map_location="cpu", weights_only=True)
    except (OSError, KeyError, RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: its policy weights are not plain tensors ({first})") from None


class SB3Policy:
    """A trained SB3 agent as a ``Policy`` over flat actions.

    Policy-gradient agents give the product of their three categorical heads; "no contact"
    collects the channel-"none" mass. Masks apply as in MaskablePPO (renormalised over the
    allowed actions). ``deterministic`` takes the most likely allowed action (DQN: the best Q)."""

    def __init__(
        self, model: BaseAlgorithm, *, name: str, shape: tuple[int, int, int], deterministic: bool = True
    ):
        self.model, self.name, self.shape, self.deterministic = model, name, shape, deterministic

    def action_probs(self, obs: np.ndarray, masks: np.ndarray) -> np.ndarray:
        allowed = flat_masks(masks, self.shape)
        obs_t = torch.as_tensor(obs, dtype=torch.float32)
        with torch.no_grad():
            if isinstance(self.model, DQN):
                return greedy(self.model.q_net(obs_t).numpy().astype(np.float64), allowed)
            dist = self.model.policy.get_distribution(obs_t)
            heads = getattr(dist, "distributions", None) or dist.distribution  # sb3-contrib's name
            pd, pc, pk = (head.probs.numpy().astype(np.float64) for head in heads)
        joint = pd[:, :, None, None] * pc[:, None, :, None] * pk[:, None, None, :]
        no_contact = joint[:, :, 0, :].sum(axis=(1, 2))
        joint[:, :, 0, :] = 0.0
        joint[:, 0, 0, 0] = no_contact
        probs = masked_normalise(joint.reshape(obs.shape[0], -1), allowed)
        return greedy(probs, allowed) if self.deterministic else probs
