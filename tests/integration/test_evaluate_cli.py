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
