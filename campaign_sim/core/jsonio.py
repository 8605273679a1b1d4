"""JSON as the standard defines it: no NaN or Infinity tokens (Python's json writes them, and
other readers refuse them), and a one-line error naming a file that is not readable JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from campaign_sim.core.errors import InputError


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None (JSON null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps_json(value: Any, *, indent: int = 2) -> str:
    """Strict JSON text (sorted keys, non-finite numbers as null), newline-terminated."""
    return json.dumps(finite(value), indent=indent, sort_keys=True, allow_nan=False, default=str) + "\n"


def read_json(path: str | Path, *, expected: type = dict) -> Any:
    """The JSON document in ``path``; a missing, truncated or mistyped file is an InputError
    naming it."""
    path = Path(path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(value, expected):
        raise InputError(f"{path}: expected a JSON {expected.__name__}, got {type(value).__name__}")
    return value
