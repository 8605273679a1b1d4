"""New copies as actions: a fitted world whose copy dimension also holds copies the log never
showed (a generated library), so agents can choose them.

A world that reads copies as text (``encoding.copy_basis``) already predicts any copy from its
embedding (``FittedWorld.copy_lift``). Adding copies only adds actions: every flat action is
renumbered for the longer copy axis, and each per-action array follows it.

- The action table gains a row per (discount, channel, new copy): the copy's coordinates, and
  for the flat-action one-hot the mean over the known copies' rows of the same offer (a new copy
  is "one of those", its own id never seen: ``Encoding.copy_action_rows``). The known actions'
  rows are unchanged, so every prediction for them is the same, bit for bit.
- Support (overall and per context group) is zero for the new actions: nothing was logged.
- The behaviour model (business-as-usual) never takes them: its logits there are -1e9. So
  safe-improvement policies (SPIBB) keep business-as-usual's probability, zero, on them, and a
  pilot is the way to learn what they do.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from campaign_sim.core.errors import InputError
from campaign_sim.simulators.fitted.world import FittedWorld

NEVER = -1e9  # the behaviour model's logit for an action business-as-usual never takes
ADDED_COPIES = "added_copies"  # metadata: [{"copy_id", "text"}] in the order they were added


def with_copies(world: FittedWorld, embeddings: dict[str, np.ndarray], texts: dict[str, str]) -> FittedWorld:
    """``world`` with the copies of ``embeddings`` (copy id -> text embedding, in the encoder the
    world's copies were fitted with) appended to its copy axis."""
    encoding, actions = world.encoding, world.config.actions
    if encoding.copy_basis is None:
        raise InputError(
            "this world encodes copies as ids, not text: fit it with a copy library "
            "(actions.copy_library) so it can read new copies"
        )
    known = [c for c in embeddings if c in actions.copies]
    if known:
        raise InputError(f"copy {known[0]!r} is already one of the world's copies")
    dims = {np.shape(v)[0] for v in embeddings.values()}
    if dims != {encoding.copy_basis.shape[1]}:
        raise InputError(
            f"the copies' embeddings have {sorted(dims)} dimensions; the world reads copies in "
            f"{encoding.copy_basis.shape[1]} (encode the library with the world's encoder)"
        )
    ids = list(embeddings)
    wider = replace(world.config, actions=replace(actions, copies=(*actions.copies, *ids)))
    new_of_old = _renumbering(actions.shape, wider.actions.shape)
    coords = encoding.copy_coordinates(np.stack([embeddings[c] for c in ids]))
    table = _action_table(world, wider, coords)
    behaviour = None
    if world.behaviour is not None:
        behaviour = dict(world.behaviour)
        w1, b1 = behaviour["behaviour.w1"], behaviour["behaviour.b1"]
        behaviour["behaviour.w1"] = _widened(w1, new_of_old, wider.actions.n_actions, fill=0.0)
        behaviour["behaviour.b1"] = _widened(b1[None, :], new_of_old, wider.actions.n_actions, fill=NEVER)[0]
    support_table = world.support_table
    if support_table is not None:
        support_table = replace(
            support_table,
            decisions=_widened(support_table.decisions, new_of_old, wider.actions.n_actions, fill=0),
            purchases=_widened(support_table.purchases, new_of_old, wider.actions.n_actions, fill=0),
        )
    added = [*world.metadata.get(ADDED_COPIES, []), *({"copy_id": c, "text": texts[c]} for c in ids)]
    return replace(
        world,
        config=wider,
        encoding=replace(encoding, action_table=table),
        support=_widened(world.support[None, :], new_of_old, wider.actions.n_actions, fill=0)[0],
        support_table=support_table,
        behaviour=behaviour,
        metadata={**world.metadata, ADDED_COPIES: added},
    )


def _renumbering(old: tuple[int, int, int], new: tuple[int, int, int]) -> np.ndarray:
    """Each old flat action's number in the action space with the longer copy axis."""
    return np.ravel_multi_index(np.unravel_index(np.arange(np.prod(old)), old), new)


def _widened(values: np.ndarray, new_of_old: np.ndarray, n_new: int, *, fill: float) -> np.ndarray:
    """(rows, n_old) -> (rows, n_new): each old column at its new place, ``fill`` elsewhere."""
    out = np.full((values.shape[0], n_new), fill, dtype=values.dtype)
    out[:, new_of_old] = values
    return out


def _action_table(world: FittedWorld, wider, coords: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """The action table over the wider action space: known rows kept, new copies' rows built."""
    encoding, old = world.encoding, world.config.actions
    rows = np.empty((wider.actions.n_actions, encoding.action_table.shape[1]), dtype=np.float32)
    for flat in range(wider.actions.n_actions):
        d, c, k = (int(i) for i in wider.actions.unravel(flat))
        if k < len(old.copies):
            rows[flat] = encoding.action_table[old.ravel(d, c, k)]
        elif c == 0:  # "none" is one action whatever its copy: the row of flat 0
            rows[flat] = encoding.action_table[0]
        else:
            new = coords[k - len(old.copies)][None, :]
            rows[flat] = encoding.copy_action_rows(new, old.discounts[d], old.channels[c])[0]
    return rows
