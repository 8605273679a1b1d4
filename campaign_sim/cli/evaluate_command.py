"""``campaign-sim evaluate --benchmark obd|hillstrom|synthetic``: the estimators' real-data checks."""

from __future__ import annotations

import json as json_module
from pathlib import Path
from typing import Annotated

import typer

from campaign_sim.cli.common import JsonOption, QuietOption, out_console, print_json, progress
from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.errors import InputError

BENCHMARKS = ("obd", "hillstrom", "synthetic")
DEFAULT_PATHS = {"obd": "../shared/data/obd", "hillstrom": "../shared/data/hillstrom/hillstrom.csv"}


def evaluate(
    benchmark: Annotated[str, typer.Option("--benchmark", help="obd, hillstrom or synthetic.")],
    path: Annotated[
        Path | None, typer.Option("--path", help="Data folder or file (default ../shared/data/...).")
    ] = None,
    replications: Annotated[int, typer.Option("--replications", min=2, help="synthetic: replications.")] = 50,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the result as JSON here.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Validate the off-policy estimators where the truth is known (real logs or the synthetic world)."""
    from campaign_sim.workflows import ope_benchmarks as bench

    if benchmark not in BENCHMARKS:
        raise InputError(f"--benchmark {benchmark!r}: expected one of {', '.join(BENCHMARKS)}")
    source = Path(path or DEFAULT_PATHS.get(benchmark, "."))
    if benchmark != "synthetic" and not source.exists():
        raise InputError(f"{source}: no such file or folder (--path)")
    with progress(f"running the {benchmark} off-policy benchmark", quiet=quiet or json):
        if benchmark == "obd":
            result = bench.obd_benchmark(source, seed=seed)
        elif benchmark == "hillstrom":
            result = bench.hillstrom_benchmark(source, seed=seed)
        else:
            result = {
                str(m): bench.synthetic_coverage(replications, 10_000, mix=m, seed=seed) for m in (0.05, 0.5)
            }
    if out is not None:
        write_text_atomic(out, json_module.dumps(result, indent=2, sort_keys=True) + "\n")
    if json:
        print_json(result)
        return
    for line in _lines(benchmark, result):
        out_console.print(line, markup=False, soft_wrap=True)


def _lines(benchmark: str, result: dict) -> list[str]:
    if benchmark == "obd":
        lines = ["estimating            truth     estimator  estimate [95%]                  truth inside"]
        for c in result["cells"]:
            for name, e in c["estimates"].items():
                lines.append(
                    f"{c['campaign']:<4} {c['target']:<6} from {c['logged']:<6} {c['truth']:.5f}  {name:<9} "
                    f"{e['value']:.5f} [{e['low']:.5f}, {e['high']:.5f}]  "
                    f"{'yes' if e['truth_inside'] else 'NO'}"
                )
        return lines
    if benchmark == "hillstrom":
        lines = [
            f"{arm:<20} observed {v['observed'][0]:.4f}  "
            f"IPS {v['IPS'][0]:.4f} [{v['IPS'][1]:.4f}, {v['IPS'][2]:.4f}]  "
            f"SNIPS {v['SNIPS'][0]:.4f}  inside: {v['IPS_matches'] and v['SNIPS_matches']}"
            for arm, v in result["arms"].items()
        ]
        gate = result["gate_womens_vs_mens"]
        return [*lines, f"always Womens vs always Mens (visits): {gate['verdict']}", *gate["reasons"]]
    return [
        f"mix {mix}: {name} coverage {v['coverage']:.1%} (mean width {v['mean_width']:.3f})"
        for mix, table in result.items()
        for name, v in table.items()
    ]
