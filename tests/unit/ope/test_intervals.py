"""The compiled Poisson bootstrap and the studentized interval, checked against direct formulas."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.ope.estimators import DR, IPS, SNIPS, combine
from campaign_sim.ope.intervals import _Columns, _influence, interval, paired_difference
from campaign_sim.ope.resampling import poisson_weighted_sums
from tests.unit.ope.test_estimators import bandit


def _counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """The kernel's (resamples, n) counts, read back through identity columns."""
    return poisson_weighted_sums(np.eye(n), resamples, seed)[:, :n]


def test_counts_are_poisson_one_and_a_pure_function_of_seed_row_and_resample():
    counts = _counts(400, 500, seed=11)  # 200,000 draws
    assert np.array_equal(counts, np.round(counts)) and counts.min() >= 0
    # mean and variance of Poisson(1) are 1; their sd over 200k draws is 0.0022 and 0.0035: 5 sd
    assert abs(counts.mean() - 1) < 0.011 and abs(counts.var() - 1) < 0.018
    assert abs((counts == 0).mean() - np.exp(-1)) < 0.006  # sd 0.0011
    # the first rows' counts do not depend on how many rows follow (no sequential stream)
    assert np.array_equal(_counts(50, 500, seed=11), counts[:, :50])
    assert not np.array_equal(_counts(50, 500, seed=12), counts[:, :50])


def test_weighted_sums_equal_counts_times_columns():
    rng = np.random.default_rng(0)
    columns = rng.standard_normal((9_000, 3))  # more rows than one parallel block
    counts = _counts(9_000, 37, seed=5)
    sums = poisson_weighted_sums(columns, 37, seed=5)
    np.testing.assert_allclose(sums[:, :3], counts @ columns, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(sums[:, 3], counts.sum(axis=1))


@pytest.mark.parametrize("pair", [(SNIPS(), None), (DR(), IPS())], ids=["SNIPS", "DR-IPS"])
def test_each_resamples_standard_error_is_the_weighted_influence_formula(pair):
    data, _, _ = bandit(300, seed=8)
    estimators = [e for e in pair if e is not None]
    parts = [e.parts(data) for e in estimators]
    signs = np.array([1.0, -1.0][: len(parts)])
    values, se = _Columns(parts).studentized_draws(signs, 25, seed=3)
    counts = _counts(300, 25, seed=3)
    for b in range(25):
        c = counts[b]
        rows = np.repeat(np.arange(300), c.astype(int))  # the resample as an explicit data set
        resampled = [tuple(a[rows] for a in p) for p in parts]
        value = sum(s * combine(p) for s, p in zip(signs, resampled, strict=True))
        influence = sum(s * _influence(p) for s, p in zip(signs, resampled, strict=True))
        assert values[b] == pytest.approx(value, rel=1e-9, abs=1e-12)
        assert se[b] == pytest.approx(influence.std(ddof=1) / np.sqrt(rows.size), rel=1e-7)


def test_methods_agree_at_large_n_and_are_seeded():
    data, _, _ = bandit(20_000, seed=3)
    parts = DR().parts(data)
    normal = interval(parts, method="normal")
    width = normal.high - normal.low
    for method in ("bootstrap", "studentized"):
        a, b = interval(parts, method=method, seed=7), interval(parts, method=method, seed=7)
        assert a == b and a.value == normal.value
        # the bootstrap's endpoints are known to ~10% of the width at 200 resamples
        assert abs(a.low - normal.low) < 0.15 * width and abs(a.high - normal.high) < 0.15 * width
    assert interval(parts, method="bootstrap", seed=8) != interval(parts, method="bootstrap", seed=7)
    with pytest.raises(ValueError, match="expected one of"):
        interval(parts, method="bca")


def test_studentized_interval_reaches_up_for_a_right_skewed_reward():
    # rare large rewards: the interval must extend further above the estimate than below it
    rng = np.random.default_rng(1)
    n = 5_000
    reward = np.where(rng.random(n) < 0.01, rng.lognormal(4, 1, n), 0.0)
    data = bandit(n, seed=1)[0]
    skewed = IPS().parts(type(data)(reward, data.action, data.propensity, data.target, data.q_hat))
    ci = interval(skewed, method="studentized")
    assert ci.high - ci.value > 1.1 * (ci.value - ci.low)
    same = paired_difference(skewed, skewed)
    assert (same.low, same.value, same.high) == (0.0, 0.0, 0.0)
