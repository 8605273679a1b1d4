"""The demo pipeline, as far as it exists: real RCT log -> validated canonical log -> summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.runs import create_run
from campaign_sim.data.bandit import bandit_log
from campaign_sim.data.convert import convert_log
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.describe import describe_log
from campaign_sim.data.log import load_log


@dataclass(frozen=True)
class DemoResult:
    """What the demo wrote and the lines it reports."""

    run_dir: Path
    files: tuple[Path, ...]
    lines: tuple[str, ...]


def run_demo(path: str | Path, *, out: str | Path, quiet: bool = False) -> DemoResult:
    """Load and validate the Hillstrom RCT, write it canonically into a run, summarise it."""
    config = resolve_config(dataset="hillstrom")
    run = create_run(out, config)
    log = load_log(path, config)
    log_path, log_config = convert_log(log, run.data / "history.parquet", force=True)
    summary = describe_log(log)
    summary_path = run.data / "describe.json"
    write_text_atomic(summary_path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    bandit = bandit_log(log, reward="visit")
    lines = [
        f"history: {summary['rows']:,} decisions, {bandit.n_actions} actions, "
        f"{bandit.context.shape[1]} context columns"
    ]
    for arm in summary["arms"]:
        label = arm["copy_id"] or "no e-mail"
        visit = arm["visit"]
        lines.append(
            f"  {label:>9}: visit {visit['mean']:.3f} "
            f"[{visit['ci95'][0]:.3f}, {visit['ci95'][1]:.3f}], n={arm['rows']:,}"
        )
    files = (run.config_path, log_path, log_config, summary_path)
    lines.append("wrote " + ", ".join(str(f) for f in files))
    lines.append("next stages (world model, agents, OPE, report) arrive with their issues")
    return DemoResult(run.root, files, tuple(lines))
