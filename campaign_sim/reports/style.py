"""House style: a colour-blind-safe palette (Okabe-Ito) and deterministic PNG output."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from campaign_sim.core.atomic import atomic_path  # noqa: E402

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def save_png(figure: plt.Figure, target: str | Path, *, dpi: int = 120) -> Path:
    """Write ``figure`` as PNG atomically, with no timestamp or version metadata."""
    target = Path(target)
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    plt.close(figure)
    return target
