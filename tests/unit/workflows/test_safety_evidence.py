"""The safe-improvement evidence a report shows: saved as computed, drawn inside the page."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import pytest

from campaign_sim.agents.spibb import MixturePolicy, SpibbPolicy
from campaign_sim.reports.executive import draw_executive
from campaign_sim.workflows.safety import (
    MAX_MOVED,
    NOT_ESTIMABLE_SHARE,
    Difference,
    SafetySettings,
    run_safety,
)
from campaign_sim.workflows.safety_evidence import safety_evidence, write
from tests.unit.synthetic_logs import synthetic_log

pytestmark = pytest.mark.slow  # the module's fitted-world fixture alone takes 15-35 s

FAST = ["world.ensemble=2", "world.max_epochs=3", "world.hidden=[32]"]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    log = synthetic_log(tmp_path_factory.mktemp("log"), customers=2_000, periods=4, seed=5, overrides=FAST)
    settings = SafetySettings(n_min_grid=(25, 400), pessimism_grid=(0.0,))
    return run_safety(log, seed=2, settings=settings)


def test_not_estimable_when_the_interval_is_wider_than_the_share_of_the_logged_value():
    narrow = Difference("p", 0.1, -0.1, 0.3, 5.0, logged_value=2.0)  # half-width 0.2 <= 0.2 x 2
    wide = Difference("p", 0.1, -0.5, 0.7, 5.0, logged_value=2.0)
    assert narrow.estimable and not wide.estimable
    assert "not estimable from this history" in wide.describe()
    assert Difference("p", 3.0, 0.5, 5.5, 5.0, logged_value=2.0).estimable  # clears zero: a claim stands
    assert NOT_ESTIMABLE_SHARE == 0.2


def test_far_moves_are_not_estimable_on_multi_period_logs_only():
    """The first-order gain misses a change's effect on later states: beyond MAX_MOVED it is no
    claim, narrow or not; a single-period log has no later states, so there it stands."""
    far = Difference("p", 0.5, 0.2, 0.8, 5.0, logged_value=2.0, moved=MAX_MOVED + 0.1)
    assert not far.estimable and not far.go and "departs too far" in far.describe()
    single = Difference("p", 0.5, 0.2, 0.8, 5.0, logged_value=2.0, moved=MAX_MOVED + 0.1, single_period=True)
    assert single.estimable and single.go


def test_a_mixture_deploys_its_share_of_the_policy(result):
    spibb = next(p for name, p in result.policies.items() if isinstance(p, SpibbPolicy))
    mixture = MixturePolicy(spibb, share=0.25, name="m")
    frame = result.fit_log.frame.head(500)
    world = result.fit_world
    x = world.encoding.shopper_matrix(frame)
    raw = {c: frame.get_column(c).cast(pl.Float64).to_numpy() for c in world.encoding.state}
    allowed = np.ones((500, world.config.actions.n_actions), dtype=bool)
    behaviour = world.behaviour_probs(x, raw, allowed)
    np.testing.assert_allclose(
        mixture.probs_at(x, raw, allowed),
        0.75 * behaviour + 0.25 * spibb.probs_at(x, raw, allowed),
        atol=1e-12,
    )


def test_evidence_is_saved_as_computed_and_draws_inside_the_page(result, tmp_path):
    evidence = safety_evidence(result, population=2_000, seed=2)
    saved = json.loads(write(evidence, tmp_path).read_text())
    assert saved["verdict"] == ("GO" if result.go else "NO-GO")
    assert saved["gate"]["mean"] == result.gate.mean and saved["gate"]["low"] == result.gate.low
    assert [d["policy"] for d in saved["selection"]] == [d.policy for d in result.selection]
    assert sum(saved["customers"].values()) == 2_000
    assert saved["thin_cells"] <= saved["used_cells"]
    for row in saved["treatments"]:  # only groups whose treatment changes
        assert row["usual"] != row["proposed"] or abs(row["proposed_share"] - row["usual_share"]) > 0
    figure = plt.figure(figsize=(11, 8.5))
    draw_executive(figure, saved, simulated="ppo")
    figure.canvas.draw()
    page = figure.bbox
    for text in figure.findobj(plt.Text):
        if text.get_text() and text.get_visible():
            box = text.get_window_extent()
            assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, text.get_text()[:60]
            assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, text.get_text()[:60]
    plt.close(figure)
