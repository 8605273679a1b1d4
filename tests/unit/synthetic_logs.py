"""A small generated history read through the synthetic preset: what the fitted-world fixtures
of the unit tests start from."""

from __future__ import annotations

from pathlib import Path

from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.log import CampaignLog, load_log
from campaign_sim.simulators.synthetic.generate import generate_log
from campaign_sim.simulators.synthetic.world import SyntheticWorld


def synthetic_log(
    folder: Path, *, customers: int, periods: int, seed: int, overrides: list[str]
) -> CampaignLog:
    """``customers`` x ``periods`` decisions of the seed-0 synthetic world's business-as-usual,
    written to ``folder/log.parquet`` and loaded with the synthetic preset and ``overrides``."""
    path = folder / "log.parquet"
    generate_log(
        SyntheticWorld.create(seed=0), customers=customers, periods=periods, seed=seed
    ).log.write_parquet(path)
    return load_log(path, resolve_config(dataset="synthetic", overrides=overrides))
