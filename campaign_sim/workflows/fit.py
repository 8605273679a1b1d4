"""`campaign-sim fit`: log in, fitted world + fidelity report (JSON + PNG) out."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from campaign_sim.core.atomic import swap_dir, write_text_atomic
from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import InputError
from campaign_sim.core.jsonio import dumps_json
from campaign_sim.core.run_lock import run_lock
from campaign_sim.core.runs import RunDir, check_run_root, create_run
from campaign_sim.data import schema as S
from campaign_sim.data.bandit import flat_action_labels
from campaign_sim.data.buckets import Bucket
from campaign_sim.data.copies import load_copy_embeddings
from campaign_sim.data.log import CampaignLog, load_log
from campaign_sim.data.text import HashingEncoder, TextEncoder
from campaign_sim.reports.fidelity_plots import fidelity_figure
from campaign_sim.reports.style import save_png
from campaign_sim.simulators.fitted.fidelity import fidelity_report
from campaign_sim.simulators.fitted.fit import FitResult, fit_world
from campaign_sim.simulators.fitted.world import MIN_SUPPORT, FittedWorld
from campaign_sim.workflows.log_buckets import buckets_of, count_other_buckets

TRUTH_FILE = "truth.parquet"  # written beside a generated log by `data generate`


@dataclass(frozen=True)
class FitSummary:
    """What `fit` wrote and the fidelity figures it prints."""

    world_dir: Path
    fidelity: dict[str, Any]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"fitted world written to {self.world_dir} in {self.seconds:.1f} s"]
        outcomes = self.fidelity.get("outcomes", [S.VISIT, S.CONVERSION, S.REVENUE])
        for name, head in self.fidelity["heads"].items():
            if name.startswith(S.CONVERSION) and S.CONVERSION not in outcomes:
                continue  # the log's one outcome is the visit head
            line = (
                f"  {name:<23} log-loss {head['log_loss']:.4f} (constant {head['baseline_log_loss']:.4f}"
                f"{', truth ' + format(head['true_log_loss'], '.4f') if 'true_log_loss' in head else ''})"
                f"  AUC {_fmt(head['auc'])}  ECE {head['ece']:.4f}"
            )
            out.append(line)
        arms = [a for a in self.fidelity["arms"] if a["rows"] >= MIN_SUPPORT]
        inside = sum(a[o]["inside"] for a in arms for o in outcomes)
        out.append(
            f"  per-arm KPIs (arms with >= {MIN_SUPPORT} held-out rows; {', '.join(outcomes)}) inside the "
            f"observed 95% interval: {inside} of {len(outcomes) * len(arms)}"
        )
        support = self.fidelity["support"]
        out.append(
            f"  actions with support (>= {MIN_SUPPORT} logged rows): {support['supported']} of "
            f"{support['actions']}; unsupported ones are extrapolated: {support['unsupported'][:5]}"
            f"{' ...' if len(support['unsupported']) > 5 else ''}"
        )
        groups = support.get("groups", {})
        if groups:
            cells = support["actions"] * len(groups)
            decided = sum(g["cells_with_100_decisions"] for g in groups.values())
            bought = sum(g["cells_with_10_purchases"] for g in groups.values())
            out.append(
                f"  support counted from the log: {len(groups)} context groups x {support['actions']} "
                "actions; "
                f"cells with >= 100 logged decisions: {decided} of {cells}, with >= 10 purchases: {bought}"
            )
            for name, g in list(groups.items())[:40]:
                out.append(
                    f"    {name:<50} {g['decisions']:>8,} decisions {g['purchases']:>6,} purchases  "
                    f"actions with >= 100 decisions: {g['cells_with_100_decisions']}"
                )
        out.append(f"  simulated population: {self.fidelity['population']}")
        out += [f"  assumption: {a}" for a in self.fidelity["assumptions"]]
        return out


def run_fit(
    logs: str | Path,
    config: CampaignConfig,
    *,
    out: str | Path,
    seed: int | None = None,
    encoder: TextEncoder | None = None,
    on_progress: Callable[[int, int, float], None] | None = None,
    force: bool = False,
    ray: str | None = None,
) -> FitSummary:
    """Fit a world on ``logs`` into ``out``/world and write its fidelity report. The run directory
    is created only once the fit succeeded: a log that cannot be fitted leaves nothing behind.
    An existing world is replaced only with ``force``, whole (see ``swap_dir``). With ``ray``
    (``auto`` or HOST:PORT) the ensemble members train as Ray tasks: the same world, bit for bit."""
    runner = None
    if ray is not None:
        from campaign_sim.workflows.ray_runner import check_ray, members_on_ray

        check_ray(ray)
        runner = members_on_ray(ray)
    root = check_run_root(out)
    with run_lock(root):
        if (RunDir(root).world / "world.json").exists() and not force:
            raise InputError(
                f"{RunDir(root).world}: a fitted world is already there; pass --force to replace it "
                "(agents trained in it will then face a different world)"
            )
        seed = config.seed if seed is None else seed
        buckets = buckets_of(logs, config, seed=seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            log = load_log(logs, config, bucket=Bucket(buckets, 0) if buckets else None)
            embeddings = _copy_embeddings(log, encoder or HashingEncoder())
            result = fit_world(
                log, copy_embeddings=embeddings, seed=seed, on_progress=on_progress, member_runner=runner
            )
            if buckets is not None:
                result = replace(result, world=count_other_buckets(result.world, logs, config, buckets))
        run = create_run(out, config)
        # The world, its fidelity and figure are written into a staging directory that then replaces
        # run/world whole: a kill leaves the old world or the new one, never a mix.
        with swap_dir(run.world) as staging:
            # Fidelity is scored on the world as later commands will load it, not the in-memory one:
            # a save that changed any prediction shows up here.
            world = FittedWorld.load(result.world.save(staging))
            report = held_out_fidelity(result, log, world=world, truth=_truth_beside(log))
            report["assumptions"] = world.metadata["assumptions"]
            report["population"] = world.metadata["population"]
            report["outcomes"] = distinct_outcomes(log.frame)
            world.metadata["fidelity"] = {
                name: {k: v for k, v in head.items() if k != "calibration"}
                for name, head in report["heads"].items()
            }
            world.save(staging)
            write_text_atomic(staging / "fidelity.json", dumps_json(report))
            save_png(fidelity_figure(report), staging / "fidelity.png")
        return FitSummary(run.world, report, result.seconds, [str(w.message) for w in caught])


def distinct_outcomes(frame: pl.DataFrame) -> list[str]:
    """The outcomes the log tells apart: one outcome mapped to visit and conversion counts once,
    and revenue only when it is more than conversion x a constant (value_per_conversion)."""
    out = [S.VISIT]
    if not frame.get_column(S.CONVERSION).equals(frame.get_column(S.VISIT)):
        out.append(S.CONVERSION)
    revenue = frame.filter(pl.col(S.CONVERSION) > 0).get_column(S.REVENUE)
    if revenue.n_unique() > 1:
        out.append(S.REVENUE)
    return out


def held_out_fidelity(
    result: FitResult, log: CampaignLog, *, world: FittedWorld, truth: pl.DataFrame | None
) -> dict[str, Any]:
    """Fidelity of ``world`` on the customers held out of fitting (the test split; the validation
    split, which early stopping saw, when world.test_share is 0), encoded by ``world`` itself."""
    test = result.split.test if result.split.test.size else result.split.valid
    held_out = log.frame[test]
    encoding = world.encoding
    response = world.predict(
        encoding.shopper_matrix(held_out), encoding.state_matrix(held_out), result.actions[test]
    )
    train = log.frame[result.split.train]
    visits = max(int(train.get_column(S.VISIT).sum()), 1)
    rates = {
        "visit": train.get_column(S.VISIT).mean(),
        "conversion": train.get_column(S.CONVERSION).mean(),
        "conversion_given_visit": train.get_column(S.CONVERSION).sum() / visits,
    }
    if S.UNSUBSCRIBE in train.columns:
        contacted = train.filter(pl.col(S.CHANNEL) != "none")
        rates["unsubscribe"] = contacted.get_column(S.UNSUBSCRIBE).mean() if contacted.height else 0.0
    report = fidelity_report(
        log.frame[test],
        response,
        result.actions[test],
        labels=flat_action_labels(log.config),
        train_rates=rates,
        truth=truth[test] if truth is not None else None,
    )
    report["scored_on"] = (
        "test customers" if result.split.test.size else "validation customers (test_share = 0)"
    )
    labels = flat_action_labels(log.config)
    effective = [i for i in range(len(labels)) if _is_effective(log.config, i)]
    report["support"] = {
        "actions": len(effective),
        "supported": int(world.supported[effective].sum()),
        "unsupported": [labels[i] for i in effective if not world.supported[i]],
        "rows_per_action": {labels[i]: int(world.support[i]) for i in effective},
    }
    table = world.support_table
    if table is not None:
        report["support"]["groups"] = {
            name: {
                "decisions": int(table.decisions[g, effective].sum()),
                "purchases": int(table.purchases[g, effective].sum()),
                "cells_with_100_decisions": int((table.decisions[g, effective] >= 100).sum()),
                "cells_with_10_purchases": int((table.purchases[g, effective] >= 10).sum()),
            }
            for g, name in enumerate(table.group_names())
        }
    return report


def _is_effective(config: CampaignConfig, flat: int) -> bool:
    """Flat actions with channel "none" other than 0 are the same action as 0: not listed."""
    channel = config.actions.unravel(flat)[1]
    return channel > 0 or flat == 0


def _copy_embeddings(log: CampaignLog, encoder: TextEncoder) -> dict[str, np.ndarray] | None:
    library = log.config.actions.copy_library
    if not library:
        return None
    path = Path(library) if Path(library).is_absolute() else Path(log.source).parent / library
    return load_copy_embeddings(path, encoder=encoder)


def _truth_beside(log: CampaignLog) -> pl.DataFrame | None:
    """The generator's per-row truth, when it sits beside the log and lines up with it."""
    path = Path(log.source).parent / TRUTH_FILE
    if not path.exists():
        return None
    scanned = pl.scan_parquet(path)
    if scanned.select(pl.len()).collect().item() > log.frame.height:  # a customer sample's rows
        id_type = scanned.collect_schema()[S.CUSTOMER_ID]
        keys = log.frame.lazy().select(pl.col(S.CUSTOMER_ID).cast(id_type), S.PERIOD)
        scanned = scanned.join(keys, on=[S.CUSTOMER_ID, S.PERIOD], how="semi", maintain_order="left")
    truth = scanned.collect()
    same = truth.height == log.frame.height and truth.select(S.CUSTOMER_ID, S.PERIOD).equals(
        log.frame.select(pl.col(S.CUSTOMER_ID).cast(truth.schema[S.CUSTOMER_ID]), S.PERIOD)
    )
    return truth if same else None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
