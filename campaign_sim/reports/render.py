"""Render a strategy report from its summary: a multi-page PDF, one PNG per figure, summary.json.

Everything shown comes from ``summary`` (which is written beside the PDF), so the report can
be rebuilt from saved results. The PDF carries no dates: same summary, same bytes.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.core.jsonio import dumps_json
from campaign_sim.reports.executive import draw_executive
from campaign_sim.reports.fidelity_plots import plot_arm_agreement, plot_calibration
from campaign_sim.reports.pilot_page import draw_pilot
from campaign_sim.reports.plots import (
    plot_action_mix,
    plot_copy_ranking,
    plot_learning_curves,
    plot_lines,
    plot_policy_values,
    plot_profit_distribution,
    plot_support,
)
from campaign_sim.reports.style import save_png
from campaign_sim.reports.summary import ReportSummary

PAGE = (11.0, 8.5)  # US letter, landscape
PDF_METADATA = {"Creator": "campaign-sim", "Producer": "campaign-sim", "CreationDate": None, "ModDate": None}
PAGE_TITLES = (
    "Executive summary",
    "Policy comparison",
    "Strategy",
    "Copy",
    "Risk",
    "Evidence quality",
    "Data and assumptions",
    "Pilot (A/B test)",
)


def render_report(summary: ReportSummary, out: str | Path) -> dict[str, Path]:
    """Write report.pdf, the PNGs and summary.json under ``out``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = [
        ("1_executive_summary", _executive(summary)),
        ("2_policy_comparison", _comparison(summary)),
        ("3_strategy", _strategy(summary)),
        ("4_copy", _copy(summary)),
        ("5_risk", _risk(summary)),
        ("6_evidence", _evidence(summary)),
        ("7_data_assumptions", _data(summary)),
    ]
    if summary.get("pilot"):  # after `campaign-sim pilot plan`
        figures.append(("8_pilot", draw_pilot(_page(8, summary), summary["pilot"])))
    paths = {"pdf": out / "report.pdf", "summary": out / "summary.json"}
    with plt.rc_context({"pdf.fonttype": 42, "svg.hashsalt": "campaign-sim"}):
        with atomic_path(paths["pdf"]) as tmp, PdfPages(tmp, metadata=PDF_METADATA) as pdf:
            for _, figure in figures:
                pdf.savefig(figure)
        for name, figure in figures:
            paths[name] = save_png(figure, out / f"{name}.png")
    write_text_atomic(paths["summary"], dumps_json(summary))
    return paths


# --- pages -------------------------------------------------------------------------------
def _page(number: int, summary: ReportSummary) -> plt.Figure:
    figure = plt.figure(figsize=PAGE)
    figure.text(0.04, 0.955, f"{number}. {PAGE_TITLES[number - 1]}", fontsize=16, weight="bold")
    figure.text(
        0.96,
        0.96,
        f"campaign-sim strategy report - {summary['title']}",
        fontsize=8,
        ha="right",
        color="#555555",
    )
    return figure


def _text(
    figure: plt.Figure,
    lines: list[str],
    *,
    top: float = 0.89,
    left: float = 0.05,
    size: float = 9.5,
    right: float = 0.97,
) -> None:
    # characters that fit between left and right: DejaVu Sans Mono advances 0.6 em
    width = int((PAGE[0] * (right - left)) * 72 / (0.6 * size))
    wrapped = [w for line in lines for w in (textwrap.wrap(line, width, subsequent_indent="    ") or [""])]
    figure.text(
        left, top, "\n".join(wrapped), fontsize=size, va="top", family="DejaVu Sans Mono", linespacing=1.45
    )


def _interval(value: dict[str, float], *, signed: bool = False, digits: int = 3) -> str:
    """mean [low, high] with enough decimals to resolve the interval (small rates keep their
    digits: 0.0123 [0.0101, 0.0145], never 0.01 [0.01, 0.01])."""
    width = abs(value["high"] - value["low"]) or abs(value["mean"])
    decimals = max(digits, min(8, 1 - math.floor(math.log10(width)))) if width > 0 else digits
    fmt = f"{{:{'+' if signed else ''},.{decimals}f}}"
    return f"{fmt.format(value['mean'])} [{fmt.format(value['low'])}, {fmt.format(value['high'])}]"


def _executive(summary: ReportSummary) -> plt.Figure:
    figure = _page(1, summary)
    if summary.get("safety"):
        draw_executive(figure, summary["safety"], simulated=summary["recommended"])
        return figure
    head, verdict = summary["headline"], summary["verdict"]
    colour = "#009E73" if verdict["verdict"] == "GO" else "#D55E00"
    figure.text(0.05, 0.86, f"Verdict: {verdict['verdict']}", fontsize=22, weight="bold", color=colour)
    figure.text(
        0.05,
        0.82,
        f"Recommended policy: {summary['recommended']}   (baseline: {summary['baseline']})",
        fontsize=12,
    )
    domain = summary.get("domain", {"discounts": True, "unsubscribes": True})
    lines = [
        f"Values are per customer over the {summary['horizon']}-period campaign, simulated "
        f"{summary['evaluated_where']} on {summary['shoppers']:,} customers x {summary['seeds']} training "
        "seed(s); [..] = 95% interval.",
        "",
        f"Expected profit per customer, recommended     {_interval(head['profit'])}",
        f"Expected profit per customer, baseline        {_interval(head['baseline_profit'])}",
        f"Difference (paired, same customers)           {_interval(head['difference'], signed=True)}",
        f"Total for {head['population']:,} customers: {head['total_profit']:,.0f} vs "
        f"{head['baseline_total']:,.0f} ({head['total_difference']:+,.0f})",
        "",
    ]
    if domain["discounts"]:
        lines += [
            f"Discount spend per customer   {head['discount_cost']:,.3f}   (baseline {head['baseline_discount_cost']:,.3f})",
            f"Contact cost per customer     {head['contact_cost']:,.3f}   (baseline {head['baseline_contact_cost']:,.3f})",
            f"Return on spend (ROI)         {head['roi']:,.2f}   = profit / (discount spend + contact cost)",
        ]
    else:  # no discounts in this campaign: its only spend is contacting
        lines.append(
            f"Contact cost per customer     {head['contact_cost']:,.3f}   (baseline {head['baseline_contact_cost']:,.3f})"
        )
    if domain["unsubscribes"]:  # never a line built from the prior rate alone
        lines.append(
            f"Unsubscribes per customer     {head['unsubscribes']:.4f}   (baseline {head['baseline_unsubscribes']:.4f})"
        )
    lines += [
        "",
        f"Why (the baseline is {summary['baseline']}: business-as-usual where known, else the config's "
        "first rule, else the logged policy):",
        *[f"  - {reason}" for reason in verdict["reasons"]],
    ]
    _text(figure, lines, top=0.77)
    return figure


def _comparison(summary: ReportSummary) -> plt.Figure:
    figure = _page(2, summary)
    ax = figure.add_axes((0.22, 0.40, 0.72, 0.50))
    plot_policy_values(summary["policies"], ax=ax)
    places = list(dict.fromkeys(r["where"] for r in summary["policies"]))
    table: dict[str, dict[str, str]] = {}
    for row in summary["policies"]:
        table.setdefault(row["policy"], {})[row["where"]] = _interval(row, digits=2)
    header = f"{'policy':<30}" + "".join(f"{p:<28}" for p in places)
    lines = ["Expected profit per customer over the campaign [95% interval]:", header] + [
        f"{name[:29]:<30}" + "".join(f"{cells.get(p, '-'):<28}" for p in places)
        for name, cells in table.items()
    ]
    ess = [f"{r['policy']}: {r['off_policy']}" for r in summary["policies"] if r.get("off_policy")]
    if ess:
        lines += [
            "",
            "off-policy (gate estimator, effective logged campaigns): " + "; ".join(dict.fromkeys(ess)),
        ]
    _text(figure, lines[:19], top=0.31, size=7.5)
    return figure


def _strategy(summary: ReportSummary) -> plt.Figure:
    figure = _page(3, summary)
    strategy = summary["strategy"]
    plot_action_mix(strategy["mix"], ax=figure.add_axes((0.12, 0.56, 0.80, 0.32)))
    plot_lines(
        strategy["contact_rate"],
        xlabel="campaign period",
        ylabel="share of customers contacted",
        title="Contact frequency over the horizon",
        ax=figure.add_axes((0.07, 0.07, 0.38, 0.28)),
    )
    plot_lines(
        strategy["cumulative_spend"],
        xlabel="campaign period",
        ylabel="cumulative spend per customer (currency units)",
        title="Budget spend: discounts + contact costs",
        ax=figure.add_axes((0.56, 0.07, 0.38, 0.28)),
    )
    return figure


def _copy(summary: ReportSummary) -> plt.Figure:
    figure = _page(4, summary)
    rows = summary["copy"]["top"]
    fidelity = summary["evidence"].get("fidelity")
    if not rows and fidelity and fidelity.get("arms"):
        _logged_copies(figure, fidelity, summary.get("domain", {}).get("outcome_names", {}))
        return figure
    if not rows:
        _text(figure, ["No copy scores: the world was fitted without a copy library."])
        return figure
    plot_copy_ranking(rows, ax=figure.add_axes((0.30, 0.45, 0.64, 0.45)))
    lines = [
        f"Copy library: {summary['copy']['library']} ({summary['copy']['copies']} copies, generator {summary['copy']['generator']})"
    ]
    for r in rows:
        text = r["text"].replace("\n", " / ")
        lines.append(f"{r['group']} #{r['rank']} {r['copy_id']}: {text}")
    _text(figure, lines, top=0.36, size=7)
    return figure


def _logged_copies(figure: plt.Figure, fidelity: dict[str, Any], names: dict[str, str]) -> None:
    """Without a copy library: what each logged arm (copy) did on held-out customers."""
    outcome = fidelity.get("outcomes", ["visit"])[0]
    said = names.get(outcome, outcome)  # the log's own word for it
    arms = fidelity["arms"]
    plot_arm_agreement(arms, outcome=outcome, ax=figure.add_axes((0.25, 0.45, 0.55, 0.42)))
    base = next((a for a in arms if a["label"].startswith("none")), None)
    lines = [
        f"No copy library: the logged copies' effects instead. {said} per decision on held-out customers, "
        "observed (95% interval) and the fitted world's prediction."
    ]
    if base is not None:
        half = _half_width(base[outcome]["ci95"])
        lines.append(f"Against no contact ({base[outcome]['observed']:.4f}, {base['rows']:,} customers):")
        for arm in sorted(arms, key=lambda a: -a[outcome]["observed"]):
            if arm is base:
                continue
            other = _half_width(arm[outcome]["ci95"])
            lift = arm[outcome]["observed"] - base[outcome]["observed"]
            margin = math.hypot(half, other)  # independent groups: the half-widths add in quadrature
            lines.append(
                f"  {arm['label']:<24} {lift:+.4f} [{lift - margin:+.4f}, {lift + margin:+.4f}]  "
                f"({arm['rows']:,} customers)"
            )
    _text(figure, lines, top=0.36, size=8)


def _half_width(ci: list[float | None]) -> float:
    """Half the interval's width; NaN when a bound is unbounded (saved as null)."""
    return (ci[1] - ci[0]) / 2 if None not in ci else math.nan


def _risk(summary: ReportSummary) -> plt.Figure:
    figure = _page(5, summary)
    risk = summary["risk"]
    plot_profit_distribution(risk, ax=figure.add_axes((0.08, 0.30, 0.86, 0.58)))
    lines = [
        f"{risk['campaigns']:,} campaigns of {risk['campaign_shoppers']:,} customers, resampled from the simulated customers "
        f"(seed {risk['seed']}). CVaR(5%) = mean profit of the worst 5% of campaigns.",
        *[
            f"{name:<24} mean {risk['mean'][name]:>12,.0f}   CVaR(5%) {risk['cvar5'][name]:>12,.0f}   "
            f"P(loss vs baseline) {risk['p_worse_than_baseline'].get(name, 0.0):.1%}"
            for name in risk["samples"]
        ],
    ]
    _text(figure, lines, top=0.20, size=8)
    return figure


def _evidence(summary: ReportSummary) -> plt.Figure:
    figure = _page(6, summary)
    evidence = summary["evidence"]
    fidelity = evidence.get("fidelity")
    if fidelity:
        plot_calibration(
            fidelity["heads"]["visit"], name="visit", ax=figure.add_axes((0.06, 0.52, 0.25, 0.34))
        )
        plot_arm_agreement(fidelity["arms"], outcome="visit", ax=figure.add_axes((0.47, 0.52, 0.20, 0.34)))
    plot_learning_curves(evidence["learning_curves"], ax=figure.add_axes((0.75, 0.52, 0.22, 0.34)))
    lines = ["Off-policy evaluation on the logged history:"]
    ope = evidence.get("ope")
    lines += (
        [f"  {k}: {v}" for k, v in ope.items()]
        if ope
        else ["  not run for this policy: sequential agents are checked in simulation only (see page 1)."]
    )
    if fidelity:
        lines.append("Simulator fidelity on held-out customers (log-loss: model vs truth vs constant; ECE):")
        for name, head in fidelity["heads"].items():
            truth = f"{head['true_log_loss']:.4f}" if head.get("true_log_loss") is not None else "n/a"
            lines.append(
                f"  {name:<24} {head['log_loss']:.4f} vs {truth} vs {head['baseline_log_loss']:.4f}; ECE {head['ece']:.4f}"
            )
    _text(figure, lines, top=0.40, size=8)
    return figure


def _data(summary: ReportSummary) -> plt.Figure:
    figure = _page(7, summary)
    data = summary["data"]
    lines = [
        f"Log: {data['source']}",
        f"  {data['rows']:,} decisions, {data['customers']:,} customers, {data['periods']} periods; "
        f"contacted {data['contact_share']:.1%}; visit {data['visit_rate']:.3f}, conversion {data['conversion_rate']:.4f} per decision",
        "",
        "Assumptions:",
        *[f"  - {a}" for a in summary["assumptions"]],
        "",
        "Config (resolved):",
        *[f"  {line}" for line in summary["config_toml"].splitlines()[:40]],
    ]
    support = summary.get("support")
    _text(figure, lines, size=7, right=0.55 if support else 0.97)
    if support:
        plot_support(support, ax=figure.add_axes((0.66, 0.12, 0.24, 0.74)))
    return figure
