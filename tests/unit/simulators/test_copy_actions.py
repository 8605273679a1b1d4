"""New copies as actions of a fitted world (`copy adopt`): the known actions are untouched, the
new ones have no support and business-as-usual never takes them, the saved world reproduces the
one in memory, and the true world values the same texts."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.core.errors import InputError
from campaign_sim.data.text import HashingEncoder
from campaign_sim.simulators.fitted.copy_actions import ADDED_COPIES, with_copies
from campaign_sim.simulators.fitted.fit import fit_world
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.synthetic.world import SyntheticWorld
from tests.unit.synthetic_logs import synthetic_log

pytestmark = pytest.mark.slow  # one small fit for the module
FAST = ["world.ensemble=2", "world.max_epochs=2", "world.hidden=[16]"]
NEW = {
    "email-loyal-10-value-0": "Quality that lasts: 10% off linen summer shirts for our regulars.",
    "sms-dormant-00-personal-1": "Picked for you: new everyday denim for old friends of the shop.",
}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    truth = SyntheticWorld.create(seed=0)
    log = synthetic_log(tmp_path_factory.mktemp("log"), customers=600, periods=3, seed=3, overrides=FAST)
    embeddings = dict(zip(truth.copy_ids, truth.copy_embeddings, strict=True))
    world = fit_world(log, copy_embeddings=embeddings, seed=1).world
    vectors = HashingEncoder().encode(list(NEW.values())).astype(np.float64)
    return truth, world, with_copies(world, dict(zip(NEW, vectors, strict=True)), NEW)


def _renumbered(world: FittedWorld, wider: FittedWorld) -> np.ndarray:
    return wider.config.actions.ravel(
        *world.config.actions.unravel(np.arange(world.config.actions.n_actions))
    )


def test_known_actions_are_untouched_and_new_ones_unsupported(fitted):
    _, world, wider = fitted
    assert wider.config.actions.copies == (*world.config.actions.copies, *NEW)
    assert wider.config.actions.n_actions == world.config.actions.n_actions // 4 * 6
    at = _renumbered(world, wider)
    x = world.encoding.shopper_matrix(world.population)
    state = np.zeros((len(x), len(world.encoding.state)))
    rng = np.random.default_rng(0)
    action = rng.integers(0, world.config.actions.n_actions, len(x))
    before, after = world.predict(x, state, action), wider.predict(x, state, at[action])
    for name in ("p_visit", "p_conversion", "p_unsubscribe", "member_revenue"):
        np.testing.assert_array_equal(getattr(before, name), getattr(after, name))  # bit for bit
    new = np.setdiff1d(np.arange(wider.config.actions.n_actions), at)
    assert (wider.support[at] == world.support).all() and (wider.support[new] == 0).all()
    assert (wider.support_table.decisions[:, at] == world.support_table.decisions).all()
    assert wider.support_table.decisions[:, new].sum() == 0 == wider.support_table.purchases[:, new].sum()
    raw = {c: np.zeros(len(x)) for c in world.encoding.state}
    usual = world.behaviour_probs(x, raw, np.ones((len(x), world.config.actions.n_actions), bool))
    widened = wider.behaviour_probs(x, raw, np.ones((len(x), wider.config.actions.n_actions), bool))
    assert widened[:, new].max() == 0.0  # business-as-usual never sends a copy it never logged
    np.testing.assert_allclose(widened[:, at], usual, atol=1e-6)  # float32 rounding of a wider matmul


def test_a_new_copy_is_predicted_from_its_text(fitted):
    """The new copy's action reads its own coordinates: two new texts, same offer, differ."""
    _, world, wider = fitted
    actions = wider.config.actions
    first, second = (actions.ravel(1, 1, actions.copies.index(c)) for c in NEW)
    x = world.encoding.shopper_matrix(world.population)
    state = np.zeros((len(x), len(world.encoding.state)))
    one = wider.predict(x, state, np.full(len(x), first)).p_visit
    other = wider.predict(x, state, np.full(len(x), second)).p_visit
    assert np.isfinite(one).all() and not np.array_equal(one, other)


def test_the_saved_wider_world_is_the_one_in_memory(fitted, tmp_path):
    _, _, wider = fitted
    again = FittedWorld.load(wider.save(tmp_path / "world"))
    assert again.config.actions.copies == wider.config.actions.copies
    assert again.metadata[ADDED_COPIES] == [{"copy_id": c, "text": t} for c, t in NEW.items()]
    for name in ("action_table",):
        np.testing.assert_array_equal(getattr(again.encoding, name), getattr(wider.encoding, name))
    np.testing.assert_array_equal(again.support_table.decisions, wider.support_table.decisions)
    for key, values in wider.behaviour.items():
        np.testing.assert_array_equal(again.behaviour[key], values)


def test_the_true_world_values_an_added_text_as_it_values_that_text(fitted):
    """An added copy whose text is a known copy's has that copy's true effect, action for action."""
    truth, _, _ = fitted
    twin = truth.with_copies({"twin": truth.copy_texts[2]}, truth.copy_embeddings[2:3])
    pop = truth.sample_population(200, np.random.default_rng(1))
    state = truth.initial_state(pop)
    known = np.tile([1, 1, 2], (pop.n, 1))
    added = np.tile([1, 1, truth.shape[2]], (pop.n, 1))
    assert twin.shape == (*truth.shape[:2], truth.shape[2] + 1)
    np.testing.assert_array_equal(
        twin.response(pop, state, known).p_visit, twin.response(pop, state, added).p_visit
    )


def test_refusals_are_one_line(fitted):
    _, world, wider = fitted
    vector = HashingEncoder().encode(["x"]).astype(np.float64)[0]
    with pytest.raises(InputError, match="already one of the world's copies"):
        with_copies(wider, {next(iter(NEW)): vector}, NEW)
    with pytest.raises(InputError, match="dimensions"):
        with_copies(world, {"short": vector[:10]}, {"short": "x"})
