"""Generate a campaign log from the synthetic world under a logging policy, with the truth.

The log has the canonical columns plus the shopper features and the dynamic state at decision
time; a separate truth table holds, per row, the true probabilities and expected profit, so
fit quality and off-policy estimates can be checked exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.simulators.state import STATE_COLUMNS
from campaign_sim.simulators.synthetic.logging_policy import business_as_usual
from campaign_sim.simulators.synthetic.population import CHANNELS
from campaign_sim.simulators.synthetic.world import PolicyFn, SyntheticWorld

UNSUBSCRIBED_COLUMNS = tuple(f"unsubscribed_{c}" for c in CHANNELS[1:])
LOG_FILE, TRUTH_FILE, COPIES_FILE, PARAMETERS_FILE = (
    "log.parquet",
    "truth.parquet",
    "copies.parquet",
    "world.json",
)


@dataclass(frozen=True)
class GeneratedLog:
    """A logged history and the per-row truth behind it."""

    log: pl.DataFrame
    truth: pl.DataFrame


def generate_log(
    world: SyntheticWorld, *, customers: int, periods: int, seed: int, policy: PolicyFn | None = None
) -> GeneratedLog:
    """Simulate ``customers`` shoppers for ``periods`` periods under ``policy`` (default BAU)."""
    rng = np.random.default_rng(seed)
    policy = policy or business_as_usual(world)
    pop = world.sample_population(customers, rng)
    state = world.initial_state(pop)
    rows: dict[str, list[np.ndarray]] = {}

    def add(name: str, values: np.ndarray) -> None:
        rows.setdefault(name, []).append(values)

    for period in range(periods):
        probs = policy(pop, state, world.allowed_actions(pop, state))
        flat, propensity = world.sample_actions(probs, rng)
        action = world.unflatten(flat)
        expected = world.expected_reward(pop, state, action)
        outcome, next_state = world.step(pop, state, action, rng)
        add("customer_id", np.arange(customers))
        add("period", np.full(customers, period))
        for name, values in zip(STATE_COLUMNS, state.matrix().T, strict=True):
            add(name, values)
        for j, name in enumerate(UNSUBSCRIBED_COLUMNS, start=1):
            add(name, state.unsubscribed[:, j].astype(np.int8))
        contacted = action[:, 1] > 0
        add("discount", np.where(contacted, np.asarray(world.discounts)[action[:, 0]], 0.0))
        add("channel_index", action[:, 1])
        add("copy_index", np.where(contacted, action[:, 2], -1))
        add("propensity", propensity)
        add("visit", outcome.visit.astype(np.int8))
        add("conversion", outcome.conversion.astype(np.int8))
        add("revenue", outcome.revenue)
        add("unsubscribe", outcome.unsubscribe.astype(np.int8))
        r = outcome.response
        add("p_visit", r.p_visit)
        add("p_conversion", r.p_conversion)
        add("expected_order_value", r.expected_value)
        add("p_unsubscribe", r.p_unsubscribe)
        add("expected_profit", expected)
        state = next_state
    columns = {name: np.concatenate(parts) for name, parts in rows.items()}
    features = {name: np.tile(values, periods) for name, values in pop.columns().items()}
    frame = pl.DataFrame(
        {
            **{k: columns[k] for k in ("customer_id", "period")},
            **features,
            **{k: columns[k] for k in (*STATE_COLUMNS, *UNSUBSCRIBED_COLUMNS)},
        }
    )
    channel = pl.Series(columns["channel_index"]).replace_strict(
        dict(enumerate(world.channels)), return_dtype=pl.String
    )
    copy = pl.Series(columns["copy_index"]).replace_strict(
        dict(enumerate(world.copy_ids)), default=None, return_dtype=pl.String
    )
    frame = frame.with_columns(
        discount=columns["discount"],
        channel=channel,
        copy_id=copy,
        propensity=columns["propensity"],
        visit=columns["visit"],
        conversion=columns["conversion"],
        revenue=columns["revenue"],
        unsubscribe=columns["unsubscribe"],
    )
    truth = pl.DataFrame(
        {
            k: columns[k]
            for k in (
                "customer_id",
                "period",
                "p_visit",
                "p_conversion",
                "expected_order_value",
                "p_unsubscribe",
                "expected_profit",
            )
        }
    )
    return GeneratedLog(frame, truth)


def copy_library(world: SyntheticWorld) -> pl.DataFrame:
    """The world's copies as a copy library (text + embedding)."""
    return pl.DataFrame(
        {
            "copy_id": list(world.copy_ids),
            "channel": ["any"] * len(world.copy_ids),
            "text": list(world.copy_texts),
            "generator": ["builtin"] * len(world.copy_ids),
            "encoder": [world.encoder_name] * len(world.copy_ids),
            "embedding": world.copy_embeddings.astype(np.float32).tolist(),
        }
    )


def write_generated(
    out: str | Path,
    world: SyntheticWorld,
    generated: GeneratedLog,
    *,
    seed: int,
    customers: int,
    periods: int,
) -> dict[str, Path]:
    """Write log, truth, copy library and world parameters under ``out`` (each atomically)."""
    out = Path(out)
    paths = {
        "log": out / LOG_FILE,
        "truth": out / TRUTH_FILE,
        "copies": out / COPIES_FILE,
        "parameters": out / PARAMETERS_FILE,
    }
    for key, frame in (("log", generated.log), ("truth", generated.truth), ("copies", copy_library(world))):
        with atomic_path(paths[key]) as tmp:
            frame.write_parquet(tmp)
    meta = {
        "seed": seed,
        "customers": customers,
        "periods": periods,
        "encoder": world.encoder_name,
        "discounts": list(world.discounts),
        "channels": list(world.channels),
        "copies": list(world.copy_ids),
        "margin": world.margin,
        "contact_cost": list(world.contact_cost),
        "dynamics": world.dynamics.__dict__,
        "truth": json.loads(world.truth.to_json()),
    }
    write_text_atomic(paths["parameters"], json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return paths
