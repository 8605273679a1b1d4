"""The report's pilot page: what `pilot plan` proposes (and, once results came in, what `pilot
analyze` found), drawn from summary["pilot"] alone."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from campaign_sim.reports.style import PALETTE

TEXT = {"family": "DejaVu Sans", "fontsize": 9}


def draw_pilot(figure: plt.Figure, pilot: dict[str, Any]) -> plt.Figure:
    plan, analysis = pilot["plan"], pilot.get("analysis")
    groups, arms = plan["groups"], plan["arms"]
    size = sum(g["pilot"] for g in groups)
    figure.text(
        0.05,
        0.88,
        f"A pilot of {size:,} of {plan['population']:,} customers, "
        f"{len(arms)} arms against business-as-usual",
        fontsize=15,
        weight="bold",
    )
    short = [g for g in groups if g["pilot"] < g["needed"]]
    lines = [
        f"Expected cost against business-as-usual: {plan['cost']:,.0f} (range "
        f"{plan['cost_low']:,.0f} to {plan['cost_high']:,.0f}); expected value of what it teaches: "
        f"{plan['value_of_information']:,.0f} per period.",
        f"Minimum effect asked for: {plan['mde']:+.3f} per customer at "
        f"{plan['settings']['power']:.0%} power; intervals valid at every look (always-valid, "
        "Bonferroni over the arms).",
    ]
    if short:
        needed = int(np.median([g["needed"] for g in short]))
        lines.append(
            f"{len(short)} of {len(groups)} groups get fewer customers than that effect needs (median "
            f"{needed:,} each): their pilots detect only larger effects (see the table)."
        )
    for k, line in enumerate(lines):
        figure.text(0.05, 0.83 - 0.03 * k, line, **TEXT)
    if arms:
        _arm_chart(figure.add_axes((0.30, 0.30, 0.62, 0.40)), arms, analysis)
    _group_table(figure, groups)
    return figure


def _arm_chart(ax: plt.Axes, arms: list[dict], analysis: dict | None) -> None:
    labels = [f"{a['group'][:28]}: {_shortened(a['label'], 34)}" for a in arms]
    ys = np.arange(len(arms))
    predicted = np.array([a["gain"] for a in arms])
    low, high = np.array([a["gain_low"] for a in arms]), np.array([a["gain_high"] for a in arms])
    new = np.array([bool(a.get("new_copy", False)) for a in arms])
    for shown, marker, label in (
        (~new, "o", "predicted by the fitted world (range: ensemble and logged support)"),
        (new, "D", "a generated copy the log never sent: predicted from its text alone"),
    ):
        if shown.any():
            ax.errorbar(
                predicted[shown],
                ys[shown],
                xerr=[(predicted - low)[shown], (high - predicted)[shown]],
                fmt=marker,
                color=PALETTE[0],
                mfc="white" if marker == "D" else PALETTE[0],
                capsize=2,
                markersize=4,
                label=label,
            )
    if analysis:
        found = {(r["group"], r["arm"]): r for r in analysis["arms"]}
        for y, a in zip(ys, arms, strict=True):
            r = found.get((a["group"], a["label"]))
            if r and math.isfinite(r["low"]):
                ax.errorbar(
                    [r["effect"]],
                    [y + 0.25],
                    xerr=[[r["effect"] - r["low"]], [r["high"] - r["effect"]]],
                    fmt="s",
                    color=PALETTE[1],
                    capsize=2,
                    markersize=4,
                )
        ax.plot([], [], "s", color=PALETTE[1], label="measured in the pilot (always-valid interval)")
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_yticks(ys, labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("gain per customer over business-as-usual (currency units)")
    ax.set_title("The pilot's arms: promising, but the history holds too few decisions to tell", fontsize=9)
    ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, -0.14))  # below: never over a point


def _shortened(text: str, most: int) -> str:
    """``text`` cut in the middle to ``most`` characters: a generated copy's id keeps its channel
    and profile (front) and its number (end), and the label stays on the page."""
    if len(text) <= most:
        return text
    keep = (most - 1) // 2
    return f"{text[:keep]}…{text[-(most - 1 - keep):]}"


def _group_table(figure: plt.Figure, groups: list[dict]) -> None:
    rows = sorted(groups, key=lambda g: -g["pilot"])[:8]
    figure.text(
        0.05,
        0.22,
        "Group                                     pilot   needed   detects",
        family="DejaVu Sans Mono",
        fontsize=8,
        weight="bold",
    )
    for k, g in enumerate(rows):
        figure.text(
            0.05,
            0.195 - 0.022 * k,
            f"{g['group'][:40]:<40} {g['pilot']:>7,} {g['needed']:>8,} {g['detectable']:>+9.3f}",
            family="DejaVu Sans Mono",
            fontsize=8,
        )
