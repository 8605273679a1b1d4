"""The report's recommendation and launch verdict (workflows.report), on hand-made evaluations."""

from __future__ import annotations

import pytest

from campaign_sim.core.errors import InputError
from campaign_sim.workflows.evaluation import Evaluation, EvaluationTable, Interval, PolicyResult
from campaign_sim.workflows.report import _recommend, _verdict


def row(mean, diff=None):
    expected = Interval(mean, mean - 0.1, mean + 0.1)
    return PolicyResult({"expected_profit": expected}, None if diff is None else Interval(*diff))


def table(reference, **policies):
    return EvaluationTable(reference, policies)


def evaluated(**tables):
    return Evaluation("synthetic", 0, False, 1_000, 1, 1_000, tables)


def test_recommendation_skips_oracles_random_and_the_baseline():
    policies = {
        "oracle-myopic": row(9.0),
        "random": row(8.0),
        "business-as-usual": row(7.0),
        "rule:email": row(6.5),
        "ppo": row(5.0),
        "linucb": row(4.0),
    }
    assert _recommend(policies, "rule:email") == "ppo"
    with pytest.raises(InputError):
        _recommend({"oracle-myopic": row(1.0), "business-as-usual": row(0.5)}, "business-as-usual")


def test_go_needs_the_lower_bound_above_zero_in_every_world():
    fitted = table("rule:email", ppo=row(5.0, (1.0, 0.5, 1.5)))
    true_good = table("business-as-usual", ppo=row(5.0, (0.2, 0.05, 0.35)))
    true_bad = table("business-as-usual", ppo=row(5.0, (0.2, -0.05, 0.45)))
    assert _verdict(evaluated(world=fitted, true_world=true_good), "ppo", None)["verdict"] == "GO"
    no_go = _verdict(evaluated(world=fitted, true_world=true_bad), "ppo", None)
    assert no_go["verdict"] == "NO-GO" and any("not above zero" in r for r in no_go["reasons"])
    missing = table("business-as-usual", ppo=row(5.0))
    assert _verdict(evaluated(world=missing), "ppo", None)["verdict"] == "NO-GO"  # nothing compared
    # a difference of rounding noise is not a gain
    tie = table("rule:email", ppo=row(5.0, (1e-12, 1e-13, 2e-12)))
    assert _verdict(evaluated(world=tie), "ppo", None)["verdict"] == "NO-GO"


def gate(verdict, low):
    difference = {"value": low + 0.1, "low": low, "high": low + 0.2, "method": "normal"}
    reasons = [] if verdict == "GO" else ["effective sample size 30 is below 1,000"]
    return {
        "policies": {
            "ppo": {
                "verdict": {
                    "verdict": verdict,
                    "estimator": "SeqDR",
                    "difference": difference,
                    "reasons": reasons,
                }
            }
        }
    }


def test_the_off_policy_gate_can_veto_a_simulated_go():
    evaluation = evaluated(world=table("rule:email", ppo=row(5.0, (1.0, 0.5, 1.5))))
    assert _verdict(evaluation, "ppo", gate("GO", 0.05))["verdict"] == "GO"
    vetoed = _verdict(evaluation, "ppo", gate("NO-GO", -0.05))
    assert vetoed["verdict"] == "NO-GO" and any("effective sample size" in r for r in vetoed["reasons"])
    assert "launch gate" in vetoed["basis"]


@pytest.mark.slow
def test_a_run_trained_in_the_synthetic_world_gets_a_report(tmp_path):
    """Issue 27: `report` exited 1 on any run trained in the built-in world (no fitted world)."""
    from campaign_sim.workflows.report import run_report
    from campaign_sim.workflows.train import TrainRequest, run_train

    request = TrainRequest(
        world="synthetic",
        out=tmp_path / "run",
        algos=("ppo",),
        timesteps=1_000,
        seeds=1,
        n_envs=64,
        eval_shoppers=200,
    )
    run_train(request)
    paths = run_report(tmp_path / "run", seed=0)
    assert paths["pdf"].stat().st_size > 0 and paths["summary"].exists()
