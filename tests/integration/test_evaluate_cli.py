"""`campaign-sim evaluate --benchmark`: the real-data checks of the estimators, as a user runs them."""

from __future__ import annotations

import json

import numpy as np

from campaign_sim.workflows.ope_benchmarks import bts_slot_probabilities
from tests.integration.cli_runs import invoke


def test_obd_snips_holds_the_other_logs_click_rate_in_every_cell(obd_dir, tmp_path):
    result = invoke(
        "evaluate", "--benchmark", "obd", "--path", obd_dir, "--json", "--out", tmp_path / "obd.json"
    )
    assert result.exit_code == 0, result.output
    cells = json.loads(result.output)["cells"]
    assert {(c["campaign"], c["target"]) for c in cells} == {
        ("all", "bts"),
        ("all", "random"),
        ("men", "bts"),
        ("men", "random"),
    }
    for cell in cells:
        snips = cell["estimates"]["SNIPS"]
        assert snips["low"] <= cell["truth"] <= snips["high"], cell
    assert json.loads((tmp_path / "obd.json").read_text())["cells"] == cells


def test_hillstrom_arms_match_and_womens_is_no_go(hillstrom_path):
    result = invoke("evaluate", "--benchmark", "hillstrom", "--path", hillstrom_path, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert all(arm["IPS_matches"] and arm["SNIPS_matches"] for arm in out["arms"].values())
    assert out["gate_womens_vs_mens"]["verdict"] == "NO-GO"


def test_bts_slot_probabilities_are_distributions_led_by_the_strongest_prior():
    prior = {"alpha": [50.0, 5.0, 5.0, 1.0], "beta": [50.0, 95.0, 95.0, 99.0]}
    probs = bts_slot_probabilities(prior, draws=40_000, seed=1)
    assert np.allclose(probs.sum(axis=0), 1.0)
    assert probs[0, 0] > 0.99  # mean 0.5 against means <= 0.05: always first
    assert probs[3, 0] < 0.01


def test_unknown_benchmark_exits_2():
    result = invoke("evaluate", "--benchmark", "kaggle")
    assert result.exit_code == 2 and "expected one of obd, hillstrom, synthetic" in result.output


def test_obd_takes_any_campaign_present_and_flags_a_tiny_ess(obd_dir, tmp_path):
    # a "women" campaign: the men logs, where the BTS log says 5 logged items had probability 1e-5
    import polars as pl
    import yaml

    root = tmp_path / "obd"
    root.mkdir()
    prior = yaml.safe_load((obd_dir / "prior_bts.yaml").read_text())
    (root / "prior_bts.yaml").write_text(yaml.safe_dump({"women": prior["men"]}), encoding="utf-8")
    for policy in ("random", "bts"):
        frame = pl.read_csv(obd_dir / policy / "men" / "men.csv")
        if policy == "bts":
            rare = pl.int_range(pl.len()) < 5
            frame = frame.with_columns(
                pl.when(rare).then(1e-5).otherwise(pl.col("propensity_score")).alias("propensity_score")
            )
        (root / policy / "women").mkdir(parents=True)
        frame.write_csv(root / policy / "women" / "women.csv")
        item_context = (obd_dir / policy / "men" / "item_context.csv").read_text()
        (root / policy / "women" / "item_context.csv").write_text(item_context, encoding="utf-8")
    result = invoke("evaluate", "--benchmark", "obd", "--path", root, "--campaign", "women", "--json")
    assert result.exit_code == 0, result.output
    cells = {c["target"]: c for c in json.loads(result.output)["cells"]}
    # weights 1/80 / 1e-5 = 1,250 on 5 rows of 10,000: the random policy's ESS collapses to ~12
    assert cells["random"]["max_weight"] > 1_000 and not cells["random"]["estimable"]
    assert cells["bts"]["estimable"] and cells["bts"]["ess"] > 1_000
    text = invoke("evaluate", "--benchmark", "obd", "--path", root, "--campaign", "women").output
    assert "not estimable from this log" in text and "max weight" in text
    missing = invoke("evaluate", "--benchmark", "obd", "--path", root, "--campaign", "men")
    assert missing.exit_code == 2 and "no such campaign (--campaign men)" in missing.output
