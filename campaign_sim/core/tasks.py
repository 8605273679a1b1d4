"""Independent pieces of work mapped over items: here, one after the other, or elsewhere (Ray
tasks, ``workflows.ray_runner.RayTasks.map``) with the same results in the same order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class TaskMap(Protocol):
    def __call__(self, fn: Callable[..., T], items: Sequence[Any], *shared: Any) -> list[T]:
        """``[fn(item, *shared) for item in items]``; ``fn`` must not depend on where it runs."""
        ...


def run_here(fn: Callable[..., T], items: Sequence[Any], *shared: Any) -> list[T]:
    """The local ``TaskMap``: each item in turn, in this process."""
    return [fn(item, *shared) for item in items]
