"""A received run directory never runs code and never passes garbage off as results (issue 27):
tampered copies of a small trained run go through evaluate, report and train; no payload ever
executes, every refusal is one line naming the file (exit 2), and nothing exits 0 with NaN."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from campaign_sim.core.manifest import write_manifest
from tests.integration.cli_runs import invoke

AGENT = Path("agents/ppo-seed0")


class Payload:
    """Unpickling this creates the marker file: the proof that a load ran code."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _rezip(path: Path, name: str, content: bytes) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members[name] = content
    with zipfile.ZipFile(path, "w") as archive:
        for n, c in members.items():
            archive.writestr(n, c)


def _payload_in_data(run: Path, key: str) -> None:
    path = run / AGENT / "model.zip"
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    data[key] = {
        ":type:": str(type(data.get(key))),
        ":serialized:": base64.b64encode(pickle.dumps(Payload())).decode(),
    }
    _rezip(path, "data", json.dumps(data).encode())


def _tensors(run: Path, change) -> None:
    """Rewrite the world's weights through ``change`` and re-sign the manifest, so the readers
    behind it are probed (the manifest alone would refuse a changed file first)."""
    path = run / "world" / "weights.safetensors"
    tensors = load_file(str(path))
    change(tensors)
    save_file(tensors, str(path))


def _nan(tensors):
    name = next(k for k, v in tensors.items() if v.dtype.kind == "f" and v.size > 1)
    tensors[name] = np.full_like(tensors[name], np.nan)


def _wrong_shape(tensors):
    name = next(k for k, v in tensors.items() if v.dtype.kind == "f" and v.ndim >= 2)
    tensors[name] = np.zeros((3, 5), dtype=tensors[name].dtype)


def _write(relative: str, text: bytes | str):
    return lambda run: (run / relative).write_bytes(text if isinstance(text, bytes) else text.encode())


def _truncate(relative: str, keep: int):
    return lambda run: (run / relative).write_bytes((run / relative).read_bytes()[:keep])


SERIALIZED_KEYS = (
    "policy_class",
    "observation_space",
    "action_space",
    "lr_schedule",
    "clip_range",
    "ep_info_buffer",
)
CASES = {
    **{f"payload in data[{k}]": (lambda run, k=k: _payload_in_data(run, k)) for k in SERIALIZED_KEYS},
    "payload as policy.pth": lambda run: _rezip(
        run / AGENT / "model.zip", "policy.pth", pickle.dumps(Payload())
    ),
    "code string in agent.json": _write(
        str(AGENT / "agent.json"), "{\"algo\": \"__import__('os').system('x')\"}"
    ),
    "truncated model.zip": _truncate(str(AGENT / "model.zip"), 300),
    "truncated agent.json": _truncate(str(AGENT / "agent.json"), 5),
    "truncated train_evaluation.json": _truncate("evaluations/train_evaluation.json", 200),
    "world.json is []": _write("world/world.json", "[]"),
    "truncated world.json": _truncate("world/world.json", 100),
    "truncated weights": _truncate("world/weights.safetensors", 500),
    "empty weights": _write("world/weights.safetensors", b""),
    "NaN weights": lambda run: _tensors(run, _nan),
    "wrong-shape weights": lambda run: _tensors(run, _wrong_shape),
    "garbage population": _write("world/population.parquet", b"PAR1garbage"),
    "zero standard deviations": lambda run: _zero_stds(run),
}


def _zero_stds(run: Path) -> None:
    path = run / "world" / "world.json"
    meta = json.loads(path.read_text())
    meta["encoding"]["numeric_std"] = [0.0] * len(meta["encoding"]["numeric_std"])
    path.write_text(json.dumps(meta))


WORLD_FILES = ("weights.safetensors", "world.json", "population.parquet")


@pytest.fixture(scope="module")
def trained(trained_run_template) -> Path:
    return trained_run_template  # every case tampers with its own copy


@pytest.mark.parametrize("case", list(CASES))
def test_a_tampered_run_is_refused_in_one_line_and_runs_nothing(trained, tmp_path, case):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    Payload.marker = str(tmp_path / "code-ran")
    CASES[case](run)
    write_manifest(run / "world", [f for f in WORLD_FILES if (run / "world" / f).exists()])
    commands = {
        "evaluate": ("evaluate", "--policy", run / AGENT),
        "report": ("report", run, "-q"),
    }
    if "world" in case or "weights" in case or "population" in case:
        commands["train"] = (
            "train",
            "--world",
            run / "world",
            "--out",
            tmp_path / "other",
            "--timesteps",
            "64",
        )
    for name, command in commands.items():
        result = invoke(*command)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2, f"{case} / {name}: exit {result.exit_code}: {result.output[-400:]}"
        assert len(lines) == 1 and lines[0].startswith("error: ") and str(tmp_path) in lines[0], (
            case,
            name,
            lines,
        )
        assert "nan" not in lines[0].lower().split(":")[0]
    assert not Path(Payload.marker).exists(), f"{case}: a payload ran"
