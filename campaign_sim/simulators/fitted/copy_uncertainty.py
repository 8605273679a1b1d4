"""An interval for the predicted lift of a copy text, wider the farther it is from every copy the
log showed.

The fitted world predicts any copy from its embedding, but a copy never logged is an
extrapolation the ensemble members make alike. The extra uncertainty is read off the logged
copies themselves, as in kriging (Cressie, *Statistics for Spatial Data*, 1993): the
semivariogram γ(d) = ½ E[(lift_i − lift_j)²] over pairs of logged copies at distance d (in the
coordinates the world sees copies in) is fitted as γ(d) = slope · d, and a copy at distance d from
its nearest logged copy gets, beside the members' spread, the variance 2 γ(d) of a lift at that
distance from a known one. A logged copy (d = 0) keeps the members' spread alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from campaign_sim.simulators.fitted.world import FittedWorld

Z95 = 1.959964


@dataclass(frozen=True)
class CopyLift:
    """Predicted lift of each copy against no contact, with its 95% interval."""

    mean: np.ndarray  # (n,)
    low: np.ndarray
    high: np.ndarray
    distance: np.ndarray  # to the nearest logged copy, in the world's copy coordinates
    members_sd: np.ndarray  # the ensemble members' spread alone


def copy_lift_interval(
    world: FittedWorld,
    embeddings: np.ndarray,
    *,
    discount: float,
    channel: str,
    shoppers: pl.DataFrame,
    key: str = "visit",
) -> CopyLift:
    """``world.copy_lift``'s ``key`` ("visit" or "profit") per copy, with a distance-aware interval."""
    coords = world.encoding.copy_coordinates(embeddings)
    logged = world.encoding.logged_copy_coordinates()
    offer = {"discount": discount, "channel": channel, "shoppers": shoppers}
    members = world.copy_lift_at(coords, **offer)[key]  # (members, n)
    logged_lift = world.copy_lift_at(logged, **offer)[key].mean(axis=0)
    slope = _variogram_slope(logged, logged_lift)
    distance = np.sqrt(((coords[:, None, :] - logged[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    members_sd = members.std(axis=0)
    sd = np.sqrt(members_sd**2 + 2 * slope * distance)
    mean = members.mean(axis=0)
    return CopyLift(mean, mean - Z95 * sd, mean + Z95 * sd, distance, members_sd)


def _variogram_slope(coords: np.ndarray, lift: np.ndarray) -> float:
    """Least-squares slope through the origin of ½ (Δ lift)² against distance, over all pairs."""
    i, j = np.triu_indices(len(coords), k=1)
    if i.size == 0:
        return 0.0
    distance = np.sqrt(((coords[i] - coords[j]) ** 2).sum(axis=1))
    half_square = 0.5 * (lift[i] - lift[j]) ** 2
    return float((distance * half_square).sum() / max((distance**2).sum(), 1e-12))
