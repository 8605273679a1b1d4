"""The demo pipeline, as far as it exists: synthetic history -> fitted world -> fidelity,
plus the real Hillstrom RCT through its adapter."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.describe import describe_log
from campaign_sim.data.log import load_log
from campaign_sim.workflows.fit import run_fit
from campaign_sim.workflows.generate import run_generate

DEMO_CUSTOMERS, DEMO_PERIODS = 10_000, 12
FAST_CUSTOMERS, FAST_ENSEMBLE = 3_000, 3


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
) -> DemoResult:
    """Generate a history from the synthetic world, fit a world to it, check it; then Hillstrom."""
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
    lines.append("next stages (environment, agents, off-policy evaluation, report) arrive with their issues")
    return DemoResult(out, tuple(lines))
