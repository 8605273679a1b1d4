"""``import campaign_sim`` registers the environment id and stays light."""

from __future__ import annotations

import subprocess
import sys


def test_import_registers_the_env_without_the_heavy_modules():
    # a fresh interpreter: this test process has long imported everything
    code = (
        "import sys, campaign_sim, gymnasium as gym; "
        "heavy = [m for m in ('torch', 'numba', 'polars', 'stable_baselines3') if m in sys.modules]; "
        "print('campaign_sim/Campaign-v0' in gym.registry, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True []"
