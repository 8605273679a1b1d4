"""Built-in datasets: a config preset each, so a known log loads by name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from campaign_sim.core.config import CampaignConfig, config_from_text, load_config
from campaign_sim.core.errors import InputError

PRESETS = ("example", "synthetic", "hillstrom", "obd")


def preset_text(name: str) -> str:
    """The annotated TOML of a built-in preset."""
    if name not in PRESETS:
        raise InputError(f"unknown dataset '{name}'; expected one of {list(PRESETS)}")
    return resources.files("campaign_sim").joinpath("presets", f"{name}.toml").read_text("utf-8")


def resolve_config(
    config_path: str | Path | None = None, *, dataset: str | None = None, overrides: list[str] | None = None
) -> CampaignConfig:
    """The config a command runs with: a file, else a dataset preset, else the defaults."""
    if config_path is not None:
        return load_config(config_path, overrides=overrides)
    name = dataset or "example"
    return config_from_text(preset_text(name), source=f"preset '{name}'", overrides=overrides)
