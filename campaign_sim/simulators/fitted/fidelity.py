"""Simulator fidelity: held-out log-loss, AUC and calibration per head, per-arm agreement.

Every metric is computed against a constant-rate baseline (the training rate) and, when the
true probabilities are known (synthetic world), against the true model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl

from campaign_sim.core.stats import Z95
from campaign_sim.data import schema as S
from campaign_sim.simulators.fitted.world import FittedResponse

ECE_BINS = 20


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties averaged); None with one class only."""
    positives = int(y.sum())
    negatives = y.shape[0] - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = pl.Series(p).rank("average").to_numpy()
    return float((ranks[y > 0.5].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE over equal-mass bins (equal-width bins would hide rare-event miscalibration)."""
    return float(
        sum(b["rows"] * abs(b["observed"] - b["predicted"]) for b in calibration_bins(y, p, bins))
        / y.shape[0]
    )


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Mean predicted and observed rate per equal-mass bin (for the calibration plot)."""
    order = np.argsort(p, kind="stable")
    return [
        {"predicted": float(p[c].mean()), "observed": float(y[c].mean()), "rows": int(len(c))}
        for c in np.array_split(order, min(bins, max(1, y.shape[0])))
        if len(c)
    ]


def head_report(
    y: np.ndarray, p: np.ndarray, *, base_rate: float, truth: np.ndarray | None
) -> dict[str, Any]:
    """Log-loss, AUC, ECE of ``p`` against the baseline and (if given) the truth."""
    model, baseline = log_loss(y, p), log_loss(y, np.full_like(p, base_rate))
    report: dict[str, Any] = {
        "rows": int(y.shape[0]),
        "events": int(y.sum()),
        "log_loss": model,
        "baseline_log_loss": baseline,
        "auc": auc(y, p),
        "ece": expected_calibration_error(y, p),
        "mean_predicted": float(p.mean()),
        "mean_observed": float(y.mean()),
        "calibration": calibration_bins(y, p),
    }
    if truth is not None:
        true = log_loss(y, truth)
        report |= {
            "true_log_loss": true,
            "ratio_to_truth": model / true,
            "gap_closed": (baseline - model) / (baseline - true) if baseline > true else None,
            "true_auc": auc(y, truth),
            "true_ece": expected_calibration_error(y, truth),
        }
    return report


def fidelity_report(
    frame: pl.DataFrame,
    response: FittedResponse,
    actions: np.ndarray,
    *,
    labels: tuple[str, ...],
    train_rates: dict[str, float],
    truth: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """Fidelity of ``response`` (predicted for the rows of ``frame``) on those held-out rows."""
    visit = frame.get_column(S.VISIT).to_numpy().astype(np.float64)
    conversion = frame.get_column(S.CONVERSION).to_numpy().astype(np.float64)
    visited = visit > 0.5
    t = (
        {k: truth.get_column(k).to_numpy() for k in ("p_visit", "p_conversion", "p_unsubscribe")}
        if (truth is not None)
        else None
    )
    heads = {
        "visit": head_report(
            visit, response.p_visit, base_rate=train_rates["visit"], truth=t["p_visit"] if t else None
        ),
        "conversion": head_report(
            conversion,
            response.p_purchase,
            base_rate=train_rates["conversion"],
            truth=t["p_visit"] * t["p_conversion"] if t else None,
        ),
        "conversion_given_visit": head_report(
            conversion[visited],
            response.p_conversion[visited],
            base_rate=train_rates["conversion_given_visit"],
            truth=t["p_conversion"][visited] if t else None,
        ),
    }
    if S.UNSUBSCRIBE in frame.columns:
        contacted = frame.get_column(S.CHANNEL).to_numpy() != "none"
        heads["unsubscribe"] = head_report(
            frame.get_column(S.UNSUBSCRIBE).to_numpy()[contacted].astype(np.float64),
            response.p_unsubscribe[contacted],
            base_rate=train_rates["unsubscribe"],
            truth=t["p_unsubscribe"][contacted] if t else None,
        )
    return {"heads": heads, "arms": arm_agreement(frame, response, actions, labels)}


def wilson_interval(rate: float, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a binomial rate (sane at 0 events, unlike the normal one)."""
    z2 = Z95**2
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return centre - half, centre + half


def normal_interval(values: np.ndarray) -> tuple[float, float]:
    """95% normal interval of a mean (infinite with a single value)."""
    mean = float(values.mean())
    if values.shape[0] < 2:
        return -math.inf, math.inf
    half = Z95 * float(values.std(ddof=1)) / math.sqrt(values.shape[0])
    return mean - half, mean + half


def arm_agreement(
    frame: pl.DataFrame, response: FittedResponse, actions: np.ndarray, labels: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per logged arm: observed mean visit / conversion / revenue (95% interval) vs predicted."""
    predicted = {
        S.VISIT: response.p_visit,
        S.CONVERSION: response.p_purchase,
        S.REVENUE: response.expected_revenue,
    }
    rows = []
    for action in np.unique(actions):
        mask = actions == action
        n = int(mask.sum())
        arm: dict[str, Any] = {"action": int(action), "label": labels[action], "rows": n}
        for outcome, p in predicted.items():
            observed = frame.get_column(outcome).to_numpy()[mask].astype(np.float64)
            mean = float(observed.mean())
            low, high = wilson_interval(mean, n) if outcome != S.REVENUE else normal_interval(observed)
            pred = float(p[mask].mean())
            arm[outcome] = {
                "observed": mean,
                "ci95": [low, high],
                "predicted": pred,
                "inside": bool(low <= pred <= high),
            }
        rows.append(arm)
    return rows
