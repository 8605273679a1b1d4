"""``CampaignEnv``: one shopper's campaign as a plain ``gymnasium.Env``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from campaign_sim.core.seeding import key_from
from campaign_sim.envs.core import INFO_KEYS
from campaign_sim.envs.worlds import build_core
from campaign_sim.simulators.interface import World


class CampaignEnv(gym.Env):
    """Episode = one shopper over ``horizon`` periods.

    Action: ``MultiDiscrete([n_discounts, n_channels, n_copies])``; with channel "none" the
    discount and copy are ignored. Reward: the period's profit, revenue x margin - discount cost
    - contact cost (organic purchases included), minus ``pessimism`` x ensemble disagreement in
    fitted worlds. Observation: ``observation_names``. Terminates when the shopper has
    unsubscribed from every consented channel; truncates at the horizon.
    ``action_masks()`` follows sb3-contrib's MultiDiscrete format.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        world: World | str | Path | None = None,
        *,
        world_seed: int = 0,
        pessimism: float | None = None,
        budget: float | None = None,
        horizon: int | None = None,
        pool_size: int | None = None,
    ) -> None:
        self.core, self.observation_space, self.action_space = build_core(
            world,
            1,
            world_seed=world_seed,
            pessimism=pessimism,
            budget=budget,
            horizon=horizon,
            pool_size=pool_size,
            shared_budget=False,
        )
        self.observation_names = self.core.observation_names
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        rows = np.array([0])
        if seed is not None or not self._started:
            self.core.start(rows, key_from(self.np_random))
        else:
            self.core.restart(rows)
        self._started = True
        return self.core.observe()[0], {}

    def step(self, action):
        reward, terminated, truncated, info = self.core.step(np.asarray(action).reshape(1, 3))
        return (
            self.core.observe()[0],
            float(reward[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            {key: info[key][0].item() for key in INFO_KEYS},
        )

    def action_masks(self) -> np.ndarray:
        return self.core.action_masks()[0]
