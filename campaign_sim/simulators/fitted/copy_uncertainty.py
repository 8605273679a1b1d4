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

from campaign_sim.core.config import NO_CONTACT
from campaign_sim.core.stats import Z95
from campaign_sim.data import schema as S
from campaign_sim.data.bandit import flat_action_index
from campaign_sim.simulators.fitted.fit import held_out_rows
from campaign_sim.simulators.fitted.world import FittedWorld


@dataclass(frozen=True)
class CopyLift:
    """Predicted lift of each copy against no contact, with its 95% interval."""

    mean: np.ndarray  # (n,)
    low: np.ndarray
    high: np.ndarray
    distance: np.ndarray  # to the nearest logged copy, in the world's copy coordinates
    members_sd: np.ndarray  # the ensemble members' spread alone
    offset: LiftOffset | None  # the history's correction of the offer's lift (None: no history given)


@dataclass(frozen=True)
class LiftOffset:
    """Doubly robust correction of an offer's predicted lift, read off the logged residuals."""

    shift: float
    se: float
    offer_rows: int
    control_rows: int


MIN_ROWS = 30  # logged rows per side below which the correction is not estimable


def copy_lift_interval(
    world: FittedWorld,
    embeddings: np.ndarray,
    *,
    discount: float,
    channel: str,
    shoppers: pl.DataFrame,
    key: str = "visit",
    history: pl.DataFrame | None = None,
) -> CopyLift:
    """``world.copy_lift``'s ``key`` ("visit" or "profit") per copy, with a distance-aware interval,
    corrected by ``history`` (the log the world was fitted on) when given."""
    coords = world.encoding.copy_coordinates(embeddings)
    logged = world.encoding.logged_copy_coordinates()
    offer = {"discount": discount, "channel": channel, "shoppers": shoppers}
    members = world.copy_lift_at(coords, **offer)[key]  # (members, n)
    logged_lift = world.copy_lift_at(logged, **offer)[key].mean(axis=0)
    slope = _variogram_slope(logged, logged_lift)
    distance = np.sqrt(((coords[:, None, :] - logged[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
    members_sd = members.std(axis=0)
    offset = None if history is None else logged_lift_offset(world, history, discount, channel, key)
    shift, shift_se = (0.0, 0.0) if offset is None else (offset.shift, offset.se)
    sd = np.sqrt(members_sd**2 + 2 * slope * distance + shift_se**2)
    mean = members.mean(axis=0) + shift
    return CopyLift(mean, mean - Z95 * sd, mean + Z95 * sd, distance, members_sd, offset)


def logged_lift_offset(
    world: FittedWorld, history: pl.DataFrame, discount: float, channel: str, key: str
) -> LiftOffset | None:
    """The history's correction of the offer's lift, from the customers that did not fit the
    world (``held_out_rows``: cross-fitting, so the residuals are out of sample); None when
    either side has < MIN_ROWS rows."""
    history = history[held_out_rows(world, history)]
    first = history.filter(pl.col(S.PERIOD) == pl.col(S.PERIOD).min().over(S.CUSTOMER_ID))
    offer = (pl.col(S.CHANNEL) == channel) & ((pl.col(S.DISCOUNT) - discount).abs() < 1e-9)
    sides = [first.filter(offer), first.filter(pl.col(S.CHANNEL) == NO_CONTACT)]
    if min(side.height for side in sides) < MIN_ROWS:
        return None
    means, variances = [], []
    for side, price in zip(sides, (world.margin - discount, world.margin), strict=True):
        response = world.predict(
            world.encoding.shopper_matrix(side),
            world.encoding.state_matrix(side),
            flat_action_index(side, world.config),
        )
        if key == "visit":
            residual = side[S.VISIT].to_numpy() - response.p_visit
        else:  # contact costs are known: the profit residual is the revenue residual at the margin
            residual = (side[S.REVENUE].to_numpy() - response.expected_revenue) * price
        logged = S.PROPENSITY in side.columns  # without propensities: the plain mean
        weight = 1.0 / side[S.PROPENSITY].to_numpy() if logged else np.ones(side.height)
        mean = float((weight * residual).sum() / weight.sum())
        means.append(mean)
        variances.append(float((weight**2 * (residual - mean) ** 2).sum() / weight.sum() ** 2))
    return LiftOffset(means[0] - means[1], float(np.sqrt(sum(variances))), sides[0].height, sides[1].height)


def _variogram_slope(coords: np.ndarray, lift: np.ndarray) -> float:
    """Least-squares slope through the origin of ½ (Δ lift)² against distance, over all pairs."""
    i, j = np.triu_indices(len(coords), k=1)
    if i.size == 0:
        return 0.0
    distance = np.sqrt(((coords[i] - coords[j]) ** 2).sum(axis=1))
    half_square = 0.5 * (lift[i] - lift[j]) ** 2
    return float((distance * half_square).sum() / max((distance**2).sum(), 1e-12))
