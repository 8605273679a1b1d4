"""Which world an environment runs in: the built-in synthetic world or a fitted one on disk."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict, Unpack

import numpy as np
import polars as pl
from gymnasium import spaces

from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import InputError
from campaign_sim.data.datasets import resolve_config
from campaign_sim.envs.engine import CampaignEngine, EnvSettings
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.interface import Outcomes, ShopperPool, World, WorldResponse
from campaign_sim.simulators.state import ShopperState
from campaign_sim.simulators.synthetic.population import Population
from campaign_sim.simulators.synthetic.world import SyntheticWorld

SYNTHETIC = "synthetic"


class ObservedThrough:
    """The true synthetic world, with observations encoded the way a fitted world encodes them.

    An agent trained in a fitted world sees shoppers through that world's feature encoding; to
    measure it in the true world, the true world's shoppers are encoded the same way. The
    response stays the true one; the fitted encoding ("x") rides along so policies that plan
    under the fitted model (myopic greedy) can use it.
    """

    def __init__(self, world: SyntheticWorld, lens: FittedWorld) -> None:
        fitted_actions = (lens.discounts, lens.channels, lens.copy_ids)
        if fitted_actions != (tuple(world.discounts), tuple(world.channels), tuple(world.copy_ids)):
            raise InputError(
                f"the fitted world's actions {fitted_actions} differ from the true world's; "
                "it was not fitted on this world's log"
            )
        self.world, self.lens = world, lens
        self.discounts, self.channels, self.copy_ids = world.discounts, world.channels, world.copy_ids
        self.margin, self.contact_cost, self.dynamics = world.margin, world.contact_cost, world.dynamics
        self.valid_actions = lens.valid_actions  # the fitted world's copies decide what may be sent
        self.copies_for_profiles = lens.copies_for_profiles

    def shopper_pool(self, size: int, *, seed: int) -> ShopperPool:
        pool = self.world.shopper_pool(size, seed=seed)
        fields = {name: pool.data[name] for name in Population.__dataclass_fields__}
        frame = pl.DataFrame(Population(**fields).columns())
        encoded = self.lens.encoding.shopper_matrix(frame)
        data, fields = {**pool.data, "x": encoded}, pool.step_fields  # steps go to the wrapped world
        profile = self.lens.copy_profile_of(frame)  # the copies each may get, as in the fitted world
        if profile is not None:
            data["copy_profile"] = profile
            fields = None if fields is None else (*fields, "copy_profile")  # masks read it each step
        return ShopperPool(
            np.clip(encoded, -10, 10),
            self.lens.encoding.shopper_names,
            pool.consent,
            pool.since_purchase,
            data,
            fields,
        )

    def respond(
        self, shoppers: dict[str, np.ndarray], state: ShopperState, action: np.ndarray
    ) -> WorldResponse:
        return self.world.respond(shoppers, state, action)

    def step_outcomes(
        self, pool: ShopperPool, index: np.ndarray, state: ShopperState, action: np.ndarray, u: np.ndarray
    ) -> tuple[Outcomes, np.ndarray]:
        return self.world.step_outcomes(pool, index, state, action, u)


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


class EnvOverrides(TypedDict, total=False):
    """What a front-end may set over the world's config; None (or absent) keeps the config's."""

    pessimism: float | None  # default: the config's for fitted worlds, 0 for the synthetic one
    budget: float | None
    horizon: int | None
    pool_size: int | None
    reward: str | None  # "sampled" or "expected" (EnvSettings.reward)


def build_core(
    world: World | str | Path | None,
    n: int,
    *,
    world_seed: int = 0,
    shared_budget: bool,
    **overrides: Unpack[EnvOverrides],
) -> tuple[CampaignEngine, spaces.Box, spaces.MultiDiscrete]:
    """The engine every front-end wraps, with the single-shopper observation and action spaces."""
    resolved, config, fitted = resolve_world(world, seed=world_seed)
    settings = settings_from(config, fitted=fitted, pool_seed=world_seed, **overrides)
    core = CampaignEngine(resolved, n, settings, shared_budget=shared_budget)
    observation = spaces.Box(-10.0, 10.0, shape=(len(core.observation_names),), dtype=np.float32)
    return core, observation, spaces.MultiDiscrete(list(core.shape))
