"""A received agent zip never runs code: pickled entries are rebuilt, unknown ones refused (issue 27)."""

from __future__ import annotations

import base64
import json
import pickle
import zipfile
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

from campaign_sim.agents.sb3_agents import ALGORITHMS, TrainSettings, build_model, load_model, make_vec_env
from campaign_sim.core.errors import InputError
from campaign_sim.simulators.synthetic.world import SyntheticWorld


class Payload:
    """Unpickling this creates ``marker``: the proof that a load ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def tampered(source: Path, target: Path, key: str, marker: Path) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    data[key] = {
        ":type:": "<class 'builtins.object'>",
        ":serialized:": base64.b64encode(cloudpickle.dumps(Payload(marker))).decode(),
    }
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return target


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_a_tampered_agent_loads_without_running_code(algo, tmp_path):
    settings = TrainSettings(algo=algo, timesteps=1, n_envs=16, seed=3)
    model = build_model(settings, make_vec_env(SyntheticWorld.create(seed=0), settings))
    model.save(tmp_path / "agent.zip")
    obs = np.random.default_rng(0).normal(size=(32, model.observation_space.shape[0])).astype(np.float32)
    expected = model.predict(obs, deterministic=True)[0]
    marker = tmp_path / "ran"
    loaded = load_model(algo, tmp_path / "agent.zip")  # our own zip: every entry rebuilt, none refused
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], expected)
    assert loaded.observation_space == model.observation_space and loaded.action_space == model.action_space
    schedule = "exploration_schedule" if algo == "dqn" else "lr_schedule"
    for key in (schedule, "observation_space", "action_space"):  # a payload in a known entry
        with pytest.raises(InputError, match=rf"t1.zip: its entry '{key}' names code from io"):
            load_model(algo, tampered(tmp_path / "agent.zip", tmp_path / "t1.zip", key, marker))
    with pytest.raises(InputError, match=r"t2.zip: its entry 'extra' names code from io"):
        load_model(algo, tampered(tmp_path / "agent.zip", tmp_path / "t2.zip", "extra", marker))
    (tmp_path / "t3.zip").write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"t3.zip: not an agent saved by campaign-sim"):
        load_model(algo, tmp_path / "t3.zip")
    with pytest.raises(InputError, match=r"t4.zip: (not a loadable agent|its policy weights cannot be read)"):
        load_model(algo, weights_replaced(tmp_path / "agent.zip", tmp_path / "t4.zip", marker))
    assert not marker.exists()


def weights_replaced(source: Path, target: Path, marker: Path) -> Path:
    """``source`` with a pickle of code as its policy weights (policy.pth)."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["policy.pth"] = pickle.dumps(Payload(marker))
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return target
