"""``CampaignEnv``: one shopper's campaign as a plain ``gymnasium.Env``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Unpack

import gymnasium as gym
import numpy as np

from campaign_sim.core.seeding import key_from
from campaign_sim.envs.records import INFO_KEYS
from campaign_sim.envs.worlds import EnvOverrides, build_core
from campaign_sim.simulators.interface import World


class CampaignEnv(gym.Env):
    """Episode = one shopper over ``horizon`` periods (the spec; ``observation_names`` gives the
    names at run time, F the world's shopper features, C its channels including "none").

    **Observation** ``Box(-10, 10, (F + C + 6,), float32)``, laid out by
    ``envs.observation.ObservationLayout`` and written by ``envs.kernels.observation_row``:

    ============  ==========================  ==========================================
    index         name                        value
    ============  ==========================  ==========================================
    0 … F-1       shopper features            the world's encoding (standardised numbers,
                                              one-hot categories), fixed in an episode
    F             fatigue                     ≥ 0: decayed count of recent contacts
    F+1           discount_exposure           ≥ 0: decayed sum of discounts received
    F+2           periods_since_contact       [0, 1]: periods / 26 (26 = "long ago")
    F+3           periods_since_purchase      [0, 1]: periods / 26
    F+3+j         unsubscribed_<channel j>    {0, 1} for j = 1 … C-1
    F+C+3         contacts_in_window_share    [0, 1]: contacts in the cap's window / cap
    F+C+4         budget_left_share           [0, 1]: 1 without a budget
    F+C+5         period_share                [0, 1): period / horizon
    ============  ==========================  ==========================================

    **Action** ``MultiDiscrete([n_discounts, n_channels, n_copies])`` = (discount level,
    channel, copy); with channel 0 ("none") the discount and copy are ignored.
    ``action_masks()`` (sb3-contrib's MultiDiscrete format) allows a channel only with consent,
    not unsubscribed, under the contact cap and within budget; a masked choice is sent as "none".

    **Reward**: the period's profit, revenue x (margin - discount) - contact cost (organic
    purchases included), minus ``pessimism`` x the ensemble's disagreement in fitted worlds.

    **Episode end**: terminated when the shopper has unsubscribed from every consented channel;
    truncated at ``horizon``. ``info`` holds ``INFO_KEYS`` (revenue, discount and contact cost, profit, …).
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        world: World | str | Path | None = None,
        *,
        world_seed: int = 0,
        **overrides: Unpack[EnvOverrides],
    ) -> None:
        self.core, self.observation_space, self.action_space = build_core(
            world, 1, world_seed=world_seed, shared_budget=False, **overrides
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
