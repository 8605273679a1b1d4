"""Pure plot functions of the strategy report: ``(data, *, ax=None) -> Axes``.

Inputs are plain lists and dicts from ``summary.json``, so a report rebuilds from saved
results alone. Colours are the Okabe-Ito palette; every axis names its unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from campaign_sim.reports.style import PALETTE


def plot_policy_values(rows: Sequence[dict[str, Any]], *, ax: Axes | None = None) -> Axes:
    """Expected profit per customer (95% interval) per policy, in each world it was evaluated in."""
    ax = ax or plt.gca()
    names = list(dict.fromkeys(r["policy"] for r in rows))
    places = list(dict.fromkeys(r["where"] for r in rows))
    offset = np.linspace(-0.2, 0.2, len(places)) if len(places) > 1 else [0.0]
    for k, place in enumerate(places):
        mine = [r for r in rows if r["where"] == place]
        ys = [names.index(r["policy"]) + offset[k] for r in mine]
        means = np.array([r["mean"] for r in mine])
        err = [means - [r["low"] for r in mine], np.array([r["high"] for r in mine]) - means]
        ax.errorbar(means, ys, xerr=err, fmt="o", color=PALETTE[k], markersize=4, capsize=2, label=place)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel("expected profit per customer over the campaign (currency units, 95% interval)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(
        "Every agent and baseline: simulated on the same customers, and off-policy on the logged history",
        fontsize=9,
    )
    return ax


def plot_action_mix(mix: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Heatmap: share of each profile's decisions per action (the decisions the campaign varies)."""
    ax = ax or plt.gca()
    values = np.asarray(mix["shares"], dtype=float)
    image = ax.imshow(values, aspect="auto", cmap="cividis", vmin=0, vmax=max(values.max(), 1e-9))
    ax.set_xticks(range(len(mix["columns"])), mix["columns"], rotation=45, ha="right", fontsize=6)
    ax.set_yticks(range(len(mix["rows"])), mix["rows"], fontsize=7)
    for (i, j), v in np.ndenumerate(values):
        if v >= 0.005:
            ax.text(
                j, i, f"{v:.0%}", ha="center", va="center", fontsize=5, color="white" if v < 0.5 else "black"
            )
    ax.figure.colorbar(image, ax=ax, label="share of the profile's decisions")
    ax.set_xlabel(f"action ({mix.get('axis', 'channel | discount')})")
    ax.set_title("What the recommended policy does, by customer profile", fontsize=9)
    return ax


def plot_lines(
    series: dict[str, Sequence[float]], *, xlabel: str, ylabel: str, title: str, ax: Axes | None = None
) -> Axes:
    """One line per named series over periods (contact rate, cumulative spend, ...); one bar per
    series when the campaign has a single period (a line of one point says nothing)."""
    ax = ax or plt.gca()
    if all(len(values) == 1 for values in series.values()):
        names = list(series)
        ax.bar(range(len(names)), [v[0] for v in series.values()], color=PALETTE[: len(names)], width=0.5)
        ax.set_xticks(range(len(names)), names, fontsize=7)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title} (one-period campaign)", fontsize=9)
        return ax
    for k, (name, values) in enumerate(series.items()):
        ax.plot(
            range(1, len(values) + 1), values, "o-", markersize=3, color=PALETTE[k % len(PALETTE)], label=name
        )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return ax


def plot_profit_distribution(risk: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Histogram of simulated campaign profit, with the mean and CVaR(5%) marked."""
    ax = ax or plt.gca()
    for k, (name, values) in enumerate(risk["samples"].items()):
        ax.hist(
            values, bins=30, alpha=0.55, color=PALETTE[k], label=f"{name} (CVaR5% {risk['cvar5'][name]:,.0f})"
        )
        ax.axvline(risk["cvar5"][name], color=PALETTE[k], linestyle="--", linewidth=1)
    ax.set_xlabel(f"campaign profit for {risk['campaign_shoppers']:,} customers (currency units)")
    ax.set_ylabel("simulated campaigns")
    ax.set_title("Campaign profit across simulated campaigns (dashed: CVaR 5%)", fontsize=9)
    ax.legend(fontsize=7)
    return ax


def plot_learning_curves(curves: dict[str, dict[str, Sequence[float]]], *, ax: Axes | None = None) -> Axes:
    """Mean episode reward against training steps, one line per agent and seed."""
    ax = ax or plt.gca()
    for k, (name, curve) in enumerate(curves.items()):
        ax.plot(curve["steps"], curve["reward"], color=PALETTE[k % len(PALETTE)], linewidth=1, label=name)
    ax.set_xlabel("training steps (customer-decisions)")
    ax.set_ylabel("mean episode reward (profit per customer)")
    ax.set_title("Learning curves across seeds", fontsize=9)
    if curves:
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no training logs found", ha="center", va="center", transform=ax.transAxes)
    return ax


def plot_copy_ranking(rows: Sequence[dict[str, Any]], *, ax: Axes | None = None) -> Axes:
    """Predicted incremental profit per top copy and profile, with the ensemble's 95% range."""
    ax = ax or plt.gca()
    labels = [f"{r['group']} #{r['rank']}: {r['copy_id']}" for r in rows]
    means = np.array([r["profit_lift"] for r in rows])
    err = [means - [r["profit_low"] for r in rows], np.array([r["profit_high"] for r in rows]) - means]
    ax.errorbar(means, range(len(rows)), xerr=err, fmt="o", color=PALETTE[2], markersize=4, capsize=2)
    ax.set_yticks(range(len(rows)), labels, fontsize=6)
    ax.invert_yaxis()
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel(
        "predicted profit per customer vs no contact (currency units; 95% interval:\n"
        "ensemble spread, distance to the logged copies, the log's correction)"
    )
    ax.set_title("Top copies per profile", fontsize=9)
    return ax


def plot_support(support: dict[str, Any], *, ax: Axes | None = None) -> Axes:
    """Logged decisions per (context group, action), log colour scale; cells below N∧ hatched:
    where the history can vouch for a change and where it cannot."""
    ax = ax or plt.gca()
    counts = np.asarray(support["decisions"], dtype=float)
    image = ax.imshow(np.log10(counts + 1), aspect="auto", cmap="cividis")
    thin = np.argwhere(counts < support["n_min"])
    ax.scatter(thin[:, 1], thin[:, 0], marker="x", s=6, color="#D55E00", linewidths=0.5)
    ax.set_xticks(range(len(support["actions"])), support["actions"], rotation=90, fontsize=4)
    ax.set_yticks(range(len(support["groups"])), [g[:34] for g in support["groups"]], fontsize=4)
    ax.figure.colorbar(image, ax=ax, label="log10(1 + logged decisions)", shrink=0.6)
    ax.set_title(f"Support in the log (x: fewer than {support['n_min']} decisions)", fontsize=8)
    return ax
