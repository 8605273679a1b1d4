"""``CampaignVecEnv``: the batched campaign as a stable-baselines3 ``VecEnv``.

SB3 does not take gymnasium's ``VectorEnv``; this adapter speaks SB3's protocol over the same
numpy core: a 4-tuple step, immediate reset of finished slots with ``terminal_observation`` and
``TimeLimit.truncated`` in their info, and ``env_method("action_masks")`` for MaskablePPO.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Unpack

import numpy as np
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvStepReturn

from campaign_sim.core.seeding import key_from
from campaign_sim.envs.worlds import EnvOverrides, build_core
from campaign_sim.simulators.interface import World


class CampaignVecEnv(VecEnv):
    """``num_envs`` shoppers per step, SB3 semantics, no per-shopper loop in the hot path."""

    def __init__(
        self,
        num_envs: int,
        world: World | str | Path | None = None,
        *,
        world_seed: int = 0,
        shared_budget: bool = True,
        bootstrap_at_horizon: bool = True,
        seed: int | None = None,
        **overrides: Unpack[EnvOverrides],
    ) -> None:
        """``bootstrap_at_horizon=False`` reports the horizon as the campaign's real end (no
        ``TimeLimit.truncated``), so learners do not add a value beyond the last period."""
        self.core, observation_space, action_space = build_core(
            world,
            num_envs,
            world_seed=world_seed,
            shared_budget=shared_budget,
            **overrides,
        )
        self.bootstrap_at_horizon = bootstrap_at_horizon
        self.render_mode = None  # nothing to render; SB3 asks every env for it
        super().__init__(num_envs, observation_space, action_space)
        self.observation_names = self.core.observation_names
        self._seed = seed
        self._actions = np.zeros((num_envs, 3), dtype=np.int64)
        self.last_info: dict[str, np.ndarray] = {}  # INFO_KEYS -> (num_envs,) arrays of the last step
        # Slots that did not finish all get this one empty dict (16k fresh dicts per step cost as
        # much as the simulation; 16k distinct persistent ones still cost a cache miss each on
        # every list copy, free and garbage-collector pass). SB3 and its wrappers only read it,
        # or copy it before adding keys; finished slots always get fresh dicts.
        self._empty_infos: tuple[dict[str, Any], ...] = ({},) * num_envs

    def reset(self) -> np.ndarray:
        rows = np.arange(self.num_envs)
        generator = seeding.np_random(self._seed)[0]
        self._seed = None  # SB3: a seed applies to the next reset only
        self.core.clear()
        self.core.start(rows, key_from(generator, self.num_envs))
        return self.core.observe()

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions).reshape(self.num_envs, 3)

    def step_wait(self) -> VecEnvStepReturn:
        # finished slots' observations are their terminal ones
        reward, terminated, truncated, self.last_info, obs = self.core.step_and_observe(self._actions)
        done = terminated | truncated
        rows = np.flatnonzero(done)
        if not rows.size:
            return obs, reward, done, list(self._empty_infos)
        # What SB3 needs per finished slot; the per-shopper outcomes of every step are the
        # arrays in ``last_info`` (dicts for 16k slots would cost more than the step itself).
        cuts = (truncated[rows] & self.bootstrap_at_horizon).tolist()
        lasts = self.core.restart_finished(obs, rows)
        finished = [
            {"terminal_observation": last, "TimeLimit.truncated": cut}
            for last, cut in zip(lasts, cuts, strict=True)
        ]
        # the list of all slots comes after the dicts, so the garbage collection their
        # allocation sets off (~1 a step) does not walk its 16k entries
        infos = list(self._empty_infos)
        for row, info in zip(rows.tolist(), finished, strict=True):
            infos[row] = info
        return obs, reward, done, infos

    def close(self) -> None:
        return None

    def seed(self, seed: int | None = None) -> Sequence[None | int]:
        self._seed = seed
        return [seed] * self.num_envs

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        rows = self._indices(indices)
        if method_name == "action_masks":
            masks = self.core.action_masks()
            return [masks[i] for i in rows]
        raise AttributeError(f"CampaignVecEnv has no per-env method {method_name!r}")

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._indices(indices))

    def action_masks(self) -> np.ndarray:
        return self.core.action_masks()

    def _indices(self, indices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        return [indices] if isinstance(indices, int) else list(indices)
