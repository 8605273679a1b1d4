"""Plots of a fitted world's fidelity report (the dict written to fidelity.json)."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from campaign_sim.reports.style import PALETTE


def plot_calibration(head: dict[str, Any], *, name: str, ax: Axes | None = None) -> Axes:
    """Predicted vs observed rate over equal-mass bins of one head, with the diagonal."""
    ax = ax or plt.gca()
    bins = head["calibration"]
    predicted = [b["predicted"] for b in bins]
    observed = [b["observed"] for b in bins]
    top = max(max(predicted), max(observed)) * 1.05 or 1.0
    ax.plot([0, top], [0, top], color="#999999", linewidth=1, label="perfect calibration")
    ax.plot(predicted, observed, "o-", color=PALETTE[0], markersize=3, label="fitted model")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"predicted P({name})")
    ax.set_ylabel(f"observed {name} rate")
    ax.set_title(f"{name}: ECE {head['ece']:.4f}, log-loss {head['log_loss']:.4f}", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    return ax


def plot_arm_agreement(arms: list[dict[str, Any]], *, outcome: str, ax: Axes | None = None) -> Axes:
    """Observed mean per logged arm (95% interval) beside the model's prediction."""
    ax = ax or plt.gca()
    arms = sorted(arms, key=lambda a: -a["rows"])[:20]
    ys = range(len(arms))
    observed = [a[outcome]["observed"] for a in arms]
    # Intervals need not be centred (Wilson); rounding can put a bound a hair past the mean.
    low = [_bar(a[outcome]["observed"], a[outcome]["ci95"][0]) for a in arms]
    high = [_bar(a[outcome]["ci95"][1], a[outcome]["observed"]) for a in arms]
    ax.errorbar(
        observed, ys, xerr=[low, high], fmt="o", color=PALETTE[0], markersize=3, label="observed (95% CI)"
    )
    ax.plot([a[outcome]["predicted"] for a in arms], ys, "x", color=PALETTE[3], label="predicted")
    ax.set_yticks(list(ys), [a["label"] for a in arms], fontsize=6)
    ax.set_ylabel("arm (channel | discount | copy)", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"mean {outcome} per decision")
    ax.set_title(f"{outcome} by logged arm (largest 20, held-out customers)", fontsize=9)
    ax.legend(fontsize=7)
    return ax


def _bar(upper: float | None, lower: float | None) -> float:
    """A drawable error-bar length ``upper - lower``: never negative, NaN (not drawn) when a bound
    is unbounded (infinite in memory, null once saved as JSON)."""
    if upper is None or lower is None or not math.isfinite(upper - lower):
        return math.nan
    return max(upper - lower, 0.0)


def fidelity_figure(report: dict[str, Any]) -> plt.Figure:
    """One figure: calibration of visit and conversion, per-arm agreement of both."""
    figure, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    plot_calibration(report["heads"]["visit"], name="visit", ax=axes[0, 0])
    plot_calibration(report["heads"]["conversion"], name="conversion", ax=axes[0, 1])
    plot_arm_agreement(report["arms"], outcome="visit", ax=axes[1, 0])
    plot_arm_agreement(report["arms"], outcome="conversion", ax=axes[1, 1])
    figure.suptitle("Simulator fidelity on held-out customers")
    figure.tight_layout()
    return figure
