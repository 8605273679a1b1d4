"""Close the loop: the pilot's decisions join the history, the world is refitted and the
recommendation rerun (``campaign-sim pilot learn RUN --history LOG --pilot-log FILE --out NEW``).

The pilot log is the pilot period exported in the history's own format. Each row's propensity is
replaced by its design probability from the assignment (the randomisation, not a model), so the
refit and the off-policy gate see the pilot as what it is: randomised evidence on the cells the
history left thin. A row whose sent action differs from the assignment is left out (its
probability is unknown), and counted. The recommendation before (the history alone) and after
(history and pilot) are computed with the same seed and saved side by side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.core.config import CampaignConfig, DataMapping
from campaign_sim.core.errors import DataError, InputError
from campaign_sim.core.jsonio import dumps_json, read_json
from campaign_sim.core.runs import RunDir
from campaign_sim.data import schema as S
from campaign_sim.data.bandit import flat_action_index, flat_action_labels
from campaign_sim.data.log import CampaignLog, load_log
from campaign_sim.workflows.fit import run_fit
from campaign_sim.workflows.pilot import ASSIGNMENT_FILE
from campaign_sim.workflows.safety_evidence import run_recommend, safety_evidence

LEARNED_FILE, JOINED_LOG = "learned.json", "history_with_pilot.parquet"


@dataclass(frozen=True)
class Recommendation:
    """What the safe-improvement pipeline said: the policy, GO / NO-GO and the gate's evidence."""

    recommended: str
    verdict: str
    gain: float  # per customer over the log's periods, estimated on the gate customers
    low: float
    high: float
    estimable: bool
    text: str

    @classmethod
    def of(cls, safety: dict[str, Any]) -> Recommendation:
        gate = safety["gate"]
        return cls(
            safety["recommended"],
            safety["verdict"],
            float(gate["mean"]),
            float(gate["low"]),
            float(gate["high"]),
            bool(gate["estimable"]),
            str(gate["text"]),
        )


@dataclass(frozen=True)
class PilotLearning:
    history_rows: int
    pilot_rows: int  # joined, with their design probabilities
    left_out: int  # pilot rows whose sent action was not the assigned one
    joined_log: str
    before: Recommendation
    after: Recommendation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [
            f"joined {self.pilot_rows:,} pilot decisions (design probabilities from the assignment) to "
            f"{self.history_rows:,} logged decisions -> {self.joined_log}"
        ]
        if self.left_out:
            out.append(f"left out {self.left_out:,} pilot rows whose sent action was not the assigned one")
        for name, r in (("before the pilot", self.before), ("after the pilot", self.after)):
            out.append(f"{name}: {r.verdict} {r.recommended}; {r.text}")
        changed = (self.before.recommended, self.before.verdict) != (
            self.after.recommended,
            self.after.verdict,
        )
        out.append("the recommendation changed" if changed else "the recommendation did not change")
        return out


@dataclass(frozen=True)
class JoinedHistory:
    """The history and the pilot in one canonical log, and the config that reads it."""

    path: Path
    config: CampaignConfig
    history_rows: int
    pilot_rows: int
    left_out: int
    customers: int  # in the history


def join_pilot(run_dir: str | Path, *, history: str | Path, pilot_log: str | Path) -> JoinedHistory:
    """Write RUN/pilot/history_with_pilot.parquet: the history plus the pilot rows sent as assigned."""
    run = RunDir(Path(run_dir))
    folder = run.root / "pilot"
    if not (folder / ASSIGNMENT_FILE).exists():
        raise InputError(
            f"{folder / ASSIGNMENT_FILE}: no pilot assignment (run `campaign-sim pilot plan` first)"
        )
    config = run.load_config()
    assignment = pl.read_csv(folder / ASSIGNMENT_FILE, schema_overrides={S.CUSTOMER_ID: pl.String})
    past, pilot = load_log(history, config), load_log(pilot_log, config)
    designed, left_out = _with_design_probabilities(pilot, assignment, config)
    joined = _joined(past, designed, file=str(pilot_log))
    path = folder / JOINED_LOG
    with atomic_path(path) as tmp:
        joined.write_parquet(tmp)
    customers = past.frame.get_column(S.CUSTOMER_ID).n_unique()
    return JoinedHistory(
        path, _canonical_config(config, past), past.frame.height, designed.height, left_out, customers
    )


def learn_from_pilot(
    run_dir: str | Path, *, history: str | Path, pilot_log: str | Path, out: str | Path, seed: int
) -> PilotLearning:
    """Join, refit into ``out``, recommend before and after; writes RUN/pilot/learned.json."""
    joined = join_pilot(run_dir, history=history, pilot_log=pilot_log)
    before, _ = run_recommend(history, RunDir(Path(run_dir)).load_config(), seed=seed)
    run_fit(joined.path, joined.config, out=out, seed=seed)
    _, saved = run_recommend(joined.path, joined.config, seed=seed, out=out)
    learning = PilotLearning(
        joined.history_rows,
        joined.pilot_rows,
        joined.left_out,
        str(joined.path),
        Recommendation.of(safety_evidence(before, population=joined.customers, seed=seed).to_dict()),
        Recommendation.of(read_json(saved)),
    )
    write_text_atomic(Path(run_dir) / "pilot" / LEARNED_FILE, dumps_json(learning.to_dict()))
    return learning


def _with_design_probabilities(
    pilot: CampaignLog, assignment: pl.DataFrame, config: CampaignConfig
) -> tuple[pl.DataFrame, int]:
    """The pilot rows of assigned customers whose sent action is the assigned one, with the
    assignment's design probability as their propensity; and how many rows were left out."""
    frame = pilot.frame.with_columns(pl.col(S.CUSTOMER_ID).cast(pl.String))
    frame = frame.with_columns(
        pl.Series("_sent", np.asarray(flat_action_labels(config))[flat_action_index(frame, config)])
    )
    stranger = frame.select(
        ~pl.col(S.CUSTOMER_ID).is_in(assignment.get_column(S.CUSTOMER_ID).implode())
    ).to_series()
    if stranger.any():
        row = int(stranger.arg_true()[0]) + 1
        raise DataError(
            "customer not in the pilot's assignment",
            file=pilot.source,
            column=S.CUSTOMER_ID,
            row=row,
            expected="a customer_id of assignment.csv",
        )
    design = assignment.select(
        S.CUSTOMER_ID, pl.col("action").alias("_assigned"), pl.col(S.PROPENSITY).alias("_design")
    )
    frame = frame.join(design, on=S.CUSTOMER_ID, how="left")
    kept = frame.filter(pl.col("_sent") == pl.col("_assigned"))
    kept = kept.with_columns(pl.col("_design").alias(S.PROPENSITY)).drop("_sent", "_assigned", "_design")
    return kept, frame.height - kept.height


def _joined(past: CampaignLog, pilot: pl.DataFrame, *, file: str) -> pl.DataFrame:
    """History and pilot in one canonical frame. A single-period history gets the pilot rows as
    new customers (``pilot:ID``, same period); a multi-period one as a later period of the same
    customers, which must not repeat a logged (customer, period)."""
    history = past.frame.with_columns(pl.col(S.CUSTOMER_ID).cast(pl.String))
    if history.get_column(S.PERIOD).n_unique() == 1:
        pilot = pilot.with_columns(pl.lit("pilot:") + pl.col(S.CUSTOMER_ID))
    else:
        seen = history.select(S.CUSTOMER_ID, S.PERIOD).with_columns(pl.lit(True).alias("_seen"))
        clash = (
            pilot.join(seen, on=[S.CUSTOMER_ID, S.PERIOD], how="left").get_column("_seen").fill_null(False)
        )
        if clash.any():
            raise DataError(
                "this customer's period is already in the history",
                file=file,
                column=S.PERIOD,
                row=int(clash.arg_true()[0]) + 1,
                expected="the pilot's period, after the history's last",
            )
    if S.PROPENSITY not in history.columns:
        raise InputError(f"{past.source}: the history has no propensities; the pilot cannot join it")
    columns = [c for c in history.columns if c in pilot.columns]
    return pl.concat([history.select(columns), pilot.select(columns)], how="vertical_relaxed")


def _canonical_config(config: CampaignConfig, log: CampaignLog) -> CampaignConfig:
    """The config reading the joined log, which is already in canonical columns."""
    data = DataMapping(features=log.features, categorical=log.categorical)
    library = config.actions.copy_library
    if library and not Path(library).is_absolute():  # it is read beside the log: the history's
        library = str((Path(log.source).parent / library).resolve())
    return replace(config, data=data, actions=replace(config.actions, copy_library=library))
