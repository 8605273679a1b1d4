"""Summaries of a validated log: sizes, action counts, outcome means by arm."""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from campaign_sim.core.stats import Z95
from campaign_sim.data import schema as S
from campaign_sim.data.log import CampaignLog


def describe_log(log: CampaignLog) -> dict[str, Any]:
    """Everything ``campaign-sim data describe`` shows, as plain JSON-ready values."""
    frame = log.frame
    summary: dict[str, Any] = {
        "file": log.source,
        "kind": log.kind,
        "rows": frame.height,
        "customers": frame.get_column(S.CUSTOMER_ID).n_unique(),
        "periods": {
            "count": frame.get_column(S.PERIOD).n_unique(),
            "min": int(frame.get_column(S.PERIOD).min()),
            "max": int(frame.get_column(S.PERIOD).max()),
        },
        "features": list(log.features),
        "categorical": list(log.categorical),
        "propensity": _range(frame, S.PROPENSITY),
    }
    if log.kind == "recommendation":
        summary["items"] = frame.get_column(S.ITEM).n_unique()
        summary["positions"] = sorted(frame.get_column(S.POSITION).unique().to_list())
        summary["arms"] = _by_arm(frame, [S.POSITION], [S.CLICK])
    else:
        outcomes = [c for c in S.OUTCOMES if c in frame.columns]
        summary["arms"] = _by_arm(frame, [S.DISCOUNT, S.CHANNEL, S.COPY_ID], outcomes)
    return summary


def _range(frame: pl.DataFrame, column: str) -> dict[str, float] | None:
    if column not in frame.columns:
        return None
    values = frame.get_column(column)
    return {"min": float(values.min()), "max": float(values.max())}


def _by_arm(frame: pl.DataFrame, keys: list[str], outcomes: list[str]) -> list[dict[str, Any]]:
    """Rows and outcome means (with a normal 95% interval) per distinct logged action."""
    aggregations = [pl.len().alias("rows")]
    for outcome in outcomes:
        col = pl.col(outcome).cast(pl.Float64)
        aggregations += [col.mean().alias(f"{outcome}_mean"), col.std().alias(f"{outcome}_std")]
    grouped = frame.group_by(keys).agg(aggregations).sort(keys, nulls_last=False)
    arms = []
    for row in grouped.iter_rows(named=True):
        arm: dict[str, Any] = {key: row[key] for key in keys}
        arm["rows"] = row["rows"]
        arm["share"] = row["rows"] / frame.height
        for outcome in outcomes:
            mean, std = row[f"{outcome}_mean"], row[f"{outcome}_std"] or 0.0
            half = Z95 * std / math.sqrt(row["rows"])
            arm[outcome] = {"mean": mean, "ci95": [mean - half, mean + half]}
        arms.append(arm)
    return arms
