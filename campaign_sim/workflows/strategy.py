"""The strategy page's data: what the recommended policy and the baseline do, by customer
profile (the run's `segment` profiles, a synthetic world's segments, or all customers) and by
period, replayed on the same simulated customers."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from campaign_sim.agents.evaluate import make_core, run_policy
from campaign_sim.agents.sb3_agents import ALGORITHMS, SB3Policy, load_model
from campaign_sim.core.errors import InputError
from campaign_sim.core.jsonio import read_json
from campaign_sim.core.runs import RunDir
from campaign_sim.data import schema as S
from campaign_sim.envs.worlds import ObservedThrough, resolve_world
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.synthetic.population import SEGMENTS
from campaign_sim.workflows.evaluation import Evaluation
from campaign_sim.workflows.train import baselines, true_world_of

STRATEGY_SHOPPERS = 4_000


def rebuild_policy(run: RunDir, name: str, where, config, fitted: FittedWorld | None):
    """A policy of ``run`` by its evaluated name (an agent, or a baseline rebuilt in ``where``)."""
    if name in ALGORITHMS:
        directory = run.agents / f"{name}-seed0"
        directory = directory if directory.exists() else next(run.agents.glob(f"{name}-seed*"))
        shape = (len(where.discounts), len(where.channels), len(where.copy_ids))
        return SB3Policy(load_model(name, directory / "model.zip"), name=name, shape=shape)
    found = baselines(where, config, fitted).get(name)
    if not found:
        raise InputError(f"{run.root}: cannot rebuild policy {name!r} for the strategy pages")
    return found[0]


def strategy_mix(
    run: RunDir, evaluation: Evaluation, recommended: str, reference: str, world, *, seed: int
) -> dict[str, Any]:
    """Replay both policies on the same shoppers; record actions by profile and spend by period."""
    config = run.load_config()
    truth = true_world_of(world) if world is not None else None
    if world is None:  # trained in the built-in synthetic world, as `train` resolves it
        where = resolve_world(None, seed=evaluation.world_seed)[0]
    else:
        where = ObservedThrough(truth, world) if truth is not None else world
    core = make_core(where, STRATEGY_SHOPPERS, world_seed=seed, pessimism=0.0)
    labels, label_of = action_labels(where.discounts, where.channels, where.copy_ids)
    segment, names = _profiles_of(run, core, world)
    out: dict[str, Any] = {"contact_rate": {}, "cumulative_spend": {}}
    for name in (recommended, reference):
        policy = rebuild_policy(run, name, where, config, world)
        counts: dict[str, np.ndarray] = {}
        contacted, spend = [], []

        def record(period, flat, active, info, counts=counts, contacted=contacted, spend=spend):
            label = np.where(info["contacted"] & active, label_of[flat], 0)
            groups = segment[core.shopper] if segment is not None else np.zeros(core.n, dtype=np.int64)
            for g in np.unique(groups):
                key = names[int(g)] if segment is not None else "all customers"
                counts.setdefault(key, np.zeros(len(labels)))
                counts[key] += np.bincount(label[(groups == g) & active], minlength=len(labels))
            contacted.append(float((info["contacted"] & active).sum() / core.n))
            spend.append(
                float(np.where(active, info["discount_cost"] + info["contact_cost"], 0).sum() / core.n)
            )

        run_policy(policy, core, seed=seed + 20_000, on_step=record)
        out["contact_rate"][name] = contacted
        out["cumulative_spend"][name] = np.cumsum(spend).tolist()
        if name == recommended:
            keys = sorted(counts)
            shares = np.array([counts[k] / max(counts[k].sum(), 1) for k in keys])
            used = np.flatnonzero(shares.max(axis=0) >= 0.001)
            out["mix"] = {
                "rows": keys,
                "columns": [labels[j] for j in used],
                "axis": " | ".join(
                    ["channel"]
                    + ["discount"] * (len(where.discounts) > 1)
                    + ["copy"] * (len(where.copy_ids) > 1)
                ),
                "shares": np.round(shares[:, used], 4).tolist(),
            }
    return out


def _profiles_of(run: RunDir, core, world: FittedWorld | None) -> tuple[np.ndarray | None, list[str]]:
    """Each pool seat's profile index and the profile names: the run's `segment` profiles when
    present, else a synthetic world's own segments, else none (one row, all customers)."""
    path = run.profiles / "profiles.parquet"
    rows = core.pool.data.get("population_row")
    if path.exists() and rows is not None and world is not None and world.population is not None:
        described = read_json(run.profiles / "profiles.json").get("profiles", [])
        keys = [p["key"] for p in described]
        table = pl.read_parquet(path).with_columns(pl.col("customer_id").cast(pl.String))
        ids = world.population.get_column(S.CUSTOMER_ID).cast(pl.String)
        profile = pl.DataFrame({"customer_id": ids}).join(table, on="customer_id", how="left")
        index = profile.get_column("profile").replace_strict(keys, range(len(keys)), default=-1).to_numpy()
        if (index >= 0).mean() >= 0.5:  # the profiles describe this world's customers
            names = [p["name"] for p in described] + ["not profiled"]
            return np.where(index < 0, len(keys), index)[rows], names
    return core.pool.data.get("segment"), list(SEGMENTS)  # a synthetic world labels its segments


def action_labels(
    discounts: tuple[float, ...], channels: tuple[str, ...], copies: tuple[str, ...]
) -> tuple[list[str], np.ndarray]:
    """Column names for the decisions a campaign varies (channel, and discount and copy where
    it has more than one) and each flat action's column; column 0 is "no contact"."""
    labels, label_of = ["no contact"], []
    for d in discounts:
        for c in channels:
            for k in copies:
                parts = [c] + [f"{d:.0%}"] * (len(discounts) > 1) + [k] * (len(copies) > 1)
                name = " | ".join(parts) if c != channels[0] else "no contact"
                if name not in labels:
                    labels.append(name)
                label_of.append(labels.index(name))
    return labels, np.array(label_of)
