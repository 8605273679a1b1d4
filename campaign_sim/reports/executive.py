"""The executive page when the run holds held-out safety evidence (``campaign-sim recommend``).

A designed page for a stakeholder: the verdict as a headline, the gain per customer and in total
(or "not estimable from this history"), one chart of every candidate's gain interval against
business-as-usual, a short table of the groups whose treatment would change, and what the history
could not vouch for. Proportional fonts; every text block is wrapped to the page.
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from campaign_sim.reports.style import PALETTE

GO_COLOUR, NO_GO_COLOUR, MUTED = "#009E73", "#D55E00", "#777777"
TABLE_ROWS = 8
CHART_ROWS = 9  # candidates drawn: the best by lower bound among those the log can estimate


def draw_executive(figure: plt.Figure, safety: dict[str, Any], *, simulated: str) -> None:
    """Draw the page on ``figure`` (already titled); ``simulated`` names the best simulated agent."""
    go = safety["verdict"] == "GO"
    headline = "GO: launch the changes below" if go else "NO-GO: keep business-as-usual"
    figure.text(0.05, 0.855, headline, fontsize=22, weight="bold", color=GO_COLOUR if go else NO_GO_COLOUR)
    _wrapped(figure, 0.05, 0.815, _claim(safety), width=108, size=12.5)
    c = safety["customers"]
    _wrapped(
        figure,
        0.05,
        0.745,
        f"How this was decided: the log's customers were split at random. {c['fit']:,} fitted the simulator "
        f"and built the candidates, {c['select']:,} chose among them, {c['gate']:,} checked the choice. "
        "Every number on this page comes from customers that did not choose it.",
        width=140,
        size=9,
        colour=MUTED,
    )
    _interval_chart(figure.add_axes((0.24, 0.14, 0.28, 0.50)), safety)
    _treatment_table(figure, safety)
    cells = (
        f"{safety['thin_cells']} of the {safety['used_cells']} (group x action) cells the log holds have "
        f"fewer than {safety['n_min']} logged decisions; there the proposal keeps business-as-usual's "
        "probabilities."
        if safety["n_min"]
        else ""
    )
    _wrapped(
        figure,
        0.05,
        0.075,
        f"What the history could not vouch for: {cells} The agents simulated on the next pages "
        f"(best: {simulated}) are simulation only; the history does not vouch for them.",
        width=170,
        size=8.5,
        colour=MUTED,
    )


def _claim(safety: dict[str, Any]) -> str:
    gate, population = safety["gate"], safety["population"]
    periods = safety.get("periods", safety["horizon"])
    span = f"over the {periods}-period campaign" if periods > 1 else "for the one logged decision"
    if safety["verdict"] == "GO":
        return (
            f"Gain per customer {span}: {gate['mean']:+.2f} (95% interval "
            f"{gate['low']:+.2f} to {gate['high']:+.2f}); about {gate['mean'] * population:+,.0f} for the "
            f"{population:,} customers of the log ({gate['low'] * population:+,.0f} to "
            f"{gate['high'] * population:+,.0f})."
        )
    if safety["candidate"] == "business-as-usual":
        return (
            "No candidate's gain over business-as-usual cleared zero on the selection customers. The changes "
            "below are candidates for a pilot, not for a launch."
        )
    if not gate["estimable"]:
        return (
            f"The history cannot vouch for {safety['candidate']}: its gain is not estimable from this "
            f"history (95% interval {gate['low']:+.1f} to {gate['high']:+.1f} per customer). "
            "A candidate for a pilot."
        )
    return (
        f"{safety['candidate']}'s gain per customer, {gate['mean']:+.2f} (95% interval {gate['low']:+.2f} to "
        f"{gate['high']:+.2f}), does not clear zero on the gate customers. A candidate for a pilot."
    )


def _interval_chart(ax: Axes, safety: dict[str, Any]) -> None:
    """Every candidate on the selection customers, and the gate; no point where not estimable."""
    ranked = sorted(safety["selection"], key=lambda d: (not d["estimable"], -d["low"]))
    rows = [(d["policy"], d, "selection") for d in ranked[:CHART_ROWS]]
    if safety["candidate"] != "business-as-usual":
        rows.append((f"{safety['candidate']} (gate)", safety["gate"], "gate"))
    scale = max(abs(safety["gate"]["logged_value"]), 1e-9)
    limit = 2 * safety["not_estimable_share"] * scale
    for y, (_, d, part) in enumerate(rows):
        low, high = max(d["low"], -limit), min(d["high"], limit)
        colour = PALETTE[0] if part == "selection" else PALETTE[2]
        if d["estimable"]:
            ax.errorbar(
                d["mean"], y, xerr=[[d["mean"] - low], [high - d["mean"]]], fmt="o", color=colour, capsize=3
            )
        else:  # no point: the history cannot place one
            label = f"not estimable ({d['low']:+.1f} to {d['high']:+.1f})"
            ax.text(0, y, label, ha="center", va="center", fontsize=7.5, color=MUTED, backgroundcolor="white")
    ax.axvline(0, color="black", lw=0.8)
    ax.axvspan(
        -safety["not_estimable_share"] * scale,
        safety["not_estimable_share"] * scale,
        color="#F2F2F2",
        zorder=0,
    )
    ax.set_yticks(range(len(rows)), [name for name, _, _ in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_xlim(-limit, limit)
    ax.set_xlabel("gain over business-as-usual per customer (95% interval)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title("Each candidate's gain (selection customers; gate)", fontsize=10, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _treatment_table(figure: plt.Figure, safety: dict[str, Any]) -> None:
    rows = safety["treatments"]
    title = f"Groups whose treatment changes (policy: {safety['proposal']})" + (
        "" if safety["verdict"] == "GO" else " (pilot candidates, not a launch)"
    )
    _wrapped(figure, 0.57, 0.685, title, width=62, size=10)
    if not rows:
        _wrapped(figure, 0.57, 0.61, "No group changes treatment.", width=60, size=9)
        return
    ax = figure.add_axes((0.57, 0.14, 0.39, 0.50))
    ax.axis("off")
    cells = [
        [
            textwrap.fill(t["group"], 26),
            _action_cell(t["usual"], t["usual_share"]),
            _action_cell(t["proposed"], t["proposed_share"]),
            f"{t['proposed_support']:,}",
        ]
        for t in rows[:TABLE_ROWS]
    ]
    table = ax.table(
        cellText=cells,
        colLabels=["group", "business-as-usual", "proposed", "logged\ndecisions"],
        colWidths=[0.36, 0.25, 0.25, 0.14],
        loc="upper left",
        cellLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    table.scale(1, 2.6)
    for (r, _), cell in table.get_celld().items():
        cell.set_edgecolor("#DDDDDD")
        if r == 0:
            cell.set_text_props(weight="bold")
    if len(rows) > TABLE_ROWS:
        figure.text(
            0.57, 0.115, f"+ {len(rows) - TABLE_ROWS} more groups in summary.json", fontsize=8, color=MUTED
        )


def _action_cell(label: str, share: float) -> str:
    """ "email|10%|personal" as two short lines that fit a cell: "email 10%" / "personal (82%)"."""
    parts = label.split("|")
    head, tail = (" ".join(parts[:2]), parts[2]) if len(parts) == 3 else (label, "")
    return f"{head}\n{tail} ({share:.0%})".replace("\n (", "\n(")


def _wrapped(
    figure: plt.Figure, x: float, y: float, text: str, *, width: int, size: float, colour: str = "black"
) -> None:
    figure.text(x, y, textwrap.fill(text, width), fontsize=size, va="top", color=colour, linespacing=1.35)
