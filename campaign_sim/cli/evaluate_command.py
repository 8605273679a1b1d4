"""``campaign-sim evaluate``: an agent off-policy on the logged history (``--policy``), or the
estimators' checks where the truth is known (``--benchmark obd|hillstrom|synthetic``)."""

from __future__ import annotations

import json as json_module
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from campaign_sim.cli.common import JsonOption, QuietOption, out_console, print_json, progress
from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.config import MAX_SEED
from campaign_sim.core.errors import InputError
from campaign_sim.core.tasks import TaskMap, run_here
from campaign_sim.ope.intervals import METHODS

BENCHMARKS = ("obd", "hillstrom", "synthetic")
DEFAULT_PATHS = {"obd": "../shared/data/obd", "hillstrom": "../shared/data/hillstrom/hillstrom.csv"}


def evaluate(
    benchmark: Annotated[
        str | None, typer.Option("--benchmark", help="Validate the estimators: obd, hillstrom or synthetic.")
    ] = None,
    policy: Annotated[
        list[Path] | None,
        typer.Option(
            "--policy", help="A trained agent to evaluate: runs/X/agents/NAME (repeatable, one run)."
        ),
    ] = None,
    logs: Annotated[
        Path | None, typer.Option("--logs", help="--policy: the logged history (default: the world's log).")
    ] = None,
    world: Annotated[
        Path | None, typer.Option("--world", help="--policy: the fitted world (default: runs/X/world).")
    ] = None,
    path: Annotated[
        Path | None,
        typer.Option("--path", help="--benchmark: data folder or file (default ../shared/data/...)."),
    ] = None,
    campaign: Annotated[
        list[str] | None,
        typer.Option(
            "--campaign", help="--benchmark obd: a campaign folder (repeatable; default: every one)."
        ),
    ] = None,
    interval: Annotated[
        str,
        typer.Option(
            "--interval", help="--policy: studentized (bootstrap-t), bootstrap (percentile) or normal."
        ),
    ] = "studentized",
    replications: Annotated[int, typer.Option("--replications", min=2, help="synthetic: replications.")] = 50,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the result as JSON here.")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED)] = 0,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Each --policy agent, or each benchmark replication or campaign, as a Ray task: "
            "'auto' or HOST:PORT of a cluster.",
        ),
    ] = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Off-policy evaluation: an agent on the logged history with a launch verdict (--policy), or
    the estimators' checks where the truth is known (--benchmark)."""
    if (benchmark is None) == (not policy):
        raise InputError(
            "give exactly one of --policy runs/X/agents/NAME or --benchmark obd|hillstrom|synthetic"
        )
    if interval not in METHODS:
        raise InputError(f"--interval {interval!r}: expected one of {', '.join(METHODS)}")
    for agent in policy or ():
        if not agent.exists():
            raise InputError(f"{agent}: no such agent folder (--policy)")
    source = None if policy else _benchmark_source(benchmark, path, campaigns=campaign)
    quiet = quiet or json
    with _workers(ray) as tasks:  # bad input is refused above, before a cluster is joined
        if policy:
            results = _evaluate_policies(
                policy, logs=logs, world=world, method=interval, seed=seed, quiet=quiet, tasks=tasks
            )
            result = results[0] if len(results) == 1 else results
        else:
            with progress(f"running the {benchmark} off-policy benchmark", quiet=quiet):
                result = _benchmark(
                    benchmark, source, campaign, replications=replications, seed=seed, tasks=tasks
                )
    if out is not None:
        write_text_atomic(out, json_module.dumps(result, indent=2, sort_keys=True) + "\n")
    if json:
        print_json(result)
        return
    lines = [line for r in results for line in _policy_lines(r)] if policy else _lines(benchmark, result)
    for line in lines:
        out_console.print(line, markup=False, soft_wrap=True)


@contextmanager
def _workers(ray: str | None) -> Iterator[TaskMap]:
    """Where the independent pieces run: here, or as Ray tasks on the cluster at ``ray``."""
    if ray is None:
        yield run_here
        return
    from campaign_sim.workflows.ray_runner import check_ray, ray_tasks

    check_ray(ray)
    with ray_tasks(ray) as tasks:
        yield tasks.map


def _evaluate_policies(
    policies: list[Path], *, logs: Path | None, world: Path | None, method: str, seed: int, quiet: bool, tasks
) -> list[dict]:  # noqa: ANN001
    from campaign_sim.workflows.offpolicy import run_offpolicy

    names = ", ".join(p.name for p in policies)
    with progress(f"replaying the logged history for {names}", quiet=quiet):
        runs = run_offpolicy(policies, logs=logs, world_dir=world, method=method, seed=seed, tasks=tasks)
    return [{**run.result, "written": {k: str(v) for k, v in run.paths.items()}} for run in runs]


def _benchmark_source(benchmark: str, path: Path | None, *, campaigns: list[str] | None) -> Path:
    if benchmark not in BENCHMARKS:
        raise InputError(f"--benchmark {benchmark!r}: expected one of {', '.join(BENCHMARKS)}")
    if campaigns and benchmark != "obd":
        raise InputError(f"--campaign: only --benchmark obd has campaigns, not {benchmark!r}")
    source = Path(path or DEFAULT_PATHS.get(benchmark, ".")).expanduser()  # relative to where you stand
    if benchmark != "synthetic" and not source.exists():
        raise InputError(f"{source.resolve()}: no such file or folder (--path {source})")
    return source


def _benchmark(
    benchmark: str, source: Path, campaigns: list[str] | None, *, replications: int, seed: int, tasks: TaskMap
) -> dict:
    from campaign_sim.workflows import ope_benchmarks as bench

    if benchmark == "obd":
        return bench.obd_benchmark(source, campaigns=campaigns, seed=seed, tasks=tasks)
    if benchmark == "hillstrom":  # one estimate per arm on one log: nothing worth a task
        return bench.hillstrom_benchmark(source, seed=seed)
    return {
        str(m): bench.synthetic_coverage(replications, 10_000, mix=m, seed=seed, tasks=tasks)
        for m in (0.05, 0.5)
    }


def _policy_lines(result: dict) -> list[str]:
    logged = result["logged_policy_value"]
    lines = [
        f"logged history: {result['campaigns']:,} campaigns x {result['periods']} periods "
        f"({result['decisions']:,} decisions), propensities {result['propensities']}",
        f"business-as-usual (the logging policy), its own logged value: {logged['value']:.3f} "
        f"[{logged['low']:.3f}, {logged['high']:.3f}] profit per shopper",
        *[f"warning: {w}" for w in result["warnings"]],
    ]
    for name, row in result["policies"].items():
        lines.append(f"{name}: off-policy value per shopper (95% interval)")
        for estimator, e in row["estimates"].items():
            lines.append(f"  {estimator:<6} {e['value']:8.3f} [{e['low']:.3f}, {e['high']:.3f}]")
        d = row["diagnostics"]
        lines.append(
            f"  diagnostics: effective campaigns {d['ess']:,.1f} of {d['rows']:,}; max weight "
            f"{d['max_weight']:.3g}; mean weight {d['mean_weight']:.3f}; logged decisions it never takes "
            f"{d['zero_probability_share']:.1%}"
        )
        for where, sim in result.get("simulated", {}).items():
            label = "the true world" if where == "true_world" else "the fitted world"
            lines.append(f"  simulated in {label}: {sim['mean']:.3f} [{sim['low']:.3f}, {sim['high']:.3f}]")
        diff, verdict = row["difference_vs_logged"], row["verdict"]
        lines.append(
            f"  vs business-as-usual by {verdict['estimator']}: {diff['value']:+.3f} "
            f"[{diff['low']:+.3f}, {diff['high']:+.3f}] -> {verdict['verdict']}"
        )
        lines += [f"    {reason}" for reason in verdict["reasons"]]
    lines += [f"written: {p}" for p in result.get("written", {}).values()]
    return lines


def _lines(benchmark: str, result: dict) -> list[str]:
    if benchmark == "obd":
        lines = []
        for c in result["cells"]:
            lines.append(
                f"{c['campaign']}: {c['target']} estimated from the {c['logged']} log ({c['rows']:,} rows), "
                f"truth {c['truth']:.5f}; effective rows (ESS) {c['ess']:,.1f}, "
                f"max weight {c['max_weight']:,.1f}"
            )
            if not c["estimable"]:
                lines.append(
                    f"  not estimable from this log: ESS {c['ess']:,.1f} is below {result['min_ess']:.0f} "
                    "effective rows (and 1% of the log); the estimates below are not claims"
                )
            for name, e in c["estimates"].items():
                inside = "truth inside" if e["truth_inside"] else "truth OUTSIDE"
                lines.append(
                    f"  {name:<6} {e['value']:.5f} [{e['low']:.5f}, {e['high']:.5f}]  "
                    f"{inside if c['estimable'] else 'not estimable'}"
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
        f"mix {mix}: {name:<5} {method:<11} coverage {v['coverage']:.1%} (misses with the truth above "
        f"{v['misses_truth_above']}, below {v['misses_truth_below']}; mean width {v['mean_width']:.3f})"
        for mix, table in result.items()
        for name, methods in table["estimators"].items()
        for method, v in methods.items()
    ]
