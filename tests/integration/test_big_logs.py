"""A log longer than world.max_rows: fitted on a customer sample, every row validated and
counted in the support (issue 25, bounded memory), with the one-line error for a bad row in a
bucket the world was not fitted on."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from campaign_sim.data.buckets import Bucket, CustomerBuckets
from campaign_sim.data.log import load_log
from campaign_sim.simulators.fitted.fit import held_out_rows
from campaign_sim.simulators.fitted.world import FittedWorld
from tests.integration.cli_runs import SMALL_WORLD, invoke, train_briefly


def _fit(log, out, *extra):
    config = log.parent / "config.toml"
    return invoke("fit", "--logs", log, "-c", config, "--out", out, *SMALL_WORLD, *extra, "-q")


def test_a_long_log_is_fitted_on_a_sample_and_counted_whole(tmp_path):
    assert (
        invoke("data", "generate", "--out", tmp_path / "data", "-n", "1500", "-t", "4", "-q").exit_code == 0
    )
    log = pl.read_parquet(tmp_path / "data" / "log.parquet")
    result = _fit(tmp_path / "data" / "log.parquet", tmp_path / "run", "--set", "world.max_rows=2000")
    assert result.exit_code == 0, result.output
    world = FittedWorld.load(tmp_path / "run" / "world")
    meta = world.metadata
    assert meta["customer_buckets"] == 3 and meta["rows"] == log.height == 6_000
    assert 1_000 < meta["fitted_rows"] < 3_000  # about a third of the customers
    assert sum(meta["split_rows"].values()) == meta["fitted_rows"]
    assert int(world.support.sum()) == int(world.support_table.decisions.sum()) == log.height
    assert int(world.support_table.purchases.sum()) == int((log.get_column("conversion") > 0).sum())
    assert any("sample of the log's customers" in a for a in meta["assumptions"])
    # out of sample for the copy correction: every customer outside the sample, and its test ones
    held = held_out_rows(world, log)
    assert held.size == log.height - meta["fitted_rows"] + meta["split_rows"]["test"]

    # off-policy estimates on a bucket the world was not fitted on, saying so
    run = tmp_path / "run"
    train_briefly(run, "--no-baselines")
    evaluated = invoke("evaluate", "--policy", run / "agents" / "ppo-seed0", "--json")
    assert evaluated.exit_code == 0, evaluated.output
    result = json.loads((run / "evaluations" / "ope_ppo-seed0.json").read_text())
    assert result["sample"]["buckets"] == 3 and result["sample"]["bucket"] == 2
    held = load_log(
        tmp_path / "data" / "log.parquet",
        world.config,
        bucket=Bucket(CustomerBuckets(3, int(meta["seed"])), 2),
    ).frame.get_column("customer_id")
    assert result["campaigns"] == held.n_unique()
    assert any("sample of the log's customers" in w for w in result["warnings"])
    assert not set(held) & set(world.population.get_column("customer_id"))  # none fitted on

    # a bad value in a customer the world is not fitted on: still found, named by its file row
    sampled = set(FittedWorld.load(tmp_path / "run" / "world").population.get_column("customer_id"))
    outside = int(np.flatnonzero(~log.get_column("customer_id").is_in(list(sampled)).to_numpy())[-1])
    bad = tmp_path / "data" / "bad.parquet"  # beside the config and its copy library
    log.with_columns(
        visit=pl.when(pl.int_range(pl.len()) == outside).then(3).otherwise(pl.col("visit"))
    ).write_parquet(bad)
    refused = _fit(bad, tmp_path / "bad-run", "--set", "world.max_rows=2000")
    assert refused.exit_code == 2
    assert f"row {outside + 1}" in refused.output and "visit" in refused.output
    assert "Traceback" not in refused.output and not (tmp_path / "bad-run").exists()
