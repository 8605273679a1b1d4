"""Run directories and atomic writes."""

from __future__ import annotations

import pytest

from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import InputError
from campaign_sim.core.runs import create_run


def test_create_run_writes_resolved_config(tmp_path):
    config = CampaignConfig(name="spring", seed=7)
    run = create_run(tmp_path / "spring", config)
    assert run.config_path.exists()
    assert run.load_config() == config
    assert run.world == tmp_path / "spring" / "world"


def test_reopening_keeps_existing_files(tmp_path):
    run = create_run(tmp_path / "r", CampaignConfig())
    (run.root / "keep.txt").write_text("x")
    mtime = run.config_path.stat().st_mtime_ns
    create_run(tmp_path / "r", CampaignConfig())
    assert (run.root / "keep.txt").read_text() == "x"
    assert run.config_path.stat().st_mtime_ns == mtime


def test_bad_run_name(tmp_path):
    with pytest.raises(InputError, match="run name must be"):
        create_run(tmp_path / "bad name!", CampaignConfig())


def test_atomic_write_leaves_target_intact_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_write_uses_the_usual_file_mode(tmp_path):
    import os
    import stat

    target = tmp_path / "shared.txt"
    write_text_atomic(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
