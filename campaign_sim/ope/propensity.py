"""Logging propensities estimated from the log itself, when it does not record them.

A multinomial logistic regression of the logged action on what the logger could see, fitted
on one half of the rows and predicting the other (cross-fitted, so a row's propensity never
comes from a model that saw it). Its calibration is measured and travels with every estimate
that uses it: estimated propensities are a modelling assumption, not a fact of the log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

FLOOR = 1e-3  # estimated propensities below this are raised to it (weights of at most 1,000)
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class EstimatedPropensities:
    propensity: np.ndarray  # (n,) estimated probability of each row's logged action
    calibration: list[dict[str, float]]  # per bin: mean predicted, observed frequency, count
    ece: float  # expected calibration error over (row, action) pairs

    def warning(self) -> str:
        return (
            "propensities were not logged: estimated by a cross-fitted logistic regression of the "
            f"logged action on the observation (expected calibration error {self.ece:.4f}); every "
            "importance-weighted estimate inherits that model's errors"
        )

    def to_dict(self) -> dict:
        return {"ece": self.ece, "calibration": self.calibration, "warning": self.warning()}


def estimate_propensities(
    features: np.ndarray, action: np.ndarray, n_actions: int, *, seed: int = 0
) -> EstimatedPropensities:
    """Cross-fitted P(logged action | features) for every row, with its calibration."""
    n = features.shape[0]
    fold = np.random.default_rng(seed).permutation(n) % 2
    probs = np.zeros((n, n_actions))
    for k in (0, 1):
        train, test = fold != k, fold == k
        classes = np.unique(action[train])
        model = LogisticRegression(max_iter=300, C=1.0).fit(features[train], action[train])
        probs[np.ix_(test, classes)] = model.predict_proba(features[test])
    probs = np.maximum(probs, 0.0)
    probs /= probs.sum(axis=1, keepdims=True)
    picked = np.maximum(probs[np.arange(n), action], FLOOR)
    observed = np.zeros_like(probs)
    observed[np.arange(n), action] = 1.0
    edges = np.quantile(probs, np.linspace(0, 1, CALIBRATION_BINS + 1))
    bins = np.clip(np.searchsorted(edges, probs, side="right") - 1, 0, CALIBRATION_BINS - 1)
    table, ece = [], 0.0
    for b in range(CALIBRATION_BINS):
        inside = bins == b
        if not inside.any():
            continue
        predicted, frequency = float(probs[inside].mean()), float(observed[inside].mean())
        table.append({"predicted": predicted, "observed": frequency, "pairs": int(inside.sum())})
        ece += inside.mean() * abs(predicted - frequency)
    return EstimatedPropensities(picked, table, float(ece))
