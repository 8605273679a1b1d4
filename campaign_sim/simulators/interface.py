"""What an environment needs from a world, true or fitted: one interface for both.

A world offers a ``ShopperPool`` (shoppers to draw episodes from, with observation features
and consent) and ``respond`` (the response of pooled shoppers in a state to flat actions).
Outcomes are then sampled from uniforms, so any random stream, including the counter-based one
of the environments, drives them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numba
import numpy as np

from campaign_sim.simulators.state import Dynamics, ShopperState

OUTCOME_STREAMS = 5  # visit, conversion, two for the order value (Box-Muller), unsubscribe


@dataclass(frozen=True)
class ShopperPool:
    """Shoppers an environment draws episodes from."""

    features: np.ndarray  # (P, F) float32 observation features, standardised
    feature_names: tuple[str, ...]
    consent: np.ndarray  # (P, C) bool, column 0 ("none") True
    since_purchase: np.ndarray  # (P,) periods since the last purchase at the start
    data: dict[str, np.ndarray]  # what the world needs for a response, one row per shopper
    step_fields: tuple[str, ...] | None = None  # the keys of ``data`` step_outcomes reads (None: all)

    def rows(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """The response data of shoppers ``index`` (gathered once per episode, not per step)."""
        return {name: values[index] for name, values in self.data.items()}

    @property
    def size(self) -> int:
        return int(self.features.shape[0])

    def seats(self, index: np.ndarray) -> ShopperPool:
        """A pool whose row i is shopper ``index[i]``: per-slot copies an environment reads in order
        at every step (a random jump into a large pool per slot and step costs a cache miss).
        Only the ``step_fields`` are copied: they are what a step reads."""
        fields = self.step_fields if self.step_fields is not None else tuple(self.data)
        return ShopperPool(
            self.features[index],
            self.feature_names,
            self.consent[index],
            self.since_purchase[index],
            {name: self.data[name][index] for name in fields},
            self.step_fields,
        )


@numba.njit(cache=True, parallel=True)
def copy_rows(target, rows, source, index):  # pragma: no cover - compiled
    """``target[rows[r]] = source[index[r]]`` for 2-D arrays (numpy's fancy setitem is ~5x slower)."""
    for r in numba.prange(rows.shape[0]):
        target[rows[r], :] = source[index[r], :]


@dataclass(frozen=True)
class WorldResponse:
    """Per-row probabilities, order-value distribution and uncertainty for one action each."""

    p_visit: np.ndarray
    p_conversion: np.ndarray  # given a visit
    log_value_mean: np.ndarray
    value_sigma: float
    p_unsubscribe: np.ndarray  # from the contacted channel; 0 without contact
    disagreement: np.ndarray  # epistemic spread of expected profit (0 for the true world)


@dataclass(frozen=True)
class Outcomes:
    visit: np.ndarray
    conversion: np.ndarray
    revenue: np.ndarray
    unsubscribe: np.ndarray
    expected_revenue: np.ndarray  # E[revenue] given the response: the low-variance training reward


class World(Protocol):
    """The environment's view of a world."""

    discounts: tuple[float, ...]
    channels: tuple[str, ...]
    copy_ids: tuple[str, ...]
    margin: float
    contact_cost: tuple[float, ...]
    dynamics: Dynamics
    # optional ``valid_actions``: (discounts, channels, copies) bool, which copy may go with which
    # offer and channel (copies written for some only); absent or None: every copy with every one

    def shopper_pool(self, size: int, *, seed: int) -> ShopperPool: ...

    def respond(
        self, shoppers: dict[str, np.ndarray], state: ShopperState, action: np.ndarray
    ) -> WorldResponse:
        """Response of shoppers (``ShopperPool.rows``) in ``state`` to flat actions ``action``."""
        ...

    def step_outcomes(
        self, pool: ShopperPool, index: np.ndarray, state: ShopperState, action: np.ndarray, u: np.ndarray
    ) -> tuple[Outcomes, np.ndarray]:
        """Outcomes of pool shoppers ``index`` (from (n, OUTCOME_STREAMS) uniforms) and the
        disagreement per row. Taking the pool and an index lets a world skip per-row gathers."""
        ...


@runtime_checkable
class RowFunctionWorld(Protocol):
    """Optional world capability: the response is a compiled row function of the seated
    shopper's ``terms`` (pool data) and these constants, as the synthetic world's is. The
    engine then steps every slot in one fused pass (``envs/fused.py``) instead of asking
    ``step_outcomes``."""

    @property
    def kernel_constants(self) -> np.ndarray: ...


def respond_then_sample(
    world: World, pool: ShopperPool, index: np.ndarray, state: ShopperState, action: np.ndarray, u: np.ndarray
) -> tuple[Outcomes, np.ndarray]:
    """``step_outcomes`` for a world with no faster way: its response, then ``sample_outcomes``."""
    response = world.respond(pool.rows(index), state, action)
    return sample_outcomes(response, u), response.disagreement


def sample_outcomes(response: WorldResponse, u: np.ndarray) -> Outcomes:
    """Outcomes from (n, OUTCOME_STREAMS) uniforms in [0, 1)."""
    visit = u[:, 0] < response.p_visit
    conversion = visit & (u[:, 1] < response.p_conversion)
    normal = np.sqrt(-2.0 * np.log1p(-u[:, 2])) * np.cos(2.0 * math.pi * u[:, 3])  # Box-Muller
    value = np.round(np.exp(response.log_value_mean + response.value_sigma * normal), 2)
    unsubscribe = u[:, 4] < response.p_unsubscribe
    expected = (
        response.p_visit
        * response.p_conversion
        * np.exp(response.log_value_mean + 0.5 * response.value_sigma**2)
    )
    return Outcomes(visit, conversion, np.where(conversion, value, 0.0), unsubscribe, expected)


def flat_action(d: np.ndarray, c: np.ndarray, k: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Flat index of (discount, channel, copy); "no contact" is always flat 0 (discount and copy ignored)."""
    _, n_c, n_k = shape
    return np.where(c > 0, (d * n_c + c) * n_k + k, 0)


def standardise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column-standardised float32 copy of ``matrix``, with the means and scales used."""
    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    return ((matrix - mean) / scale).astype(np.float32), mean, scale
