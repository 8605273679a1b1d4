"""A copy's predicted-lift interval widens with its distance from the logged copies (issue 24,
part 2); its coverage on unseen copies is measured in benchmarks/bench_llm.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from campaign_sim.data.copies import load_copy_embeddings
from campaign_sim.data.text import HashingEncoder
from campaign_sim.simulators.fitted.copy_uncertainty import copy_lift_interval, logged_lift_offset
from campaign_sim.simulators.fitted.fit import held_out_rows
from campaign_sim.simulators.fitted.world import FittedWorld
from tests.integration.cli_runs import invoke


@pytest.fixture(scope="module")
def world(fitted_run_template, tmp_path_factory) -> tuple[FittedWorld, np.ndarray, pl.DataFrame]:
    """The world, its logged copies' embeddings, and a history it was not fitted on (the same
    campaign generated again with another seed: every customer is out of sample)."""
    root = tmp_path_factory.mktemp("copies")
    run = fitted_run_template  # read only
    world = FittedWorld.load(run / "world")
    library = load_copy_embeddings(run.parent / "data" / "copies.parquet", encoder=HashingEncoder())
    again = ("data", "generate", "--out", root / "again", "-n", "1500", "-t", "4", "--seed", "1", "-q")
    assert invoke(*again).exit_code == 0
    history = pl.read_parquet(root / "again" / "log.parquet")
    return world, np.stack([library[c] for c in world.config.actions.copies]), history


def test_the_correction_reads_only_customers_that_did_not_fit_the_world(world, tmp_path_factory):
    fitted, _, other = world
    own = pl.read_parquet(Path(fitted.metadata["source"]))
    held = held_out_rows(fitted, own)
    assert held.size == fitted.metadata["split_rows"]["test"]  # the fit's test customers, whole
    customers = own.get_column("customer_id")
    assert customers.gather(held).n_unique() == round(0.15 * customers.n_unique())
    assert held_out_rows(fitted, other).size == other.height  # another log: nobody fitted it


def test_logged_copies_keep_the_members_spread_and_far_copies_widen(world):
    fitted, logged, _ = world
    offer = {"discount": 0.0, "channel": "email", "shoppers": fitted.population}
    at_logged = copy_lift_interval(fitted, logged, **offer)
    assert np.allclose(at_logged.distance, 0.0, atol=1e-6)
    assert np.allclose(at_logged.high - at_logged.low, 2 * 1.959964 * at_logged.members_sd, rtol=1e-4)
    # copies ever farther from the logged ones along one direction: the added width grows with it
    direction = logged[0] - logged.mean(axis=0)
    farther = np.stack([logged[0] + t * direction for t in (0.5, 2.0, 8.0)])
    away = copy_lift_interval(fitted, farther, **offer)
    assert np.all(np.diff(away.distance) > 0)
    extra = ((away.high - away.low) / (2 * 1.959964)) ** 2 - away.members_sd**2
    assert np.all(np.diff(extra) > 0) and extra[0] > 0


def test_the_history_shifts_the_offer_by_its_weighted_residuals(world):
    """Revenue raised by c on every logged e-mail row without discount raises the profit
    correction by exactly c x margin (weighted means of residuals shift with a constant); a
    history without enough no-contact rows gives no correction ("not estimable")."""
    fitted, logged, history = world
    offer = {"discount": 0.0, "channel": "email", "shoppers": fitted.population}
    base = logged_lift_offset(fitted, history, 0.0, "email", "profit")
    assert base is not None and base.offer_rows >= 30 and base.control_rows >= 30 and base.se > 0
    sent = (pl.col("channel") == "email") & (pl.col("discount") == 0.0)
    raised = history.with_columns(pl.when(sent).then(pl.col("revenue") + 2.0).otherwise(pl.col("revenue")))
    moved = logged_lift_offset(fitted, raised, 0.0, "email", "profit")
    assert moved.shift == pytest.approx(base.shift + 2.0 * fitted.margin, rel=1e-6)
    corrected = copy_lift_interval(fitted, logged, key="profit", history=raised, **offer)
    plain = copy_lift_interval(fitted, logged, key="profit", **offer)
    assert np.allclose(corrected.mean - plain.mean, moved.shift)
    assert np.all(corrected.high - corrected.low > plain.high - plain.low)
    no_control = history.filter(pl.col("channel") != "none")
    assert logged_lift_offset(fitted, no_control, 0.0, "email", "visit") is None
