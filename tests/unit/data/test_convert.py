"""Conversion to canonical columns round-trips, and never clobbers what exists."""

from __future__ import annotations

import pytest

from campaign_sim.core.config import load_config
from campaign_sim.core.errors import InputError
from campaign_sim.data.convert import convert_log
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.describe import describe_log
from campaign_sim.data.log import load_log


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_hillstrom_to_canonical_and_back(tmp_path, hillstrom_path, suffix):
    log = load_log(hillstrom_path, resolve_config(dataset="hillstrom"))
    target, config_path = convert_log(log, tmp_path / f"h{suffix}")
    again = load_log(target, load_config(config_path))
    assert again.frame.equals(log.frame)
    assert describe_log(again)["arms"] == describe_log(log)["arms"]


def test_convert_refuses_to_overwrite(tmp_path, canonical_csv):
    from campaign_sim.core.config import CampaignConfig

    log = load_log(canonical_csv, CampaignConfig())
    target = tmp_path / "out.parquet"
    target.write_text("precious")
    with pytest.raises(InputError, match="already exists; pass --force"):
        convert_log(log, target)
    assert target.read_text() == "precious"
    with pytest.raises(InputError, match="output is the input file"):
        convert_log(log, canonical_csv, force=True)
    convert_log(log, target, force=True)
    assert load_log(target, CampaignConfig()).frame.height == 6
