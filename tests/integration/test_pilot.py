"""`campaign-sim pilot plan | analyze` (issue 24, parts 3-4): a reproducible randomised design
within the budget, and per-arm intervals that hold when looked at early."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from campaign_sim.workflows.pilot import ASSIGNMENT_FILE, CONTROL, PLAN_FILE
from campaign_sim.workflows.pilot_analysis import _arm_result
from tests.integration.cli_runs import invoke, small_fitted_run


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    return small_fitted_run(tmp_path_factory.mktemp("pilot"))


def test_the_plan_is_randomised_within_budget_and_reproducible(fitted):
    result = invoke("pilot", "plan", fitted, "--share", "0.2", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assignment = pl.read_csv(fitted / "pilot" / ASSIGNMENT_FILE)
    assert assignment.height == sum(g["pilot"] for g in plan["groups"]) <= 0.2 * plan["population"]
    assert assignment.get_column("customer_id").n_unique() == assignment.height  # once each
    for group in plan["groups"]:
        rows = assignment.filter(pl.col("group") == group["group"])
        arms = {a["label"] for a in plan["arms"] if a["group"] == group["group"]} | {CONTROL}
        assert set(rows.get_column("arm")) == arms
        assert np.allclose(rows.get_column("propensity").to_numpy(), 1 / len(arms))
        counts = rows.group_by("arm").len().get_column("len")
        assert counts.max() - counts.min() <= 1  # equal shares
    first = (fitted / "pilot" / ASSIGNMENT_FILE).read_bytes()
    assert invoke("pilot", "plan", fitted, "--share", "0.2", "-q").exit_code == 0
    assert (fitted / "pilot" / ASSIGNMENT_FILE).read_bytes() == first
    assert invoke("pilot", "plan", fitted, "--share", "0.2", "--seed", "1", "-q").exit_code == 0
    assert (fitted / "pilot" / ASSIGNMENT_FILE).read_bytes() != first


def _pilot(rng, customers: int, lift: float) -> pl.DataFrame:
    """Control and two arms (A buys with probability 5% + lift, B as control), worth 40 a purchase."""
    arm = rng.choice([CONTROL, "A", "B"], size=customers)
    rate = np.where(arm == "A", 0.05 + lift, 0.05)
    return pl.DataFrame(
        {"group": "g", "arm": arm, "propensity": 1 / 3, "profit": (rng.random(customers) < rate) * 40.0}
    )


def test_intervals_cover_the_true_effects_and_false_winners_are_rare():
    # 300 pilots of 6,000 customers: arm A truly +0.04 x 40 = +1.6 per customer, arm B 0.
    # Each interval is at alpha = 0.05 / 2 arms; a coverage of 0.975 has a standard error of 0.009
    # over 300 runs, so the floor 0.95 leaves ~3 of them; false winners expected well under 5%.
    rng = np.random.default_rng(11)
    covered, false_winners, found = [], 0, 0
    for _ in range(300):
        frame = _pilot(rng, 6_000, 0.04)
        a, b = (_arm_result(frame, "g", arm, 0.025, 6_000) for arm in ("A", "B"))
        covered += [a.low <= 1.6 <= a.high, b.low <= 0.0 <= b.high]
        false_winners += b.verdict.startswith("better")
        found += a.verdict.startswith("better")
    assert np.mean(covered) >= 0.95 and false_winners / 300 <= 0.05
    assert found / 300 >= 0.5  # and the real effect is found in most pilots


def test_bad_results_are_one_line_naming_file_column_and_row(fitted, tmp_path):
    assert invoke("pilot", "plan", fitted, "--share", "0.2", "-q").exit_code == 0
    ids = pl.read_csv(fitted / "pilot" / ASSIGNMENT_FILE).get_column("customer_id").cast(pl.String).to_list()
    good = pl.DataFrame({"customer_id": ids, "profit": [0.0] * len(ids)})
    cases = {
        "no profit column": (good.drop("profit"), "column 'profit': required column is missing"),
        "stranger": (
            good.with_columns(pl.Series("customer_id", ["nobody"] + ids[1:])),
            "row 1: customer not in",
        ),
        "twice": (pl.concat([good, good.head(1)]), f"row {len(ids) + 1}: customer listed twice"),
        "NaN": (
            good.with_columns(pl.Series("profit", [0.0, float("nan")] + [0.0] * (len(ids) - 2))),
            "row 2",
        ),
    }
    for name, (frame, message) in cases.items():
        path = tmp_path / f"{name}.csv"
        frame.write_csv(path)
        result = invoke("pilot", "analyze", fitted, "--results", path)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and message in lines[0], (name, result.output)
    good.write_csv(tmp_path / "good.csv")
    result = invoke("pilot", "analyze", fitted, "--results", tmp_path / "good.csv", "--json")
    assert result.exit_code == 0, result.output
    assert all(a["verdict"].startswith("not yet estimable") for a in json.loads(result.output)["arms"])
    assert json.loads((fitted / "pilot" / PLAN_FILE).read_text())["arms"]


def test_the_pilot_page_draws_inside_the_page(fitted):
    import matplotlib.pyplot as plt

    from campaign_sim.reports.pilot_page import draw_pilot

    assert invoke("pilot", "plan", fitted, "--share", "0.2", "-q").exit_code == 0
    plan = json.loads((fitted / "pilot" / PLAN_FILE).read_text())
    figure = draw_pilot(plt.figure(figsize=(11, 8.5)), {"plan": plan, "analysis": None})
    figure.canvas.draw()
    page = figure.bbox
    texts = [t for t in figure.texts] + [t for ax in figure.axes for t in ax.get_yticklabels()]
    for text in texts:
        box = text.get_window_extent()
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, text.get_text()[:60]
    plt.close(figure)
