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


PACKAGES = (
    "core",
    "data",
    "simulators",
    "simulators.fitted",
    "simulators.synthetic",
    "envs",
    "agents",
    "ope",
    "reports",
    "llm",
    "workflows",
)


def test_every_package_exports_public_names_that_resolve():
    # a fresh interpreter, so a name that only resolves after another import would fail here
    code = (
        "import importlib\n"
        f"for package in {PACKAGES!r}:\n"
        "    module = importlib.import_module('campaign_sim.' + package)\n"
        "    assert module.__all__, package\n"
        "    for name in module.__all__:\n"
        "        assert getattr(module, name) is not None, (package, name)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]
