"""Load a saved SB3 agent without unpickling anything from its zip.

``BaseAlgorithm.save`` writes the model's attributes as JSON, and the ones JSON cannot hold
(spaces, schedules, classes, buffers) as cloudpickle: loading such a zip runs whatever a
tampered file put there (issue 27: a marker file was created and ``evaluate`` exited 0). SB3's
``custom_objects`` replaces an entry before it is unpickled, so every pickled entry is rebuilt
here from our own knowledge of the agent and the readable fields SB3 writes beside the pickle
(shapes, bounds, clip range); an entry we do not know is refused, naming the file and key. The
weights (``policy.pth``) are loaded by SB3 with ``torch.load(weights_only=True)``, which
refuses code.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import pickletools
import re
import zipfile
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from campaign_sim.core.errors import InputError

Rebuild = Callable[[dict[str, Any], type, Path], Any]
# where the classes an agent's pickled entries name come from (spaces, schedules, buffers)
SAFE_MODULES = (
    "numpy",
    "gymnasium",
    "stable_baselines3",
    "sb3_contrib",
    "collections",
    "campaign_sim",
    "torch",
)


def safe_objects(path: Path, cls: type) -> dict[str, Any]:
    """``custom_objects`` for every pickled entry of the agent zip at ``path`` (``cls`` its class)."""
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{path}: not an agent saved by campaign-sim ({exc})") from None
    objects = {}
    for key, item in data.items():
        if not (isinstance(item, dict) and ":serialized:" in item):
            continue
        _refuse_foreign_globals(item, path, key)
        rebuild = REBUILT.get(key)
        if rebuild is None:
            raise InputError(
                f"{path}: holds a pickled entry '{key}' that campaign-sim never writes "
                "(a tampered or foreign agent); it was not loaded: retrain the agent"
            )
        objects[key] = rebuild(item, cls, path)
    return objects


def _refuse_foreign_globals(item: dict[str, Any], path: Path, key: str) -> None:
    """Read the pickle's opcodes, never run them: every class or function it names must come from
    the libraries an agent is made of. Nothing here is unpickled either way (the entry is
    rebuilt); this tells the user the file was tampered with instead of silently ignoring it."""
    try:
        raw = base64.b64decode(str(item[":serialized:"]), validate=True)
        named = _named_globals(raw)
    except (ValueError, binascii.Error) as exc:
        raise InputError(f"{path}: its entry '{key}' is not a pickle campaign-sim wrote ({exc})") from None
    foreign = sorted({m for m in named if not any(m == p or m.startswith(p + ".") for p in SAFE_MODULES)})
    if foreign:
        raise InputError(
            f"{path}: its entry '{key}' names code from {', '.join(foreign)} (a tampered agent); "
            "nothing was loaded or run"
        )


def _named_globals(raw: bytes) -> list[str]:
    """The module of every global a pickle references (GLOBAL / INST / STACK_GLOBAL)."""
    recent: list[str | None] = []  # values pushed, strings kept: STACK_GLOBAL pops module, name
    memo: dict[int, str | None] = {}  # repeated strings come back from the memo
    modules = []
    for op, arg, _ in pickletools.genops(raw):
        if op.name in ("GLOBAL", "INST"):
            modules.append(str(arg).split(" ")[0])
        elif op.name == "STACK_GLOBAL":
            if len(recent) < 2 or recent[-2] is None or recent[-1] is None:
                raise ValueError("a global whose name is computed")
            modules.append(str(recent[-2]))
        top = recent[-1] if recent else None
        if op.name == "MEMOIZE":
            memo[len(memo)] = top
        elif op.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg)] = top
        elif op.name in ("GET", "BINGET", "LONG_BINGET"):
            recent.append(memo.get(int(arg)))
        else:
            recent.append(arg if isinstance(arg, str) and "UNICODE" in op.name else None)
    return modules


def _numbers(item: dict[str, Any], field: str, path: Path, kind: type = float) -> np.ndarray:
    """A numpy repr SB3 wrote beside the pickle ("[4 4 4]", "[-10. -10.]") as an array."""
    text = str(item.get(field, ""))
    if not re.fullmatch(r"\[[-+0-9.eE\sinf]*\]", text):
        raise InputError(f"{path}: its saved '{field}' ({text[:40]!r}) is not a list of numbers")
    return np.array(text.strip("[]").split(), dtype=kind)


def _observation_space(item: dict[str, Any], cls: type, path: Path) -> spaces.Box:
    if "Box" not in item.get(":type:", ""):
        raise InputError(f"{path}: its observation space is not a Box")
    shape = tuple(int(v) for v in _numbers(item, "_shape", path, int))
    low, high = _numbers(item, "low", path), _numbers(item, "high", path)
    if low.size != int(np.prod(shape)) or high.size != low.size:
        raise InputError(f"{path}: its observation bounds do not match its shape {shape}")
    return spaces.Box(
        low.reshape(shape).astype(np.float32), high.reshape(shape).astype(np.float32), dtype=np.float32
    )


def _action_space(item: dict[str, Any], cls: type, path: Path) -> spaces.Space:
    kind = item.get(":type:", "")
    if "MultiDiscrete" in kind:
        return spaces.MultiDiscrete(_numbers(item, "nvec", path, int))
    if "Discrete" in kind and re.fullmatch(r"\d+", str(item.get("n", ""))):
        return spaces.Discrete(int(item["n"]))
    raise InputError(f"{path}: its action space is neither Discrete nor MultiDiscrete")


def _policy_kwargs(item: dict[str, Any], cls: type, path: Path) -> dict[str, Any]:
    """A2C's (it adds RMSprop): the layer widths read from the weights, loaded weights-only."""
    try:
        with zipfile.ZipFile(path) as archive:
            raw = io.BytesIO(archive.read("policy.pth"))
        weights = torch.load(raw, map_location="cpu", weights_only=True)
    except (OSError, KeyError, RuntimeError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: its policy weights cannot be read ({first})") from None
    layers = sorted(
        (int(m.group(1)), tensor.shape[0])
        for key, tensor in weights.items()
        if (m := re.fullmatch(r"mlp_extractor\.policy_net\.(\d+)\.weight", key))
    )
    rms = {"alpha": 0.99, "eps": 1e-5, "weight_decay": 0}
    return {
        "net_arch": [width for _, width in layers],
        "optimizer_class": torch.optim.RMSprop,
        "optimizer_kwargs": rms,
    }


def _clip_range(item: dict[str, Any], cls: type, path: Path) -> float:
    found = re.search(r"val=([0-9.eE+-]+)", str(item.get("value_schedule", "")))
    return float(found.group(1)) if found else 0.2


REBUILT: dict[str, Rebuild] = {
    "policy_class": lambda item, cls, path: cls.policy_aliases["MlpPolicy"],
    "observation_space": _observation_space,
    "action_space": _action_space,
    "clip_range": _clip_range,
    "policy_kwargs": _policy_kwargs,
    "train_freq": lambda item, cls, path: 1,  # build_model's; _setup_model makes it a TrainFreq
    # recomputed by _setup_model from the plain hyper-parameters, or only used while training
    "lr_schedule": lambda item, cls, path: None,
    "exploration_schedule": lambda item, cls, path: None,
    "rollout_buffer_class": lambda item, cls, path: None,
    "replay_buffer_class": lambda item, cls, path: None,
    "_last_obs": lambda item, cls, path: None,
    "_last_episode_starts": lambda item, cls, path: None,
    "_last_original_obs": lambda item, cls, path: None,
    "ep_info_buffer": lambda item, cls, path: deque(maxlen=100),
    "ep_success_buffer": lambda item, cls, path: deque(maxlen=100),
    "_explore_rng": lambda item, cls, path: None,  # MaskedDQN reseeds it from the agent's seed
}
