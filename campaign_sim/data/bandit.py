"""``BanditLog``: the arrays off-policy evaluation needs, from any validated log."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from campaign_sim.core.config import NO_CONTACT, CampaignConfig
from campaign_sim.core.errors import InputError
from campaign_sim.data import schema as S
from campaign_sim.data.log import CampaignLog

REWARDS = ("profit", "revenue", "conversion", "visit")


@dataclass(frozen=True)
class BanditLog:
    """Logged decisions as arrays: context, action index, reward, logging propensity."""

    context: np.ndarray  # (n, d) float64
    action: np.ndarray  # (n,) int64 in [0, n_actions)
    reward: np.ndarray  # (n,) float64
    propensity: np.ndarray | None  # (n,) probability of the logged action, or None
    n_actions: int
    action_labels: tuple[str, ...]
    feature_names: tuple[str, ...]
    position: np.ndarray | None = None  # (n,) slot index from 0 (recommendation logs)
    action_context: np.ndarray | None = None  # (n_actions, k) item features

    def __post_init__(self) -> None:
        n = self.action.shape[0]
        assert self.context.shape[0] == n and self.reward.shape == (n,)
        assert self.propensity is None or self.propensity.shape == (n,)
        assert len(self.action_labels) == self.n_actions

    @property
    def n(self) -> int:
        return int(self.action.shape[0])


def flat_action_labels(config: CampaignConfig) -> tuple[str, ...]:
    """Names of the flattened (discount, channel, copy) actions, in C order."""
    actions = config.actions
    return tuple(
        f"{channel}|{discount:.0%}|{copy}"
        for discount in actions.discounts
        for channel in actions.channels
        for copy in actions.copies
    )


def bandit_log(log: CampaignLog, *, reward: str = "profit") -> BanditLog:
    """The bandit view of a campaign log (``reward`` one of REWARDS) or a recommendation log."""
    context, names = _context(log.frame, log.numeric_features, log.categorical)
    propensity = log.frame.get_column(S.PROPENSITY).to_numpy() if log.has_propensity else None
    if log.kind == "recommendation":
        n_items = (
            log.item_context.height if log.item_context is not None else int(log.frame[S.ITEM].max()) + 1
        )
        item_context = None
        if log.item_context is not None:
            numeric = [c for c, t in log.item_context.schema.items() if t.is_numeric() and c != S.ITEM]
            item_context = log.item_context.sort(S.ITEM).select(numeric).to_numpy().astype(np.float64)
        return BanditLog(
            context,
            log.frame.get_column(S.ITEM).to_numpy().astype(np.int64),
            log.frame.get_column(S.CLICK).to_numpy().astype(np.float64),
            propensity,
            n_items,
            tuple(f"item_{i}" for i in range(n_items)),
            names,
            position=log.frame.get_column(S.POSITION).to_numpy().astype(np.int64) - 1,
            action_context=item_context,
        )
    if reward not in REWARDS:
        raise InputError(f"unknown reward '{reward}'; expected one of {list(REWARDS)}")
    action = flat_action_index(log.frame, log.config)
    return BanditLog(
        context,
        action,
        _reward(log.frame, log.config, reward),
        propensity,
        log.config.actions.n_actions,
        flat_action_labels(log.config),
        names,
    )


def flat_action_index(frame: pl.DataFrame, config: CampaignConfig) -> np.ndarray:
    """Index of each row's (discount, channel, copy) in the flattened action space.

    The copy index is 0 when there is no contact (copy is ignored then)."""
    actions = config.actions
    _, n_channels, n_copies = actions.shape
    levels = {round(d, 6): i for i, d in enumerate(actions.discounts)}
    index = frame.select(
        pl.col(S.DISCOUNT).round(6).replace_strict(levels, return_dtype=pl.Int64).alias("d"),
        pl.col(S.CHANNEL)
        .replace_strict({c: i for i, c in enumerate(actions.channels)}, return_dtype=pl.Int64)
        .alias("c"),
        pl.when(pl.col(S.CHANNEL) == NO_CONTACT)
        .then(0)
        .otherwise(
            pl.col(S.COPY_ID).replace_strict(
                {k: i for i, k in enumerate(actions.copies)}, default=0, return_dtype=pl.Int64
            )
        )
        .alias("k"),
    )
    d, c, k = (index.get_column(name).to_numpy() for name in ("d", "c", "k"))
    return (d * n_channels + c) * n_copies + k


def _reward(frame: pl.DataFrame, config: CampaignConfig, reward: str) -> np.ndarray:
    if reward != "profit":
        return frame.get_column(reward).cast(pl.Float64).to_numpy()
    costs = config.economics.contact_cost
    profit = pl.col(S.REVENUE) * (config.economics.margin - pl.col(S.DISCOUNT)) - pl.col(
        S.CHANNEL
    ).replace_strict(costs, default=0.0, return_dtype=pl.Float64)
    return frame.select(profit.alias("profit")).get_column("profit").to_numpy()


def _context(frame: pl.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]):
    """Numeric features as they are, categoricals one-hot (levels sorted, so deterministic)."""
    parts = [frame.select(numeric).cast(pl.Float64)] if numeric else []
    for name in categorical:
        levels = sorted(frame.get_column(name).unique().drop_nulls().to_list())
        parts.append(
            frame.select(
                (pl.col(name) == level).cast(pl.Float64).alias(f"{name}={level}") for level in levels
            )
        )
    if not parts:
        return np.zeros((frame.height, 0)), ()
    matrix = pl.concat(parts, how="horizontal")
    return matrix.to_numpy().astype(np.float64), tuple(matrix.columns)
