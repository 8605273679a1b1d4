"""Fit a ``FittedWorld`` from a validated campaign log."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl
import torch

from campaign_sim.core.config import CampaignConfig, WorldConfig
from campaign_sim.core.errors import InputError
from campaign_sim.data import schema as S
from campaign_sim.data.buckets import CustomerBuckets, log_digest
from campaign_sim.data.log import CampaignLog
from campaign_sim.simulators.fitted.behaviour import fit_behaviour, logged_allowed
from campaign_sim.simulators.fitted.encoding import Encoding, fit_encoding, training_actions
from campaign_sim.simulators.fitted.network import (
    ResponseNet,
    Targets,
    export_numpy,
    stratified_prior,
    train_member,
)
from campaign_sim.simulators.fitted.support import fit_support
from campaign_sim.simulators.fitted.world import FittedWorld


@dataclass(frozen=True)
class FitSplit:
    """Row indices of the customer-level split."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class FitResult:
    """The fitted world, the model inputs of every row, and how rows were split."""

    world: FittedWorld
    inputs: np.ndarray
    actions: np.ndarray
    split: FitSplit
    seconds: float


@dataclass(frozen=True)
class MemberData:
    """What every ensemble member trains on (shipped once to wherever members train)."""

    inputs: np.ndarray
    targets: Targets
    valid: np.ndarray
    config: WorldConfig
    prior_rows: slice | None


@dataclass(frozen=True)
class MemberJob:
    """One member: its training rows, seed and action prior. Everything a member draws comes
    from ``seed`` (never from where it runs), so a member trained elsewhere is the same member."""

    member: int
    train: np.ndarray
    seed: int
    prior_offsets: np.ndarray | None


@dataclass(frozen=True)
class BehaviourJob:
    """The logging policy's model (``fit_behaviour``): it needs none of the members, so it can
    train beside them; seeded from ``seed`` alone, like a member."""

    inputs: np.ndarray  # shopper and dynamic-state columns of every row
    actions: np.ndarray
    allowed: np.ndarray  # (rows, n_actions) what the logging policy could choose
    train: np.ndarray
    valid: np.ndarray
    seed: int
    propensity: np.ndarray | None

    def run(self) -> dict[str, np.ndarray]:
        torch.set_num_threads(1)
        return fit_behaviour(**vars(self))  # the fields are its arguments, by name


TrainedMember = tuple[ResponseNet, list[float]]
# Trains the members and the behaviour model somewhere (e.g. as Ray tasks, workflows/ray_runner.py)
MemberRunner = Callable[
    [MemberData, list[MemberJob], BehaviourJob], tuple[list[TrainedMember], dict[str, np.ndarray]]
]


def train_one_member(data: MemberData, job: MemberJob, on_epoch: Callable[[int, float], None] | None = None):
    """``train_member`` for one job (one torch thread, as every fit uses)."""
    torch.set_num_threads(1)
    return train_member(
        data.inputs,
        data.targets,
        train=job.train,
        valid=data.valid,
        config=data.config,
        seed=job.seed,
        prior_rows=data.prior_rows,
        prior_offsets=job.prior_offsets,
        on_epoch=on_epoch,
    )


def split_by_customer(log: CampaignLog, *, valid_share: float, test_share: float, seed: int) -> FitSplit:
    """Customers (not rows) go to train / valid / test, so no shopper leaks across splits."""
    return split_customer_ids(
        log.frame.get_column(S.CUSTOMER_ID), valid_share=valid_share, test_share=test_share, seed=seed
    )


def split_customer_ids(customers: pl.Series, *, valid_share: float, test_share: float, seed: int) -> FitSplit:
    """``split_by_customer`` of rows whose customer ids are ``customers`` (``held_out_rows``
    redoes a fit's split with it)."""
    codes = customers.rank("dense").cast(pl.Int64).to_numpy() - 1
    n = int(codes.max()) + 1
    order = np.random.default_rng(seed).permutation(n)
    bucket = np.empty(n, dtype=np.int8)
    n_test, n_valid = int(round(test_share * n)), max(1, int(round(valid_share * n)))
    bucket[order[:n_test]] = 2
    bucket[order[n_test : n_test + n_valid]] = 1
    bucket[order[n_test + n_valid :]] = 0
    rows = bucket[codes]
    return FitSplit(*(np.flatnonzero(rows == b) for b in (0, 1, 2)))


def targets_of(log: CampaignLog) -> Targets:
    frame = log.frame
    revenue = frame.get_column(S.REVENUE).to_numpy()
    conversion = frame.get_column(S.CONVERSION).to_numpy().astype(np.float32)
    has_value = (conversion > 0) & (revenue > 0)
    unsub = (
        frame.get_column(S.UNSUBSCRIBE).to_numpy().astype(np.float32)
        if S.UNSUBSCRIBE in frame.columns
        else None
    )
    return Targets(
        visit=frame.get_column(S.VISIT).to_numpy().astype(np.float32),
        conversion=conversion,
        log_value=np.where(has_value, np.log(np.where(has_value, revenue, 1.0)), 0.0).astype(np.float32),
        has_value=has_value.astype(np.float32),
        contacted=(frame.get_column(S.CHANNEL) != "none").to_numpy().astype(np.float32),
        unsubscribe=unsub,
    )


def check_identifiable(log: CampaignLog, actions: np.ndarray) -> list[str]:
    """Raise when nothing can be learned about actions; return warnings for what cannot."""
    distinct = np.unique(actions)
    if distinct.shape[0] < 2:
        raise InputError(
            f"{log.source}: only one action is logged ({log.config.actions.n_actions} configured); "
            "treatment effects are unidentifiable; expected at least two arms"
        )
    notes = []
    if S.UNSUBSCRIBE not in log.frame.columns:
        notes.append(
            f"no unsubscribe outcome in the log: unsubscribes use the prior rate "
            f"{log.config.world.unsubscribe_rate} per contact (world.unsubscribe_rate)"
        )
    if int(log.frame.get_column(S.CONVERSION).sum()) < 20:
        notes.append("fewer than 20 conversions: conversion and order-value heads are weakly identified")
    return notes


def fit_world(
    log: CampaignLog,
    *,
    copy_embeddings: dict[str, np.ndarray] | None = None,
    seed: int = 0,
    on_progress: Callable[[int, int, float], None] | None = None,
    encoding: Encoding | None = None,
    bootstrap_customers: bool = False,
    member_runner: MemberRunner | None = None,
) -> FitResult:
    """Fit the ensemble on ``log``; ``on_progress(member, epoch, valid_loss)`` reports training.

    ``encoding`` reuses another world's inputs (so policies of that world read this one's
    shoppers the same way); ``bootstrap_customers`` trains each member on a resample of the
    training customers with replacement, so the members' spread is the model's sampling error
    (what the safe-improvement intervals need). ``member_runner`` trains the members elsewhere
    (e.g. as Ray tasks); without it they train here, one after the other."""
    start = time.perf_counter()
    torch.set_num_threads(1)
    config = log.config
    if log.kind != "campaign":
        raise InputError(f"{log.source}: a world is fitted from a campaign log, not a {log.kind} log")
    actions = training_actions(log)
    notes = check_identifiable(log, actions)
    config, horizon_note = _horizon_of(log)
    notes += horizon_note
    for note in notes:
        warnings.warn(note, stacklevel=2)
    if encoding is None:
        encoding = fit_encoding(log, copy_embeddings=copy_embeddings, copy_dims=config.world.copy_dims)
    shopper, state = encoding.shopper_matrix(log.frame), encoding.state_matrix(log.frame)
    inputs = encoding.inputs(shopper, state, actions)
    targets = targets_of(log)
    split = split_by_customer(
        log, valid_share=config.world.validation_share, test_share=config.world.test_share, seed=seed
    )
    rows = encoding.action_one_hot_rows
    priors = stratified_prior(rows.stop - rows.start, config.world.ensemble, seed=seed) if rows else None
    jobs = [
        MemberJob(
            member,
            _customer_resample(log, split.train, seed=seed * 1000 + member)
            if bootstrap_customers
            else split.train,
            seed * 1000 + member,
            priors[member] if priors is not None else None,
        )
        for member in range(config.world.ensemble)
    ]
    data = MemberData(inputs, targets, split.valid, config.world, rows)
    behaviour_job = BehaviourJob(
        np.concatenate([shopper, state], axis=1),
        actions,
        logged_allowed(log.frame, config, actions),
        split.train,
        split.valid,
        seed,
        log.frame.get_column(S.PROPENSITY).to_numpy() if log.has_propensity else None,
    )
    if member_runner is None:
        trained = [
            train_one_member(
                data, job, on_progress and (lambda e, loss, m=job.member: on_progress(m, e, loss))
            )
            for job in jobs
        ]
        behaviour = behaviour_job.run()
    else:
        trained, behaviour = member_runner(data, jobs, behaviour_job)
    models, histories = [m for m, _ in trained], [h for _, h in trained]
    support = np.bincount(actions, minlength=config.actions.n_actions)
    support_table = fit_support(
        encoding=encoding,
        shopper=shopper,
        state_columns={c: log.frame.get_column(c).cast(pl.Float64).to_numpy() for c in encoding.state},
        actions=actions,
        purchases=targets.conversion,
        n_actions=config.actions.n_actions,
        seed=seed,
    )
    population = shopper_population(log, actions, seed=seed)
    dynamic = [c for c in encoding.state if c]
    assumptions = notes + _dynamics_assumptions(log, dynamic)
    metadata = {
        # resolved: a report read from another directory must find the same log
        "source": str(Path(log.source).resolve()) if Path(log.source).is_file() else log.source,
        "rows": log.frame.height,
        "log_digest": str(log_digest(log.frame)),  # which log: held_out_rows knows it again
        "seed": seed,
        "split_rows": {"train": len(split.train), "valid": len(split.valid), "test": len(split.test)},
        "validation_history": histories,
        "assumptions": assumptions,
        "features": list(log.features),
        "categorical": list(log.categorical),
        "population": population.description,
    }
    world = FittedWorld(
        config,
        encoding,
        export_numpy(models),
        support,
        targets.unsubscribe is not None,
        metadata,
        population=population.frame,
        support_table=support_table,
        behaviour=behaviour,
    )
    return FitResult(world, inputs, actions, split, time.perf_counter() - start)


def with_more_support(world: FittedWorld, log: CampaignLog) -> FittedWorld:
    """``world`` with the rows of ``log`` (more of the history it was fitted from, e.g. another
    bucket of its customers) counted into its support and support table."""
    actions = training_actions(log)
    support = world.support + np.bincount(actions, minlength=world.support.shape[0])
    table, encoding = world.support_table, world.encoding
    if table is not None:
        state = {c: log.frame.get_column(c).cast(pl.Float64).to_numpy() for c in encoding.state}
        purchases = log.frame.get_column(S.CONVERSION).to_numpy()
        table = table.counted(encoding, encoding.shopper_matrix(log.frame), state, (actions, purchases))
    return replace(world, support=support, support_table=table)


def held_out_rows(world: FittedWorld, history: pl.DataFrame) -> np.ndarray:
    """Rows of ``history`` whose customers trained none of ``world``'s members and chose none of
    its epochs. When ``history`` is the log the world was fitted from (the same rows, by
    ``log_digest``): the fit's test customers (validation ones when test_share is 0) and, after a
    bucketed fit, every customer outside its sample. Any other log: all rows."""
    meta, shares = world.metadata, world.config.world
    if meta.get("log_digest") != str(log_digest(history)):  # another log (or an older world)
        return np.arange(history.height)
    sampled = np.ones(history.height, dtype=bool)
    if meta.get("customer_buckets"):
        keep = CustomerBuckets(int(meta["customer_buckets"]), int(meta["seed"])).keep(0)
        sampled = history.select(keep).to_series().to_numpy()
    rows = np.flatnonzero(sampled)
    split = split_customer_ids(
        history.get_column(S.CUSTOMER_ID).gather(rows),
        valid_share=shares.validation_share,
        test_share=shares.test_share,
        seed=int(meta["seed"]),
    )
    held = split.test if split.test.size else split.valid
    recorded = meta.get("split_rows", {}).get("test" if split.test.size else "valid")
    if recorded != held.size:  # not the split the fit made: this is another log
        return np.arange(history.height)
    return np.sort(np.concatenate([np.flatnonzero(~sampled), rows[held]]))


MAX_POPULATION = 100_000


def _customer_resample(log: CampaignLog, rows: np.ndarray, *, seed: int) -> np.ndarray:
    """Rows of ``rows``' customers drawn with replacement (all of a drawn customer's rows, once
    per draw): the bootstrap unit is the customer, whose periods are not independent."""
    codes = log.frame.get_column(S.CUSTOMER_ID).rank("dense").cast(pl.Int64).to_numpy()[rows]
    customers, inverse = np.unique(codes, return_inverse=True)
    draws = np.bincount(
        np.random.default_rng([seed, 0xB007]).integers(0, customers.size, customers.size),
        minlength=customers.size,
    )
    return np.repeat(rows, draws[inverse])


@dataclass(frozen=True)
class Population:
    """The customers a fitted world draws episodes from, and how they were chosen."""

    frame: pl.DataFrame
    description: str


def shopper_population(
    log: CampaignLog, actions: np.ndarray, *, seed: int, limit: int = MAX_POPULATION
) -> Population:
    """Each customer's features at their first logged period. Above ``limit`` customers, a random
    sample with the run's seed (not the file's first rows, which may differ from the rest):
    stratified by logged arm for a single-period log (an RCT keeps its arm shares), else uniform."""
    frame = log.frame.with_columns(pl.Series("_action", actions), pl.int_range(pl.len()).alias("_row"))
    first = frame.sort(S.CUSTOMER_ID, S.PERIOD).unique(S.CUSTOMER_ID, keep="first", maintain_order=True)
    total = first.height
    if total <= limit:
        chosen, how = first, f"all {total:,} customers of the log"
    else:
        rng = np.random.default_rng([seed, 0x9097])
        single_period = log.frame.get_column(S.PERIOD).n_unique() == 1
        if single_period:
            keep = _stratified(first.get_column("_action").to_numpy(), limit, rng)
            how = f"{limit:,} of {total:,} customers, sampled at random by logged arm (seed {seed})"
        else:
            keep = np.sort(rng.choice(total, size=limit, replace=False))
            how = f"{limit:,} of {total:,} customers, sampled at random (seed {seed})"
        chosen = first[keep]
    return Population(chosen.sort("_row").select(S.CUSTOMER_ID, *log.features), how)


def _stratified(arms: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices: ``size`` rows split across arms in proportion to their counts (largest
    remainders), drawn without replacement within each arm."""
    values, counts = np.unique(arms, return_counts=True)
    quota = counts * size / counts.sum()
    take = np.floor(quota).astype(np.int64)
    take[np.argsort(take - quota)[: size - take.sum()]] += 1
    picks = [
        rng.choice(np.flatnonzero(arms == v), size=k, replace=False)
        for v, k in zip(values, take, strict=True)
    ]
    return np.sort(np.concatenate(picks))


def _horizon_of(log: CampaignLog) -> tuple[CampaignConfig, list[str]]:
    """The config the world simulates: one period when the log has one decision per customer
    (a longer campaign would rest on the dynamics priors alone)."""
    config = log.config
    if config.constraints.horizon == 1 or log.frame.get_column(S.PERIOD).n_unique() > 1:
        return config, []
    note = (
        f"one decision per customer in the log: the simulated campaign is one period "
        f"(constraints.horizon {config.constraints.horizon} -> 1)"
    )
    return replace(config, constraints=replace(config.constraints, horizon=1)), [note]


def _dynamics_assumptions(log: CampaignLog, dynamic: list[str]) -> list[str]:
    world = log.config.world
    missing = [c for c in ("fatigue", "discount_exposure") if c not in dynamic]
    notes = [
        f"state transitions use the priors fatigue_decay={world.fatigue_decay}, "
        f"exposure_decay={world.exposure_decay} (world section of the config)"
    ]
    if missing:
        periods = log.frame.get_column(S.PERIOD).n_unique()
        notes.append(
            f"the log has no {', '.join(missing)} column ({periods} period(s)): the response does not "
            "depend on them; fatigue and habituation effects are not identified"
        )
    return notes
