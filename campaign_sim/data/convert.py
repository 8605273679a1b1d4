"""Write a validated log in canonical columns, with the config that reads it back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.core.config import DataMapping, Recommendation
from campaign_sim.core.config_writer import config_to_toml
from campaign_sim.core.errors import InputError
from campaign_sim.data import schema as S
from campaign_sim.data.loaders import SUFFIXES, write_table
from campaign_sim.data.log import CampaignLog


def canonical_mapping(log: CampaignLog) -> DataMapping:
    """The data mapping of ``log`` once written in canonical columns."""
    recommendation = Recommendation(S.ITEM, S.POSITION, S.CLICK) if log.kind == "recommendation" else None
    return DataMapping(
        kind=log.kind,
        customer_id=S.CUSTOMER_ID,
        period=S.PERIOD,
        features=log.features,
        categorical=log.categorical,
        propensity=S.PROPENSITY if log.has_propensity else None,
        recommendation=recommendation,
    )


def convert_log(log: CampaignLog, target: str | Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write ``log`` to ``target`` (.parquet or .csv) and its config to ``target`` + ``.toml``.

    Both writes are atomic; an existing file is never replaced unless ``force``.
    """
    target = Path(target)
    if target.suffix.lower() not in SUFFIXES:
        raise InputError(f"{target}: unsupported output type '{target.suffix}'; expected .parquet or .csv")
    config_path = target.with_name(target.name + ".toml")
    if Path(log.source).resolve() == target.resolve():
        raise InputError(f"{target}: output is the input file; choose another path")
    for path in (target, config_path):
        if path.exists() and not force:
            raise InputError(f"{path}: already exists; pass --force to replace it")
    config = dataclasses.replace(log.config, data=canonical_mapping(log))
    with atomic_path(target) as tmp:
        write_table(log.frame, tmp.with_suffix(target.suffix))
        tmp.with_suffix(target.suffix).replace(tmp)
    write_text_atomic(config_path, config_to_toml(config))
    return target, config_path
