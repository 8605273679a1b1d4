"""One writer per run directory, and what killed writers left behind cleaned up.

The lock is ``flock`` on a hidden file beside the run (``runs/.NAME.lock``): the kernel drops it
when its holder dies, even by kill -9, so it can never go stale. It is re-entrant within one
process (the demo runs fit, train, recommend and report under one lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from campaign_sim.core.atomic import restore_swapped
from campaign_sim.core.errors import InputError

_held: dict[Path, tuple[int, int]] = {}  # lock path -> (file descriptor, depth)


@contextlib.contextmanager
def run_lock(root: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the run's lock; a second process gets a one-line "in use" error (exit 2)."""
    root = Path(root).resolve()
    path = root.parent / f".{root.name}.lock"
    if path in _held:
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[path] = (fd, _held[path][1] - 1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise InputError(
            f"{root}: in use by campaign-sim pid {holder}; wait for it or use another --out"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _held[path] = (fd, 1)
    try:
        clean_stale(root)
        yield
    finally:
        del _held[path]
        os.close(fd)  # closing releases the flock


def clean_stale(root: Path) -> None:
    """Remove what writers killed mid-write left in ``root`` (only called under its lock, so no
    live writer owns them): temporary files, staging directories, a swapped-aside old world
    (put back when the swap was killed before the new one was in place)."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob(".*"), key=lambda p: -len(p.parts)):
        name = path.name
        if path.is_file() and name.endswith(".tmp"):
            path.unlink(missing_ok=True)
        elif path.is_dir() and ".new-" in name:
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_dir() and ".old-" in name:
            target = path.parent / name[1 : name.index(".old-")]
            restore_swapped(target)
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
