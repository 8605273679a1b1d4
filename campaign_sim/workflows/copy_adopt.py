"""`campaign-sim copy adopt`: a library's copies become actions of a fitted world, so agents,
off-policy evaluation, the pilot and the report can choose them (simulators/fitted/copy_actions.py).

Which copies: the ones named, or each shopper group's best ``per_group`` by predicted profit lift
(``copy score``, whose scores sit in the world folder). A copy action goes with every offer and
channel (the action's dimensions are independent), so only a copy that passes the guardrails on
every channel of the world with no price claim can become one: a "20% off" text sent at full
price would be a false promise, an e-mail subject line sent as a 120-character push a broken one.
The world is rewritten whole (staged, then swapped in): its predictions for the actions it had
are unchanged, the new ones have no support, and business-as-usual never takes them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from campaign_sim.core.atomic import swap_dir
from campaign_sim.core.config import NO_CONTACT
from campaign_sim.core.errors import DataError, InputError
from campaign_sim.core.manifest import MANIFEST_FILE
from campaign_sim.core.run_lock import run_lock
from campaign_sim.data.copies import load_copy_embeddings
from campaign_sim.data.text import TextEncoder
from campaign_sim.llm.guardrails import Guardrails
from campaign_sim.simulators.fitted.copy_actions import with_copies
from campaign_sim.simulators.fitted.world import META_FILE, POPULATION_FILE, WEIGHTS_FILE, FittedWorld
from campaign_sim.workflows.copywriting import SCORES_FILE

WORLD_FILES = {WEIGHTS_FILE, META_FILE, POPULATION_FILE, MANIFEST_FILE}  # what save writes


@dataclass(frozen=True)
class Adopted:
    """What ``copy adopt`` did: the copies added, and the world's copy axis after it."""

    added: tuple[str, ...]
    copies: tuple[str, ...]
    n_actions: int

    def lines(self) -> list[str]:
        return [
            f"added {len(self.added)} copies to the world's actions: {', '.join(self.added)}",
            f"the world now has {len(self.copies)} copies, {self.n_actions} actions; the added ones have "
            "no logged support, so safe-improvement policies keep them at business-as-usual's zero "
            "and a pilot is how to learn them",
        ]


def run_copy_adopt(
    world_dir: str | Path,
    library: str | Path,
    *,
    encoder: TextEncoder,
    copy_ids: list[str] | None = None,
    per_group: int = 1,
) -> Adopted:
    """Add ``copy_ids`` (or each group's ``per_group`` best scored copies) of ``library`` to the
    world at ``world_dir``, rewriting it whole."""
    world_dir = Path(world_dir)
    with run_lock(world_dir.parent):
        world = FittedWorld.load(world_dir)
        agents = world_dir.parent / "agents"
        if agents.is_dir() and any(agents.iterdir()):
            raise InputError(
                f"{agents}: agents were trained in this world; adopting copies changes its actions "
                "(fit a new run, or move the agents away)"
            )
        embeddings = load_copy_embeddings(library, encoder=encoder)  # checks the file's columns
        frame = pl.read_parquet(library, columns=["copy_id", "text"])
        texts = dict(zip(frame.get_column("copy_id").cast(pl.String), frame.get_column("text"), strict=True))
        for copy_id in copy_ids or ():
            if copy_id not in texts:
                raise DataError(
                    "no such copy",
                    file=str(library),
                    column="copy_id",
                    expected=f"one of its copies, not {copy_id!r}",
                )
        channels = [c for c in world.config.actions.channels if c != NO_CONTACT]
        for copy_id in copy_ids or ():
            if reasons := refusals(texts[copy_id], channels):
                raise InputError(f"copy {copy_id!r} cannot go with every offer and channel: {reasons[0]}")
        portable = {c: t for c, t in texts.items() if not refusals(t, channels)}
        chosen = copy_ids or best_per_group(world_dir / SCORES_FILE, per_group=per_group, library=portable)
        wider = with_copies(world, {c: embeddings[c] for c in chosen}, texts)
        with swap_dir(world_dir) as staging:
            for path in world_dir.iterdir():  # fidelity, copy scores: still true of the wider world
                if path.is_file() and path.name not in WORLD_FILES:
                    shutil.copy2(path, staging / path.name)
            FittedWorld.load(wider.save(staging))  # what later commands load, checked now
    actions = wider.config.actions
    return Adopted(tuple(chosen), actions.copies, actions.n_actions)


def refusals(text: str, channels: list[str]) -> list[str]:
    """Why ``text`` cannot be a copy action: the guardrails' reasons on any of ``channels`` for a
    full-price send (a price claim, a length, a missing body), each named by its channel."""
    guard = Guardrails()
    return [
        f"{channel}: {reason}"
        for channel in channels
        for reason in guard.check(text, discount=0.0, channel=channel)
    ]


def best_per_group(scores_path: Path, *, per_group: int, library: dict[str, str]) -> list[str]:
    """Each group's ``per_group`` copies of ``library`` with the highest predicted profit lift,
    in order of first appearance (groups sorted), each copy once."""
    if not scores_path.exists():
        raise InputError(
            f"{scores_path}: no copy scores; run `campaign-sim copy score --world {scores_path.parent} "
            "--library LIBRARY` first, or name the copies with --copy"
        )
    scores = pl.read_parquet(scores_path).filter(pl.col("copy_id").is_in(list(library)))
    if scores.is_empty():
        raise InputError(
            f"{scores_path}: no scored copy of this library can go with every offer and channel "
            "(a full-price text that fits every channel's length; e.g. `copy generate --discounts 0 "
            "--channels push`), or name copies with --copy"
        )
    best = (
        scores.sort(["group", "profit_lift", "copy_id"], descending=[False, True, False])
        .group_by("group", maintain_order=True)
        .head(per_group)
    )
    return list(dict.fromkeys(best.get_column("copy_id").to_list()))
