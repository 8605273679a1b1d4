"""The always-valid interval holds at every look (Waudby-Smith et al. 2024), measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from campaign_sim.ope.confidence_sequences import MIN_EVENTS, running_coverage, sequential_interval

RUNS, TERMS = 400, 6_000
# 400 runs: a coverage of 0.95 has a standard error of 0.011; the floor 0.93 is ~2 below it
FLOOR = 0.93


def _shapes(rng):
    both = rng.random(TERMS) < 0.5  # a 50/50 pilot: IPW difference of arm and control terms
    return {
        "normal": (rng.normal(1.0, 2.0, TERMS), 1.0),
        "5% purchases": ((rng.random(TERMS) < 0.05) * 40.0, 2.0),
        "1% purchases": ((rng.random(TERMS) < 0.01) * 40.0, 0.4),
        "ipw difference": (
            np.where(both, 2 * (rng.random(TERMS) < 0.02) * 40.0, -2 * (rng.random(TERMS) < 0.015) * 40.0),
            0.2,
        ),
    }


@pytest.mark.parametrize("shape", ["normal", "5% purchases", "1% purchases", "ipw difference"])
def test_the_interval_holds_at_every_look(shape):
    rng = np.random.default_rng(7)
    held = [running_coverage(*_shapes(rng)[shape], alpha=0.05, planned=2_000) for _ in range(RUNS)]
    assert np.mean(held) >= FLOOR


def test_no_claim_before_enough_purchases_and_wider_than_a_single_look():
    rng = np.random.default_rng(1)
    few = (rng.random(500) < 0.01) * 40.0  # about 5 purchases
    assert np.count_nonzero(few) < MIN_EVENTS and not sequential_interval(few, alpha=0.05, planned=500).shown
    many = rng.normal(1.0, 1.0, 5_000)
    interval = sequential_interval(many, alpha=0.05, planned=5_000)
    assert interval.shown and interval.low < interval.fixed_low < 1.0 < interval.fixed_high < interval.high
    assert math.isclose(interval.mean, many.mean())
