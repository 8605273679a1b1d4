"""A directory's manifest: the SHA-256 of each file written together, checked on load, so a
directory whose files come from different writes (a save killed half-way over an older one,
a file swapped by hand) is refused instead of read as one whole."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from campaign_sim.core.atomic import write_text_atomic
from campaign_sim.core.errors import InputError

MANIFEST_FILE = "manifest.json"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(directory: Path, names: list[str]) -> None:
    """Record the files ``names`` of ``directory`` as one whole (written last)."""
    digests = {name: file_digest(directory / name) for name in sorted(names)}
    write_text_atomic(directory / MANIFEST_FILE, json.dumps({"sha256": digests}, indent=2) + "\n")


def check_manifest(directory: Path, *, remedy: str) -> None:
    """Refuse ``directory`` when a file differs from its manifest (no manifest: nothing to check,
    as in directories written before manifests existed)."""
    path = directory / MANIFEST_FILE
    if not path.exists():
        return
    try:
        digests = json.loads(path.read_text(encoding="utf-8"))["sha256"]
        items = [(str(name), str(value)) for name, value in digests.items()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError(f"{path}: not a readable manifest; {remedy}") from None
    for name, expected in items:
        file = directory / name
        if not file.is_file() or file_digest(file) != expected:
            state = "is missing" if not file.is_file() else "does not match its manifest"
            raise InputError(f"{file}: {state} (a mixed or altered directory); {remedy}")
