"""`campaign-sim demo` end to end: wall time and each stage's share.

Runs the demo exactly as `make demo` does (same defaults), in a temporary run directory, and
times the stages from the demo's own stage callbacks. The SmolLM2 cache is warm when this
runs after `make install` and one demo; a cold cache adds the one-time GGUF conversion (~20 s).

Run: python benchmarks/bench_demo.py [--fast] [--dataset synthetic|hillstrom]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import record  # noqa: E402
from campaign_sim.workflows.demo import run_demo  # noqa: E402

HILLSTROM = Path(__file__).resolve().parents[2] / "shared" / "data" / "hillstrom" / "hillstrom.csv"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--dataset", default="synthetic", choices=("synthetic", "hillstrom"))
    args = parser.parse_args()
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = run_demo(
            out=Path(tmp) / "demo",
            hillstrom=HILLSTROM,
            fast=args.fast,
            dataset=args.dataset,
            on_stage=lambda message: marks.append((message, time.perf_counter())),
        )
        total = time.perf_counter() - started
        wrote = (Path(tmp) / "demo" / "report" / "report.pdf").exists()
    marks.append(("end", started + total))
    stages = [
        {
            "stage": name,
            "seconds": round(marks[i + 1][1] - t, 1),
            "share": round((marks[i + 1][1] - t) / total, 3),
        }
        for i, (name, t) in enumerate(marks[:-1])
    ]
    print("\n".join(result.lines))
    rows = "\n".join(f"| {s['stage']} | {s['seconds']} | {s['share']:.0%} |" for s in stages)
    flags = (" --fast" if args.fast else "") + (
        f" --dataset {args.dataset}" if args.dataset != "synthetic" else ""
    )
    what = "`make demo` defaults" if not flags else f"`campaign-sim demo{flags}`"
    markdown = f"""## Demo (`benchmarks/bench_demo.py{flags}`)

{what}, warm SmolLM2 cache: **{total:.0f} s** end to end (floor: 5 minutes), report written: {wrote}.

Key lines it printed:

```
{chr(10).join(line for line in result.lines if line.startswith(("recommended", "  in ", "  off-policy", "    ")))}
```

| stage | seconds | share |
|---|---|---|
{rows}
"""
    record(
        "demo" + ("_fast" if args.fast else "") + ("_hillstrom" if args.dataset == "hillstrom" else ""),
        markdown,
        {"seconds": round(total, 1), "report": wrote, "stages": stages},
    )


if __name__ == "__main__":
    main()
