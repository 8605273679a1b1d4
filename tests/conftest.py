"""Shared fixtures: the real data in ../shared/data and small canonical logs."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from hypothesis import settings

# CI replays the same examples every run (reproducible); locally hypothesis keeps exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
HILLSTROM = SHARED_DATA / "hillstrom" / "hillstrom.csv"
OBD = SHARED_DATA / "obd"


@pytest.fixture(scope="session")
def hillstrom_path() -> Path:
    assert HILLSTROM.exists(), f"real data missing: {HILLSTROM} (see ../shared/data/README.md)"
    return HILLSTROM


@pytest.fixture(scope="session")
def obd_dir() -> Path:
    assert OBD.exists(), f"real data missing: {OBD}"
    return OBD


def canonical_frame(n: int = 6) -> pl.DataFrame:
    """A small valid campaign log in canonical columns (default config's action space)."""
    channels = ["none", "email", "sms", "push", "email", "none"] * (n // 6 + 1)
    discounts = [0.0, 0.1, 0.2, 0.0, 0.2, 0.0] * (n // 6 + 1)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "period": [i % 3 for i in range(n)],
            "discount": discounts[:n],
            "channel": channels[:n],
            "copy_id": [None if c == "none" else "standard" for c in channels[:n]],
            "propensity": [0.25] * n,
            "visit": [1, 0, 1, 1, 0, 0] * (n // 6) + [0] * (n % 6),
            "conversion": [1, 0, 0, 1, 0, 0] * (n // 6) + [0] * (n % 6),
            "revenue": [80.0, 0.0, 0.0, 120.5, 0.0, 0.0] * (n // 6) + [0.0] * (n % 6),
            "recency": [float(i) for i in range(n)],
            "segment": ["a", "b"] * (n // 2) + ["a"] * (n % 2),
        }
    )


@pytest.fixture
def canonical_csv(tmp_path: Path) -> Path:
    path = tmp_path / "log.csv"
    canonical_frame().write_csv(path)
    return path
