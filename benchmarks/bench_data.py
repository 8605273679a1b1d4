"""Load + validate a 1M-row campaign log vs polars' bare read of the same file.

Run: .venv/bin/python benchmarks/bench_data.py [--rows N]
The figure is the ratio (load + validate) / bare read, measured in one run; floor <= 3x.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import median_seconds, record  # noqa: E402
from campaign_sim.core.config import CampaignConfig  # noqa: E402
from campaign_sim.data.log import load_log  # noqa: E402


def make_log(rows: int, seed: int = 0) -> pl.DataFrame:
    """A valid canonical log: 10 periods per customer, default action space, 4 features."""
    rng = np.random.default_rng(seed)
    periods = 10
    channels = np.array(["none", "email", "sms", "push"])
    channel = channels[rng.integers(0, 4, rows)]
    contacted = channel != "none"
    discount = np.where(contacted, rng.choice([0.0, 0.1, 0.2], rows), 0.0)
    visit = rng.random(rows) < 0.15
    conversion = visit & (rng.random(rows) < 0.07)
    revenue = np.where(conversion, rng.lognormal(4.5, 0.6, rows), 0.0)
    return pl.DataFrame(
        {
            "customer_id": np.arange(rows) // periods,
            "period": np.arange(rows) % periods,
            "discount": discount,
            "channel": channel,
            "copy_id": np.where(contacted, "standard", None),
            "propensity": rng.uniform(0.05, 1.0, rows),
            "visit": visit.astype(np.int8),
            "conversion": conversion.astype(np.int8),
            "revenue": revenue,
            "recency": rng.integers(0, 12, rows).astype(float),
            "frequency": rng.poisson(3, rows).astype(float),
            "monetary": rng.lognormal(5, 1, rows),
            "segment": rng.choice(["new", "loyal", "lapsed"], rows),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    frame = make_log(args.rows)
    config = CampaignConfig()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for suffix, bare in ((".parquet", pl.read_parquet), (".csv", pl.read_csv)):
            path = Path(folder) / f"log{suffix}"
            frame.write_parquet(path) if suffix == ".parquet" else frame.write_csv(path)
            assert load_log(path, config).frame.height == args.rows
            t_bare = median_seconds(lambda p=path, r=bare: r(p), repeats=args.repeats)
            t_load = median_seconds(lambda p=path: load_log(p, config), repeats=args.repeats)
            results[suffix[1:]] = {
                "bare_read_s": t_bare,
                "load_validate_s": t_load,
                "bare_rows_per_s": args.rows / t_bare,
                "load_validate_rows_per_s": args.rows / t_load,
                "ratio": t_load / t_bare,
                "file_mb": path.stat().st_size / 1e6,
            }
    lines = [
        "## Data layer: load + validate vs bare polars read (`benchmarks/bench_data.py`)",
        "",
        f"{args.rows:,}-row canonical log generated in the script, 13 columns; median of "
        f"{args.repeats} runs after a warm-up. Floor: load + validate ≤ 3× the bare read.",
        "",
        "| format | file MB | bare read rows/s | load + validate rows/s | ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    for fmt, r in results.items():
        lines.append(
            f"| {fmt} | {r['file_mb']:.1f} | {r['bare_rows_per_s']:,.0f} | "
            f"{r['load_validate_rows_per_s']:,.0f} | {r['ratio']:.2f}× |"
        )
    lines += ["", "Command: `.venv/bin/python benchmarks/bench_data.py`"]
    record("bench_data", "\n".join(lines), {"rows": args.rows, "results": results})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
