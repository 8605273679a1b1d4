"""Work as Ray tasks: ``train --ray auto|ADDRESS`` (one task per algorithm and seed), ``fit
--ray`` (one task per ensemble member, one for the behaviour model) and ``recommend --ray`` (the
same fit, then the candidates' value-table chunks and scores).

A training task resolves the world itself from the request (a path or "synthetic", never a
pickled world), seeds everything from the agent's own seed (never from the worker it lands on)
and writes its agent into the run directory, as the local loop does; the driver then loads the
saved agents. A member task trains from the shared inputs (put once in the object store) with
the member's own seed. So the results are the local run's, exactly (tests/integration/test_ray.py).
Ray is imported only here, only with the flag.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from campaign_sim.agents.sb3_agents import TrainSettings, load_model
from campaign_sim.agents.training import train_agent
from campaign_sim.core.errors import CampaignSimError, InputError
from campaign_sim.simulators.fitted.fit import (
    BehaviourJob,
    MemberData,
    MemberJob,
    MemberRunner,
    TrainedMember,
    train_one_member,
)

T = TypeVar("T")


def _train_one(job: tuple[dict, str], world: str | None, options: dict) -> str:
    """One agent (settings, directory), in whichever Ray worker runs it; where it was saved."""
    settings, directory = job
    train_agent(world, TrainSettings(**settings), Path(directory), **options)
    return directory


def train_on_ray(address: str, jobs: list[tuple[TrainSettings, Path]], *, world, options: dict) -> list:
    """Train ``jobs`` (settings, agent directory) as Ray tasks on the cluster at ``address``
    ("auto": a running cluster, or a local one started for this command); the trained models,
    loaded from their saved files, in the order of ``jobs``."""
    with ray_tasks(address) as tasks:
        tasks.map(_train_one, [(asdict(s), str(d)) for s, d in jobs], world, options)
    return [load_model(s.algo, d / "model.zip") for s, d in jobs]


class RayTasks:
    """One-CPU tasks on a joined Ray cluster (``ray_tasks``): a ``TaskMap`` and a ``fit_world``
    member runner. Each task runs single-threaded, so tasks do not fight over the cores."""

    def __init__(self, ray) -> None:
        self.ray = ray

    def map(self, fn: Callable[..., T], items: Sequence[Any], *shared: Any) -> list[T]:
        """``[fn(item, *shared) ...]`` as one task per item, in order; ``shared`` travels once."""
        refs = [self.ray.put(value) for value in shared]
        task = self.ray.remote(num_cpus=1)(_single_threaded)
        return self.get([task.remote(fn, item, *refs) for item in items])

    def get(self, refs):  # noqa: ANN001, ANN201 - ray's ObjectRef(s)
        """``ray.get``, with a task's own error (bad input, a project error) raised as itself:
        one line for the user, not a Ray traceback."""
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayTaskError as exc:
            if isinstance(exc.cause, CampaignSimError):
                raise exc.cause from None
            raise

    def fit_members(
        self, data: MemberData, jobs: list[MemberJob], behaviour: BehaviourJob
    ) -> tuple[list[TrainedMember], dict[str, np.ndarray]]:
        """Each ensemble member a task, and the behaviour model one more beside them, submitted
        first (it is the longest: 22 s against 8 s a member on a 200k-row log)."""
        logging_policy = self.ray.remote(num_cpus=1)(_single_threaded).remote(BehaviourJob.run, behaviour)
        return self.map(_member, jobs, data), self.get(logging_policy)


@contextmanager
def ray_tasks(address: str) -> Iterator[RayTasks]:
    """``RayTasks`` on the cluster at ``address`` for the block."""
    with _joined(address) as ray:
        yield RayTasks(ray)


def members_on_ray(address: str) -> MemberRunner:
    """A ``fit_world`` member runner that joins the cluster at ``address`` for the fit."""

    def run(
        data: MemberData, jobs: list[MemberJob], behaviour: BehaviourJob
    ) -> tuple[list[TrainedMember], dict[str, np.ndarray]]:
        with ray_tasks(address) as tasks:
            return tasks.fit_members(data, jobs, behaviour)

    return run


def _member(job: MemberJob, data: MemberData) -> TrainedMember:
    return train_one_member(data, job)


def _single_threaded(fn: Callable[..., T], *args: Any) -> T:
    # one CPU per task: the env's parallel kernels must not spread over the cores the other
    # tasks hold (two tasks x two numba threads on 2 cores ran 3x slower than one process)
    import numba
    import torch

    numba.set_num_threads(1)
    torch.set_num_threads(1)
    return fn(*args)


@contextmanager
def _joined(address: str) -> Iterator:
    """Ray, joined to the cluster at ``address`` for the block; a one-line error if it cannot."""
    import ray  # check_ray made sure it is there

    if address != "auto":
        _token_auth_like_ray_start()
    try:
        ray.init(
            address=None if address == "auto" else address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,  # the command's output stays the command's
        )
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(
            f"--ray {address}: cannot join a Ray cluster there ({str(exc).splitlines()[0][:120]})"
        ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _token_auth_like_ray_start() -> None:
    """Send this machine's Ray auth token when there is one, as ``ray start --head`` turns token
    auth on when it finds one: once any local ``ray.init()`` (``--ray auto``) has written
    ~/.ray/auth_token, a head started here requires it, and a driver that does not send it is
    refused ("Authentication token is missing"). RAY_AUTH_MODE, when set, decides."""
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # a Ray without token auth
        return
    said = logging.getLogger(maybe_enable_token_auth_if_token_available.__module__)
    level, _ = said.level, said.setLevel(logging.ERROR)  # its notice is not the command's output
    try:
        maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    finally:
        said.setLevel(level)


def check_ray(address: str) -> None:
    """Before any work: Ray importable, and a head listening at ``address`` (ray.init would retry
    a dead address for minutes)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InputError(
            "--ray: Ray is not installed (`pip install campaign-sim[ray]`, or `make install`)"
        ) from None
    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray {address!r}: expected 'auto' or HOST:PORT of a Ray head")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError as exc:
        raise InputError(f"--ray {address}: no Ray head answers there ({exc.strerror or exc})") from None
