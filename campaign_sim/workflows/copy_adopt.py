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
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from campaign_sim.core.atomic import swap_dir
from campaign_sim.core.config import NO_CONTACT
from campaign_sim.core.errors import DataError, InputError
from campaign_sim.core.manifest import MANIFEST_FILE
from campaign_sim.core.run_lock import run_lock
from campaign_sim.core.runs import RunDir, create_run
from campaign_sim.data.copies import load_copy_embeddings
from campaign_sim.data.text import TextEncoder
from campaign_sim.llm.guardrails import Guardrails
from campaign_sim.simulators.fitted.copy_actions import with_copies
from campaign_sim.simulators.fitted.world import META_FILE, POPULATION_FILE, WEIGHTS_FILE, FittedWorld
from campaign_sim.workflows.copywriting import SCORES_FILE

WORLD_LIBRARY = "copies.parquet"  # beside the world: its copies, the config's copy_library
WORLD_FILES = {WEIGHTS_FILE, META_FILE, POPULATION_FILE, MANIFEST_FILE, WORLD_LIBRARY}  # written anew


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
        texts = _texts(library)
        chosen = copy_ids or best_per_group(
            world_dir / SCORES_FILE, per_group=per_group, library=portable_copies(texts, world)
        )
        _check_named(copy_ids or [], texts, world, library=library)
        added = {c: (texts[c], embeddings[c]) for c in chosen}
        library_path = world_dir.resolve() / WORLD_LIBRARY  # the world's copies, logged and added
        wider = with_copies(world, {c: v for c, (_, v) in added.items()}, texts)  # refuses first
        frame = _world_library(world, added, encoder=encoder)
        actions = replace(wider.config.actions, copy_library=str(library_path))
        wider = replace(wider, config=replace(wider.config, actions=actions))
        with swap_dir(world_dir) as staging:
            for path in world_dir.iterdir():  # fidelity, copy scores: still true of the wider world
                if path.is_file() and path.name not in WORLD_FILES:
                    shutil.copy2(path, staging / path.name)
            frame.write_parquet(staging / WORLD_LIBRARY)
            FittedWorld.load(wider.save(staging))  # what later commands load, checked now
        run = RunDir(world_dir.parent)
        if run.config_path.exists():  # the run reads logs with the added copies from now on
            config = run.load_config()
            create_run(
                run.root,
                replace(
                    config,
                    actions=replace(config.actions, copies=actions.copies, copy_library=str(library_path)),
                ),
            )
    return Adopted(tuple(chosen), actions.copies, actions.n_actions)


def _texts(library: str | Path) -> dict[str, str]:
    frame = pl.read_parquet(library, columns=["copy_id", "text"])
    return dict(zip(frame.get_column("copy_id").cast(pl.String), frame.get_column("text"), strict=True))


def portable_copies(texts: dict[str, str], world: FittedWorld) -> dict[str, str]:
    """The copies that can go with every offer and channel of ``world`` (``refusals``)."""
    channels = [c for c in world.config.actions.channels if c != NO_CONTACT]
    return {c: t for c, t in texts.items() if not refusals(t, channels)}


def _check_named(copy_ids: list[str], texts: dict[str, str], world: FittedWorld, *, library) -> None:  # noqa: ANN001
    channels = [c for c in world.config.actions.channels if c != NO_CONTACT]
    for copy_id in copy_ids:
        if copy_id not in texts:
            raise DataError(
                "no such copy",
                file=str(library),
                column="copy_id",
                expected=f"one of its copies, not {copy_id!r}",
            )
        if reasons := refusals(texts[copy_id], channels):
            raise InputError(f"copy {copy_id!r} cannot go with every offer and channel: {reasons[0]}")


def _world_library(world: FittedWorld, added: dict[str, tuple[str, np.ndarray]], *, encoder) -> pl.DataFrame:  # noqa: ANN001
    """The world's copies as a library (copy_id, text, embedding): the ones it was fitted or
    earlier adopted with, read from its config's library, then ``added``."""
    source = world.config.actions.copy_library
    path = Path(source)
    if not path.is_absolute():  # read beside the log, as `fit` read it
        path = Path(world.metadata.get("source", ".")).parent / source
    known = load_copy_embeddings(path, encoder=encoder)
    texts = _texts(path)
    rows = [(c, texts[c], known[c]) for c in world.config.actions.copies]
    rows += [(c, text, vector) for c, (text, vector) in added.items()]
    return pl.DataFrame(
        {
            "copy_id": [r[0] for r in rows],
            "text": [r[1] for r in rows],
            "embedding": [np.asarray(r[2], dtype=np.float32).tolist() for r in rows],
        },
        schema_overrides={"embedding": pl.List(pl.Float32)},
    )


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
