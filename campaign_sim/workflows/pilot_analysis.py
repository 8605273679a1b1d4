"""Read a pilot's results (``campaign-sim pilot analyze RUN --results FILE``) as they come in.

Per arm, against its group's control (business-as-usual): the mean of one inverse-propensity
term per pilot customer with results, 1[arm]·profit/p − 1[control]·profit/p, with the
always-valid interval of ``ope.confidence_sequences`` at α / (number of arms) — so looking every
day, and stopping when an arm clears zero, keeps the false-winner rate at α. Before MIN_EVENTS
purchases an arm's effect is "not yet estimable".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.errors import DataError, InputError
from campaign_sim.core.jsonio import dumps_json, read_json
from campaign_sim.core.run_lock import run_lock
from campaign_sim.core.runs import RunDir
from campaign_sim.data import schema as S
from campaign_sim.data.loaders import check_readable, collect
from campaign_sim.ope.confidence_sequences import sequential_interval
from campaign_sim.workflows.pilot import ANALYSIS_FILE, ARM_SHARE, ASSIGNMENT_FILE, CONTROL, PLAN_FILE

PROFIT = "profit"


@dataclass(frozen=True)
class ArmResult:
    group: str
    arm: str
    customers: int  # on this arm, with results
    control: int  # the group's control customers with results
    effect: float  # profit per customer over business-as-usual
    low: float  # always-valid interval (inf: not yet estimable)
    high: float
    fixed_low: float  # valid only if looked at once, at the planned end
    fixed_high: float
    verdict: str


@dataclass(frozen=True)
class PilotAnalysis:
    results: str
    alpha: float
    arms: tuple[ArmResult, ...]

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"pilot results from {self.results}: effect per customer over business-as-usual, always-valid "
            f"{1 - self.alpha:.0%} intervals (valid at every look; Bonferroni over {len(self.arms)} arms)"
        ]
        for a in self.arms:
            interval = f"[{a.low:+.3f}, {a.high:+.3f}]" if np.isfinite(a.low) else "[not yet estimable]"
            out.append(
                f"  {a.group}: {a.arm:<28} {a.effect:+.3f} {interval}  ({a.customers:,} vs {a.control:,} "
                f"control) -> {a.verdict}"
            )
        return out


def analyze_pilot(run_dir: str | Path, results: str | Path) -> PilotAnalysis:
    run = RunDir(Path(run_dir))
    folder = run.root / "pilot"
    if not (folder / PLAN_FILE).exists():
        raise InputError(
            f"{folder / PLAN_FILE}: no pilot plan (run `campaign-sim pilot plan {run.root}` first)"
        )
    with run_lock(run.root):
        plan = read_json(folder / PLAN_FILE)
        assignment = pl.read_csv(folder / ASSIGNMENT_FILE, schema_overrides={S.CUSTOMER_ID: pl.String})
        joined = _joined(assignment, Path(results))
        alpha = float(plan["settings"]["alpha"]) / max(len(plan["arms"]), 1)
        planned = {g["group"]: int(g["pilot"]) for g in plan["groups"]}
        arms = tuple(
            _arm_result(joined, a["group"], a["label"], alpha, planned[a["group"]]) for a in plan["arms"]
        )
        analysis = PilotAnalysis(str(results), float(plan["settings"]["alpha"]), arms)
        write_text_atomic(folder / ANALYSIS_FILE, dumps_json(analysis.to_dict()))
    return analysis


def _joined(assignment: pl.DataFrame, path: Path) -> pl.DataFrame:
    """The results joined to the assignment; every row checked, errors naming file, column, row."""
    frame = collect(check_readable(path), lambda lf: lf)
    for column in (S.CUSTOMER_ID, PROFIT):
        if column not in frame.columns:
            raise DataError(
                "required column is missing", file=str(path), column=column, expected="customer_id, profit"
            )
    frame = frame.with_columns(
        pl.col(S.CUSTOMER_ID).cast(pl.String), pl.col(PROFIT).cast(pl.Float64, strict=False)
    )
    checks = [
        (
            pl.col(PROFIT).is_null() | ~pl.col(PROFIT).is_finite(),
            PROFIT,
            "not a finite number",
            "profit per customer",
        ),
        (
            ~pl.col(S.CUSTOMER_ID).is_in(assignment.get_column(S.CUSTOMER_ID).implode()),
            S.CUSTOMER_ID,
            "customer not in the pilot's assignment",
            "a customer_id of assignment.csv",
        ),
        (
            ~pl.col(S.CUSTOMER_ID).is_first_distinct(),  # the second listing is the bad row
            S.CUSTOMER_ID,
            "customer listed twice",
            "one result per customer",
        ),
    ]
    for bad, column, problem, expected in checks:
        rows = frame.select(bad.fill_null(True).arg_true()).to_series()
        if rows.len():
            raise DataError(problem, file=str(path), column=column, row=int(rows[0]) + 1, expected=expected)
    return assignment.join(frame.select(S.CUSTOMER_ID, PROFIT), on=S.CUSTOMER_ID, how="inner")


def _arm_result(joined: pl.DataFrame, group: str, arm: str, alpha: float, planned: int) -> ArmResult:
    rows = joined.filter(pl.col("group") == group)
    y, p = rows.get_column(PROFIT).to_numpy(), rows.get_column(ARM_SHARE).to_numpy()
    on_arm, on_control = (
        (rows.get_column("arm") == arm).to_numpy(),
        (rows.get_column("arm") == CONTROL).to_numpy(),
    )
    terms = np.where(on_arm, y / p, 0.0) - np.where(on_control, y / p, 0.0)
    # a purchase is the only positive profit (a contact alone costs): count those, not the costs
    purchases = (on_arm | on_control) & (y > 0)
    interval = sequential_interval(terms, alpha=alpha, planned=max(planned, 2), events=purchases)
    if not interval.shown:
        verdict = "not yet estimable (too few purchases)"
    elif interval.low > 0:
        verdict = "better than business-as-usual"
    elif interval.high < 0:
        verdict = "worse than business-as-usual"
    else:
        verdict = "undecided: keep going or stop"
    return ArmResult(
        group,
        arm,
        int(on_arm.sum()),
        int(on_control.sum()),
        interval.mean,
        interval.low,
        interval.high,
        interval.fixed_low,
        interval.fixed_high,
        verdict,
    )
