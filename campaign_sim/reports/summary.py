"""What a report's ``summary.json`` holds: the contract between ``workflows/report.py``, which
gathers every number, and ``render.py``, which draws it (and rebuilds from the saved file, so
these are JSON shapes: TypedDicts, not classes). Parts one page alone reads stay
``dict[str, Any]`` and are described where they are built.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class IntervalJSON(TypedDict):
    """A mean and its 95% interval."""

    mean: float
    low: float
    high: float


class Verdict(TypedDict):
    verdict: str  # "GO" or "NO-GO"
    reasons: list[str]  # one line each, in the order a reader checks them
    basis: str  # what decided: the simulated difference, the off-policy gate, the held-out gate
    launch: NotRequired[str]  # with a held-out gate: what to launch


class Headline(TypedDict):
    """The recommended policy against the baseline, per customer and over the population."""

    profit: IntervalJSON
    baseline_profit: IntervalJSON
    difference: IntervalJSON
    population: int
    total_profit: float
    baseline_total: float
    total_difference: float
    discount_cost: float
    baseline_discount_cost: float
    contact_cost: float
    baseline_contact_cost: float
    roi: float
    unsubscribes: float
    baseline_unsubscribes: float


class PolicyRow(TypedDict):
    """One bar of the comparison page: a policy's value where it was measured."""

    policy: str
    where: str  # "simulated: fitted world", "simulated: true world", "off-policy: logged history"
    mean: float
    low: float
    high: float
    off_policy: NotRequired[str]  # the gate estimator's estimate, when the log was replayed


class Evidence(TypedDict):
    fidelity: dict[str, Any] | None  # fidelity.json of the world
    learning_curves: dict[str, Any]
    ope: dict[str, str] | None  # label -> text of the off-policy check


class ReportSummary(TypedDict):
    title: str
    domain: dict[str, Any]  # what the log can speak about (discounts, unsubscribes, copies, names)
    seed: int
    recommended: str
    baseline: str
    evaluated_where: str
    horizon: int
    shoppers: int
    seeds: int
    verdict: Verdict
    safety: dict[str, Any] | None  # safety.json of `recommend`, when run
    headline: Headline
    policies: list[PolicyRow]
    strategy: dict[str, Any]  # contact mix by profile and cumulative spend (workflows/strategy.py)
    copy: dict[str, Any]
    pilot: dict[str, Any] | None  # after `pilot plan`
    risk: dict[str, Any]
    evidence: Evidence
    data: dict[str, Any]
    support: dict[str, Any] | None
    assumptions: list[str]
    config_toml: str
