"""Fidelity metrics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.simulators.fitted.fidelity import auc, expected_calibration_error, log_loss, wilson_interval


def test_auc_known_values():
    y = np.array([0, 0, 1, 1])
    assert auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5
    assert auc(np.zeros(3), np.array([0.1, 0.2, 0.3])) is None


def test_log_loss_and_ece():
    y = np.array([1.0, 0.0])
    assert log_loss(y, np.array([0.5, 0.5])) == pytest.approx(np.log(2))
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.3, 200_000)
    calibrated = (rng.random(p.shape[0]) < p).astype(float)
    # 20 bins of 10,000 rows: each bin's observed rate is off by about one standard error (~0.003)
    assert expected_calibration_error(calibrated, p) < 0.005
    assert expected_calibration_error(calibrated, np.clip(p * 1.5, 0, 1)) > 0.04


def test_wilson_interval_is_sane_at_zero_events():
    low, high = wilson_interval(0.0, 100)
    assert low == pytest.approx(0.0, abs=1e-12) and 0.03 < high < 0.04
    low, high = wilson_interval(0.5, 10_000)
    assert low == pytest.approx(0.5 - 0.0098, abs=2e-4) and high == pytest.approx(0.5 + 0.0098, abs=2e-4)
