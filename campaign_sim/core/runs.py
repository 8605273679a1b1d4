"""Run directories: ``runs/<name>/`` with a fixed layout and the resolved config."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.config import CampaignConfig, load_config
from campaign_sim.core.config_writer import config_to_toml
from campaign_sim.core.errors import InputError

CONFIG_FILE = "config.toml"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class RunDir:
    """Paths inside one run directory; every command writes only below ``root``."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def world(self) -> Path:
        return self.root / "world"

    @property
    def agents(self) -> Path:
        return self.root / "agents"

    @property
    def evaluations(self) -> Path:
        return self.root / "evaluations"

    @property
    def safety(self) -> Path:
        """What `recommend` found: the held-out verdict and its evidence (safety.json)."""
        return self.root / "safety"

    @property
    def profiles(self) -> Path:
        """`campaign-sim segment LOG --out RUN/profiles`: named customer profiles the report uses."""
        return self.root / "profiles"

    @property
    def report(self) -> Path:
        return self.root / "report"

    def load_config(self) -> CampaignConfig:
        """The config this run was created with."""
        return load_config(self.config_path)


def check_run_root(root: str | Path) -> Path:
    """``root`` as a Path if it can hold a run (checked before long work, so a bad name fails fast)."""
    root = Path(root)
    if not _NAME.match(root.name):
        raise InputError(f"{root}: run name must be letters, digits, '.', '_' or '-'")
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: exists and is not a directory")
    return root


def create_run(root: str | Path, config: CampaignConfig) -> RunDir:
    """Create (or reopen) a run directory and write its resolved config atomically.

    Reopening is allowed so later commands can add to a run; the config is rewritten only
    when it changed, so what an earlier command wrote stays untouched.
    """
    root = check_run_root(root)
    root.mkdir(parents=True, exist_ok=True)
    run = RunDir(root)
    text = config_to_toml(config)
    if not run.config_path.exists() or run.config_path.read_text(encoding="utf-8") != text:
        write_text_atomic(run.config_path, text)
    return run
