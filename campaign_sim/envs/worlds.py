"""Which world an environment runs in: the built-in synthetic world or a fitted one on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gymnasium import spaces

from campaign_sim.core.config import CampaignConfig
from campaign_sim.data.datasets import resolve_config
from campaign_sim.envs.core import CampaignCore, EnvSettings
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.interface import World
from campaign_sim.simulators.synthetic.world import SyntheticWorld

SYNTHETIC = "synthetic"


def resolve_world(
    world: World | str | Path | None = None, *, seed: int = 0
) -> tuple[World, CampaignConfig, bool]:
    """A world, the config whose constraints apply, and whether it is fitted (pessimism applies).

    ``world`` is a world object, "synthetic" / None (the built-in world seeded by ``seed``), or the
    path of a fitted world directory (``runs/NAME/world``)."""
    if world is None or (isinstance(world, str) and world == SYNTHETIC):
        return SyntheticWorld.create(seed=seed), resolve_config(dataset=SYNTHETIC), False
    if isinstance(world, str | Path):
        fitted = FittedWorld.load(world)
        return fitted, fitted.config, True
    if isinstance(world, FittedWorld):
        return world, world.config, True
    return world, resolve_config(dataset=SYNTHETIC), False


def settings_from(
    config: CampaignConfig, *, fitted: bool, pessimism: float | None = None, **overrides: object
) -> EnvSettings:
    """Environment rules from a campaign config (pessimism on by default for fitted worlds)."""
    default = config.world.pessimism if fitted else 0.0
    values = {
        "horizon": config.constraints.horizon,
        "budget": config.constraints.budget,
        "pessimism": default if pessimism is None else pessimism,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return EnvSettings(**values)


def build_core(
    world: World | str | Path | None,
    n: int,
    *,
    world_seed: int = 0,
    pessimism: float | None = None,
    budget: float | None = None,
    horizon: int | None = None,
    pool_size: int | None = None,
    shared_budget: bool,
) -> tuple[CampaignCore, spaces.Box, spaces.MultiDiscrete]:
    """The engine every front-end wraps, with the single-shopper observation and action spaces."""
    resolved, config, fitted = resolve_world(world, seed=world_seed)
    settings = settings_from(
        config,
        fitted=fitted,
        pessimism=pessimism,
        budget=budget,
        horizon=horizon,
        pool_size=pool_size,
        pool_seed=world_seed,
    )
    core = CampaignCore(resolved, n, settings, shared_budget=shared_budget)
    observation = spaces.Box(-10.0, 10.0, shape=(len(core.observation_names),), dtype=np.float32)
    return core, observation, spaces.MultiDiscrete(list(core.shape))
