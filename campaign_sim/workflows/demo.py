"""The demo pipeline: synthetic history -> fitted world -> copy library -> agents and
baselines -> strategy report, plus the real Hillstrom RCT through its adapter."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.describe import describe_log
from campaign_sim.data.log import load_log
from campaign_sim.workflows.copywriting import (
    DEFAULT_PROFILES,
    copy_requests,
    run_copy_generate,
    run_copy_score,
)
from campaign_sim.workflows.fit import run_fit
from campaign_sim.workflows.generate import run_generate
from campaign_sim.workflows.report import run_report
from campaign_sim.workflows.train import TrainRequest, run_train

DEMO_CUSTOMERS, DEMO_PERIODS = 10_000, 12
FAST_CUSTOMERS, FAST_ENSEMBLE = 3_000, 3
DEMO_TIMESTEPS, FAST_TIMESTEPS = 150_000, 30_000
DEMO_EVAL_SHOPPERS, FAST_EVAL_SHOPPERS = 4_000, 1_000


@dataclass(frozen=True)
class DemoResult:
    """What the demo wrote and the lines it reports."""

    run_dir: Path
    lines: tuple[str, ...]


def run_demo(
    *,
    out: str | Path,
    hillstrom: str | Path | None,
    fast: bool = False,
    seed: int = 0,
    on_stage: Callable[[str], None] | None = None,
    on_progress: Callable[[int, int, float], None] | None = None,
    agent_progress=None,
    generator: str = "auto",
) -> DemoResult:
    """History from the synthetic world, a fitted world, copy, agents, the report; then Hillstrom.

    ``stages`` in the result's timing say where the time went."""
    out = Path(out)
    stage = on_stage or (lambda _: None)
    customers = FAST_CUSTOMERS if fast else DEMO_CUSTOMERS
    stage(f"generating {customers:,} shoppers x {DEMO_PERIODS} periods from the synthetic world")
    generated = run_generate(out / "data", customers=customers, periods=DEMO_PERIODS, seed=seed, force=True)
    config = resolve_config(
        generated.paths["config"], overrides=[f"world.ensemble={FAST_ENSEMBLE}"] if fast else []
    )
    stage(f"fitting a {config.world.ensemble}-member response model to the history")
    fit = run_fit(generated.paths["log"], config, out=out, seed=seed, on_progress=on_progress)
    lines = [
        f"history: {generated.rows:,} logged decisions under business-as-usual ({generated.paths['log']})",
        *fit.lines(),
    ]
    generator = "template" if fast else generator
    stage(f"writing a copy library per shopper profile ({generator} generator, guardrails on)")
    requests = copy_requests(DEFAULT_PROFILES, discounts=(0.0, 0.1), channels=("email",), per_offer=1)
    copies = run_copy_generate(out / "copy", requests=requests, generator=generator, seed=seed)
    run_copy_score(out / "world", copies.path)
    lines.append(
        f"copy: {copies.summary['copies']} copies by {copies.summary['generator']} "
        f"(acceptance {copies.summary['acceptance_rate']:.0%}) scored per profile in the fitted world"
    )
    stage("training PPO in the fitted world (pessimism on) and evaluating every baseline")
    request = TrainRequest(
        world=str(out / "world"),
        out=out,
        algos=("ppo",),
        timesteps=FAST_TIMESTEPS if fast else DEMO_TIMESTEPS,
        seeds=1,
        seed=seed,
        eval_shoppers=FAST_EVAL_SHOPPERS if fast else DEMO_EVAL_SHOPPERS,
    )
    trained = run_train(request, progress=agent_progress)
    lines += list(trained.lines)
    stage("writing the strategy report")
    report = run_report(out, seed=seed)
    summary = json.loads(report["summary"].read_text(encoding="utf-8"))
    head, diff = summary["headline"], summary["headline"]["difference"]
    lines += [
        f"recommended: {summary['recommended']} -> {summary['verdict']['verdict']}; expected profit "
        f"per shopper {head['profit']['mean']:.3f} vs {summary['baseline']} "
        f"{head['baseline_profit']['mean']:.3f} "
        f"({diff['mean']:+.3f} [{diff['low']:+.3f}, {diff['high']:+.3f}])",
        *[f"  {reason}" for reason in summary["verdict"]["reasons"]],
        f"report: {report['pdf']}",
    ]
    if hillstrom is not None and Path(hillstrom).exists():
        stage("validating the Hillstrom RCT")
        summary = describe_log(load_log(hillstrom, resolve_config(dataset="hillstrom")))
        path = out / "data" / "hillstrom_describe.json"
        write_text_atomic(path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
        lines.append(f"Hillstrom RCT: {summary['rows']:,} customers; visit rate by arm:")
        for arm in summary["arms"]:
            visit = arm["visit"]
            lines.append(
                f"  {arm['copy_id'] or 'no e-mail':>9}: {visit['mean']:.3f} "
                f"[{visit['ci95'][0]:.3f}, {visit['ci95'][1]:.3f}], n={arm['rows']:,}"
            )
    return DemoResult(out, tuple(lines))
