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
from tests.integration.cli_runs import copied_run, invoke


@pytest.fixture(scope="module")
def fitted(fitted_run_template, tmp_path_factory) -> Path:
    return copied_run(fitted_run_template, tmp_path_factory.mktemp("pilot"))


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
        assert np.allclose(rows.get_column("arm_share").to_numpy(), 1 / len(arms))
        # every row's action has its design probability: an arm's action at least its arm's share
        propensity = rows.get_column("propensity").to_numpy()
        on_arm = (rows.get_column("arm") != CONTROL).to_numpy()
        assert (propensity[on_arm] >= 1 / len(arms) - 1e-12).all() and (propensity <= 1 + 1e-12).all()
        control = rows.filter(pl.col("arm") == CONTROL)
        assert control.get_column("action").n_unique() >= 1 and (propensity > 0).all()
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
        {"group": "g", "arm": arm, "arm_share": 1 / 3, "profit": (rng.random(customers) < rate) * 40.0}
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


def _pilot_period(fitted: Path, rng) -> pl.DataFrame:
    """The pilot as a CRM would export it: each assigned customer's next period in the history's
    format, sent the assigned action, with made-up outcomes (the loop's mechanics, not its gain)."""
    history = pl.read_parquet(fitted.parent / "data" / "log.parquet")
    assignment = pl.read_csv(fitted / "pilot" / ASSIGNMENT_FILE, schema_overrides={"customer_id": pl.String})
    last = (
        history.sort("period")
        .group_by("customer_id")
        .last()
        .with_columns(pl.col("customer_id").cast(pl.String))
    )
    rows = assignment.select("customer_id", "channel", "discount", "copy_id").join(
        last.drop("channel", "discount", "copy_id"), on="customer_id"
    )
    n = rows.height
    buys = rng.random(n) < 0.1
    return (
        rows.select(history.columns)
        .with_columns(
            pl.col("period") + 1,
            pl.Series("visit", buys.astype(np.int8)),
            pl.Series("conversion", buys.astype(np.int8)),
            pl.Series("revenue", np.where(buys, 50.0, 0.0)),
            pl.Series("propensity", np.full(n, 0.5)),  # the CRM's own guess: replaced by the design's
        )
        .with_columns(pl.col("customer_id").cast(history.schema["customer_id"]))
    )


def test_learn_joins_the_pilot_with_its_design_probabilities_and_recommends_again(fitted, tmp_path):
    assert invoke("pilot", "plan", fitted, "--share", "0.2", "-q").exit_code == 0
    pilot = _pilot_period(fitted, np.random.default_rng(3))
    # one customer was sent something else than assigned: that row cannot join (unknown probability)
    first = pilot.row(0, named=True)
    other = "email" if first["channel"] != "email" else "sms"
    pilot.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(other)).otherwise(pl.col("channel")).alias("channel")
    ).write_parquet(tmp_path / "pilot.parquet")
    history = fitted.parent / "data" / "log.parquet"
    args = ("--history", history, "--pilot-log", tmp_path / "pilot.parquet", "--out", tmp_path / "after")
    result = invoke("pilot", "learn", fitted, *args, "--json")
    assert result.exit_code == 0, result.output
    learned = json.loads(result.output)
    assert learned["pilot_rows"] + learned["left_out"] == pilot.height and learned["left_out"] >= 1
    joined = pl.read_parquet(learned["joined_log"])
    assert joined.height == learned["history_rows"] + learned["pilot_rows"]
    design = pl.read_csv(fitted / "pilot" / ASSIGNMENT_FILE, schema_overrides={"customer_id": pl.String})
    last = joined.filter(pl.col("period") == joined.get_column("period").max()).join(
        design.select("customer_id", pl.col("propensity").alias("design")), on="customer_id"
    )
    assert last.height == learned["pilot_rows"]
    assert np.allclose(last.get_column("propensity").to_numpy(), last.get_column("design").to_numpy())
    assert (tmp_path / "after" / "world").is_dir() and (
        tmp_path / "after" / "safety" / "safety.json"
    ).exists()
    assert {"before", "after"} <= set(json.loads((fitted / "pilot" / "learned.json").read_text()))
    # a pilot row naming a customer the assignment does not hold: one line, file, column and row
    stranger = pl.when(pl.int_range(pl.len()) == 0).then(10**9).otherwise(pl.col("customer_id"))
    pilot.with_columns(stranger.cast(pilot.schema["customer_id"]).alias("customer_id")).write_parquet(
        tmp_path / "stranger.parquet"
    )
    bad = invoke(
        "pilot",
        "learn",
        fitted,
        *args[:2],
        "--pilot-log",
        tmp_path / "stranger.parquet",
        "--out",
        tmp_path / "x",
    )
    assert bad.exit_code == 2 and "row 1: customer not in" in bad.output.strip().splitlines()[0], bad.output
    assert not (tmp_path / "x").exists()


def test_contact_costs_are_not_purchases_an_interval_waits_for():
    # 3,000 customers, every one contacted at a cost of 0.05 and 10 purchases in all: every term is
    # non-zero, yet the purchase rate is unknown; no interval may be shown before 20 purchases.
    rng = np.random.default_rng(5)
    arm = rng.choice([CONTROL, "A"], size=3_000)
    profit = np.full(3_000, -0.05)
    profit[rng.choice(3_000, size=10, replace=False)] = 39.95
    frame = pl.DataFrame({"group": "g", "arm": arm, "arm_share": 0.5, "profit": profit})
    result = _arm_result(frame, "g", "A", 0.05, 3_000)
    assert result.verdict.startswith("not yet estimable") and not np.isfinite(result.low)
