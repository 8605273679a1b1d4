"""Work as Ray tasks: ``train --ray auto|ADDRESS`` (one task per algorithm and seed) and
``fit --ray`` (one task per ensemble member).

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np

from campaign_sim.agents.sb3_agents import TrainSettings, load_model
from campaign_sim.agents.training import train_agent
from campaign_sim.core.errors import InputError
from campaign_sim.simulators.fitted.fit import (
    BehaviourJob,
    MemberData,
    MemberJob,
    MemberRunner,
    TrainedMember,
    train_one_member,
)


def _train_one(world: str | None, settings: dict, directory: str, options: dict) -> str:
    """One agent, in whichever Ray worker runs it; returns where it was saved."""
    import numba
    import torch

    # one CPU per task: the env's parallel kernels must not spread over the cores the other
    # tasks hold (two tasks x two numba threads on 2 cores ran 3x slower than one process)
    numba.set_num_threads(1)
    torch.set_num_threads(1)
    train_agent(world, TrainSettings(**settings), Path(directory), **options)
    return directory


def train_on_ray(address: str, jobs: list[tuple[TrainSettings, Path]], *, world, options: dict) -> list:
    """Train ``jobs`` (settings, agent directory) as Ray tasks on the cluster at ``address``
    ("auto": a running cluster, or a local one started for this command); the trained models,
    loaded from their saved files, in the order of ``jobs``."""
    with _joined(address) as ray:
        task = ray.remote(num_cpus=1)(_train_one)
        ray.get([task.remote(world, asdict(s), str(d), options) for s, d in jobs])
    return [load_model(s.algo, d / "model.zip") for s, d in jobs]


def members_on_ray(address: str) -> MemberRunner:
    """A ``fit_world`` member runner: each ensemble member a Ray task (one CPU), and the
    behaviour model one more beside them, submitted first (it is the longest: 22 s against 8 s a
    member on a 200k-row log)."""

    def run(
        data: MemberData, jobs: list[MemberJob], behaviour: BehaviourJob
    ) -> tuple[list[TrainedMember], dict[str, np.ndarray]]:
        with _joined(address) as ray:
            logging_policy = ray.remote(num_cpus=1)(_fit_behaviour).remote(behaviour)
            shared = ray.put(data)  # the inputs travel once, not once per member
            task = ray.remote(num_cpus=1)(_fit_one)
            members = ray.get([task.remote(shared, job) for job in jobs])
            return members, ray.get(logging_policy)

    return run


def _fit_one(data: MemberData, job: MemberJob) -> TrainedMember:
    import numba

    numba.set_num_threads(1)
    return train_one_member(data, job)


def _fit_behaviour(job: BehaviourJob) -> dict[str, np.ndarray]:
    import numba

    numba.set_num_threads(1)
    return job.run()


@contextmanager
def _joined(address: str) -> Iterator:
    """Ray, joined to the cluster at ``address`` for the block; a one-line error if it cannot."""
    import ray  # check_ray made sure it is there

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
