"""`campaign-sim copy adopt`: a library's copies become actions of a fitted world, so agents,
off-policy evaluation, the pilot and the report can choose them (simulators/fitted/copy_actions.py).

Which copies: the ones named, or each shopper group's best ``per_group`` by predicted profit lift
(``copy score``, whose scores sit in the world folder). A copy goes only with the offers and
channels the guardrails pass it for (``actions.copy_cells``): a "20% off" text only with the 20%
offer, a 300-character e-mail never as a 120-character push. The environment sends a copy with
any other offer or channel as no contact, and policies put no probability there. The world is
rewritten whole (staged, then swapped in): its predictions for the actions it had are unchanged,
the new ones have no support, and business-as-usual never takes them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from campaign_sim.core.action_space import NO_CONTACT, ActionSpace, CopyCells
from campaign_sim.core.atomic import swap_dir
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

PROFILE_COLUMN = "segment"  # a library copy's profile; customers' own profile feature
WORLD_LIBRARY = "copies.parquet"  # beside the world: its copies, the config's copy_library
WORLD_FILES = {WEIGHTS_FILE, META_FILE, POPULATION_FILE, MANIFEST_FILE, WORLD_LIBRARY}  # written anew


@dataclass(frozen=True)
class Adopted:
    """What ``copy adopt`` did: the copies added, and the world's copy axis after it."""

    added: tuple[str, ...]
    copies: tuple[str, ...]
    n_actions: int
    cells: tuple[CopyCells, ...]  # where each added copy may go, in ``added`` order

    def lines(self) -> list[str]:
        return [
            f"added {len(self.added)} copies to the world's actions:",
            *(
                f"  {c.copy}: {', '.join(c.channels)}, "
                + ", ".join("full price" if d == 0 else f"{d:.0%} off" for d in c.discounts)
                + (f"; only to {', '.join(c.profiles)} customers" if c.profiles else "")
                for c in self.cells
            ),
            f"the world now has {len(self.copies)} copies, {self.n_actions} actions; the added ones have "
            "no logged support, so safe-improvement policies keep them at business-as-usual's zero "
            "and a pilot is how to learn them",
        ]

    def to_dict(self) -> dict:
        return {
            "added": list(self.added),
            "copies": list(self.copies),
            "n_actions": self.n_actions,
            "cells": {
                c.copy: {
                    "channels": list(c.channels),
                    "discounts": list(c.discounts),
                    "profiles": list(c.profiles),
                }
                for c in self.cells
            },
        }


def run_copy_adopt(
    world_dir: str | Path,
    library: str | Path,
    *,
    encoder: TextEncoder,
    copy_ids: list[str] | None = None,
    per_group: int = 1,
    any_profile: bool = False,
) -> Adopted:
    """Add ``copy_ids`` (or each group's ``per_group`` best scored copies) of ``library`` to the
    world at ``world_dir``, rewriting it whole. A copy written for a profile (the library's
    ``segment``, a value of the customers' own) goes only to that profile's customers, unless
    ``any_profile``."""
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
        cells = {c: copy_cells(c, t, world.config.actions) for c, t in texts.items()}
        chosen = copy_ids or best_per_group(
            world_dir / SCORES_FILE, per_group=per_group, library={c for c in texts if cells[c]}
        )
        _check_named(copy_ids or [], texts, cells, library=library)
        added = {c: (texts[c], embeddings[c]) for c in chosen}
        library_path = world_dir.resolve() / WORLD_LIBRARY  # the world's copies, logged and added
        wider = with_copies(world, {c: v for c, (_, v) in added.items()}, texts)  # refuses first
        frame = _world_library(world, added, encoder=encoder)
        profiles = {} if any_profile else _profiles(library, world)
        cells = {c: replace(cells[c], profiles=profiles.get(c, ())) for c in chosen}
        restricted = tuple(
            cells[c] for c in chosen if cells[c].profiles or not _everywhere(cells[c], world.config.actions)
        )
        actions = replace(
            wider.config.actions,
            copy_library=str(library_path),
            copy_cells=(*wider.config.actions.copy_cells, *restricted),
            copy_profiles_by=PROFILE_COLUMN if profiles else wider.config.actions.copy_profiles_by,
        )
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
                    actions=replace(
                        config.actions,
                        copies=actions.copies,
                        copy_library=str(library_path),
                        copy_cells=actions.copy_cells,
                        copy_profiles_by=actions.copy_profiles_by,
                    ),
                ),
            )
    return Adopted(tuple(chosen), actions.copies, actions.n_actions, tuple(cells[c] for c in chosen))


def _texts(library: str | Path) -> dict[str, str]:
    frame = pl.read_parquet(library, columns=["copy_id", "text"])
    return dict(zip(frame.get_column("copy_id").cast(pl.String), frame.get_column("text"), strict=True))


def copy_cells(copy_id: str, text: str, actions: ActionSpace) -> CopyCells | None:
    """The offers and channels ``text`` may go out with: its discount levels and the channels
    that pass the guardrails at every one of them (the length checks are per channel, the offer
    checks per discount); None when it may go nowhere."""
    guard, channels = Guardrails(), [c for c in actions.channels if c != NO_CONTACT]
    passes = {
        (d, c): not guard.check(text, discount=d, channel=c) for d in actions.discounts for c in channels
    }
    levels = tuple(d for d in actions.discounts if any(passes[d, c] for c in channels))
    fits = tuple(c for c in channels if levels and all(passes[d, c] for d in levels))
    return CopyCells(copy_id, fits, levels) if fits else None


def _profiles(library: str | Path, world: FittedWorld) -> dict[str, tuple[str, ...]]:
    """copy id -> (its profile,) for the library's copies written for a profile the world's
    customers have (their ``segment``); {} when either side has no such column."""
    columns = pl.read_parquet_schema(library)
    population = world.population
    if PROFILE_COLUMN not in columns or population is None or PROFILE_COLUMN not in population.columns:
        return {}
    known = set(population.get_column(PROFILE_COLUMN).cast(pl.String).unique().to_list())
    frame = pl.read_parquet(library, columns=["copy_id", PROFILE_COLUMN])
    return {
        str(c): (str(p),)
        for c, p in zip(frame.get_column("copy_id"), frame.get_column(PROFILE_COLUMN), strict=True)
        if p is not None and str(p) in known
    }


def _everywhere(cells: CopyCells, actions: ActionSpace) -> bool:
    return len(cells.discounts) == len(actions.discounts) and len(cells.channels) == len(actions.channels) - 1


def _check_named(copy_ids: list[str], texts: dict[str, str], cells, *, library) -> None:  # noqa: ANN001
    for copy_id in copy_ids:
        if copy_id not in texts:
            raise DataError(
                "no such copy",
                file=str(library),
                column="copy_id",
                expected=f"one of its copies, not {copy_id!r}",
            )
        if cells[copy_id] is None:
            reasons = Guardrails().check(texts[copy_id], discount=0.0, channel="email")
            why = f": {reasons[0]}" if reasons else ""
            raise InputError(f"copy {copy_id!r} passes the guardrails with no offer and channel{why}")


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


def best_per_group(scores_path: Path, *, per_group: int, library: set[str]) -> list[str]:
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
            f"{scores_path}: no scored copy of this library passes the guardrails with any offer "
            "and channel of the world; score one that does, or name copies with --copy"
        )
    best = (
        scores.sort(["group", "profit_lift", "copy_id"], descending=[False, True, False])
        .group_by("group", maintain_order=True)
        .head(per_group)
    )
    return list(dict.fromkeys(best.get_column("copy_id").to_list()))
