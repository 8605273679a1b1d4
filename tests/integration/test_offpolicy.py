"""`campaign-sim evaluate --policy`: agents evaluated on the logged history.

The replay must rebuild, from each customer's logged actions and outcomes, the very state the
generator logged (exact equality: the small world's dynamics priors equal the synthetic truth's).
The statistical check: the random policy's true campaign value (simulated on 60,000 fresh
shoppers in the true world, its own 95% half-width ~0.01) lies inside the PDIS and SeqDR 95%
intervals from 1,500 logged campaigns of 4 periods, widened by that half-width. Fixed seeds
make it deterministic. (With 1,500 campaigns the intervals are ~5.6 wide around a value of 1.4:
the log says little about a policy this far from business-as-usual, which the gate reports.)
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from campaign_sim.agents.baselines import MyopicPolicy, RandomPolicy
from campaign_sim.agents.evaluate import interval, make_core, run_policy
from campaign_sim.agents.log_replay import LogReplay, logged_panel
from campaign_sim.data.log import load_log
from campaign_sim.envs.worlds import ObservedThrough, settings_from
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.state import STATE_COLUMNS
from campaign_sim.workflows.offpolicy import offpolicy_evaluate
from campaign_sim.workflows.train import true_world_of
from tests.integration.cli_runs import copied_run, invoke

PERIODS = 4


@pytest.fixture(scope="module")
def run(trained_run_template, tmp_path_factory):
    return copied_run(trained_run_template, tmp_path_factory.mktemp("offpolicy"))


@pytest.fixture(scope="module")
def world_and_log(run):
    world = FittedWorld.load(run / "world")
    return world, load_log(world.metadata["source"], world.config)


def test_replay_rebuilds_the_logged_state(world_and_log):
    world, log = world_and_log
    settings = settings_from(world.config, fitted=True)
    replay = LogReplay(logged_panel(log, world, horizon=settings.horizon), world, settings)
    frame = log.frame.sort("customer_id", "period")
    for t, obs, masks in replay.periods():
        logged = frame.filter(pl.col("period") == t)
        rebuilt = replay.state.matrix()
        for j, name in enumerate(STATE_COLUMNS):
            np.testing.assert_allclose(rebuilt[:, j], logged.get_column(name).to_numpy(), atol=1e-9)
        assert np.array_equal(
            replay.state.unsubscribed[:, 1], logged.get_column("unsubscribed_email").to_numpy() > 0
        )
        assert obs.shape[0] == masks.shape[0] == frame.get_column("customer_id").n_unique()
    assert replay.active[:, 0].all()


def test_random_policy_intervals_hold_its_true_value(world_and_log):
    world, log = world_and_log
    shape = (len(world.discounts), len(world.channels), len(world.copy_ids))
    result = offpolicy_evaluate(
        {"random": RandomPolicy(shape)}, log, world, settings_from(world.config, fitted=True), seed=0
    )
    truth_world = ObservedThrough(true_world_of(world), world)
    episodes = run_policy(
        RandomPolicy(shape), make_core(truth_world, 60_000, pessimism=0.0), seed=5, periods=PERIODS
    )
    mean, low, high = interval(episodes.expected_profit)
    slack = (high - low) / 2
    row = result["policies"]["random"]
    for name in ("PDIS", "SeqDR"):
        e = row["estimates"][name]
        assert e["low"] - slack <= mean <= e["high"] + slack, (name, e, mean)
    assert result["periods"] == PERIODS and result["propensities"] == "logged"
    assert row["verdict"]["verdict"] == "NO-GO"  # random loses to business-as-usual


def test_evaluate_policy_cli_writes_json_and_parquet(run):
    result = invoke("evaluate", "--policy", run / "agents" / "ppo-seed0", "-q")
    assert result.exit_code == 0, result.output
    assert (
        "vs business-as-usual by SeqDR" in result.output and "simulated in the fitted world" in result.output
    )
    written = json.loads((run / "evaluations" / "ope_ppo-seed0.json").read_text())
    assert set(written["policies"]["ppo-seed0"]["estimates"]) == {"PDIS", "WPDIS", "SeqDR"}
    frame = pl.read_parquet(run / "evaluations" / "ope_ppo-seed0.parquet")
    assert frame.height == 3 and frame.get_column("verdict").unique().to_list()[0] in ("GO", "NO-GO")


def test_missing_propensities_are_estimated_with_a_warning(run, world_and_log, tmp_path):
    world, _ = world_and_log
    without = tmp_path / "log.parquet"
    pl.read_parquet(world.metadata["source"]).drop("propensity").write_parquet(without)
    result = invoke("evaluate", "--policy", run / "agents" / "ppo-seed0", "--logs", without, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["propensities"] == "estimated" and "not logged" in payload["warnings"][0]
    assert 0 <= payload["propensity_model"]["ece"] < 0.05


@pytest.mark.parametrize(
    "args, expected",
    [
        (("--policy", "{run}/world"), "not a trained agent"),
        (("--policy", "{run}/agents/ppo-seed0", "--benchmark", "obd"), "exactly one of"),
        (("--policy", "{run}/agents/nope"), "no such agent folder"),
    ],
)
def test_bad_policy_arguments_exit_2_with_one_line(run, args, expected):
    result = invoke("evaluate", *[a.format(run=run) for a in args])
    assert result.exit_code == 2 and expected in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_replay_is_deterministic(world_and_log):
    world, log = world_and_log
    shape = (len(world.discounts), len(world.channels), len(world.copy_ids))
    settings = settings_from(world.config, fitted=True)
    first, second = (
        offpolicy_evaluate({"random": RandomPolicy(shape)}, log, world, settings, seed=3) for _ in range(2)
    )
    assert first == second


def test_model_free_policies_skip_sequential_dr_and_gate_on_pdis(world_and_log):
    world, log = world_and_log
    result = offpolicy_evaluate(
        {"myopic": MyopicPolicy(world)},
        log,
        world,
        settings_from(world.config, fitted=True),
        model_free=("myopic",),
    )
    row = result["policies"]["myopic"]
    assert set(row["estimates"]) == {"PDIS", "WPDIS"} and row["verdict"]["estimator"] == "PDIS"
    assert (
        row["difference_vs_logged"]["value"]
        == row["estimates"]["PDIS"]["value"] - result["logged_policy_value"]["value"]
    )
