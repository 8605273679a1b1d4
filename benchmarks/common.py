"""Helpers for benchmark scripts: timing and recording results in BENCHMARKS.md."""

from __future__ import annotations

import json
import platform
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
RESULTS = ROOT / "benchmarks" / "results"


def median_seconds(fn: Callable[[], Any], *, repeats: int = 5) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def record(name: str, markdown: str, payload: dict[str, Any]) -> None:
    """Write ``payload`` to benchmarks/results/NAME.json and replace NAME's section of BENCHMARKS.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"machine": f"{platform.machine()}, {platform.python_version()}", **payload}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{markdown.strip()}\n{end}"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: section, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    BENCHMARKS_MD.write_text(text)


def fitted_from_history(folder: Path, customers: int = 16_667, *, periods: int = 12, seed: int = 0):
    """The issue-5 pipeline's first half: a business-as-usual history from the true synthetic
    world (16,667 customers x 12 periods = 200k decisions), then a world fitted from it.
    Returns (generated, config, fit seconds, fitted world)."""
    from campaign_sim.data.datasets import resolve_config
    from campaign_sim.simulators.fitted.world import FittedWorld
    from campaign_sim.workflows.fit import run_fit
    from campaign_sim.workflows.generate import run_generate

    generated = run_generate(folder / "history", customers=customers, periods=periods, seed=seed, force=True)
    config = resolve_config(generated.paths["config"])
    start = time.perf_counter()
    run_fit(generated.paths["log"], config, out=folder / "run", seed=seed)
    seconds = time.perf_counter() - start
    return generated, config, seconds, FittedWorld.load(folder / "run" / "world")
