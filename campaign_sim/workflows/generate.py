"""`campaign-sim data generate`: a synthetic history with its truth, written atomically."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.config_writer import config_to_toml
from campaign_sim.core.errors import InputError
from campaign_sim.data.datasets import resolve_config
from campaign_sim.simulators.synthetic.generate import (
    COPIES_FILE,
    LOG_FILE,
    PARAMETERS_FILE,
    TRUTH_FILE,
    generate_log,
    write_generated,
)
from campaign_sim.simulators.synthetic.world import SyntheticWorld


@dataclass(frozen=True)
class GenerateResult:
    """Where the generated files are and how long it took."""

    paths: dict[str, Path]
    rows: int
    seconds: float

    def summary(self) -> dict[str, object]:
        return {"rows": self.rows, "seconds": self.seconds, **{k: str(v) for k, v in self.paths.items()}}


def run_generate(
    out: str | Path, *, customers: int, periods: int, seed: int, force: bool = False
) -> GenerateResult:
    """Generate ``customers`` x ``periods`` decisions from the benchmark world seeded by ``seed``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory (--out is the folder the log goes to)")
    existing = [out / name for name in (LOG_FILE, TRUTH_FILE, COPIES_FILE, PARAMETERS_FILE, "config.toml")]
    clash = [p for p in existing if p.exists()]
    if clash and not force:
        raise InputError(f"{clash[0]}: already exists; pass --force to replace it")
    start = time.perf_counter()
    world = SyntheticWorld.create(seed=seed)
    generated = generate_log(world, customers=customers, periods=periods, seed=seed)
    paths = write_generated(out, world, generated, seed=seed, customers=customers, periods=periods)
    config = resolve_config(dataset="synthetic", overrides=[f"campaign.seed={seed}"])
    paths["config"] = out / "config.toml"
    write_text_atomic(paths["config"], config_to_toml(config))
    return GenerateResult(paths, generated.log.height, time.perf_counter() - start)
