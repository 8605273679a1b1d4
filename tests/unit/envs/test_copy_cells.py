"""Copies written for some offers and channels only (``actions.copy_cells``): the environment
sends one with any other offer or channel as no contact (in both step paths), its masks offer a
copy only where it can go, and policies' probabilities there become no contact."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from campaign_sim.agents.policy import flat_masks
from campaign_sim.core.action_space import ActionSpace, CopyCells
from campaign_sim.core.config import config_from_text
from campaign_sim.core.config_writer import config_to_toml
from campaign_sim.envs.campaign_env import CampaignEnv
from campaign_sim.envs.sb3_vec_env import CampaignVecEnv
from campaign_sim.simulators.synthetic.world import SyntheticWorld

POOL = {"pool_size": 2_000}


def _restricted_world() -> SyntheticWorld:
    world = SyntheticWorld.create()
    valid = np.ones(world.shape, dtype=bool)
    valid[:, :, 1] = False
    valid[0, 1, 1] = True  # copy 1: only by e-mail at full price
    valid[:, 0, :] = True  # no contact goes with any copy
    return replace(world, valid_actions=valid)


@pytest.mark.parametrize("fused", [True, False])
def test_a_copy_off_its_cells_is_sent_as_no_contact(fused):
    n, world = 400, _restricted_world()
    env = CampaignVecEnv(n, world, **POOL, seed=3)
    env.core._fused = fused and env.core._fused
    env.reset()
    rng = np.random.default_rng(0)
    sent_off = sent_on = 0
    for _ in range(24):
        action = rng.integers(0, world.shape, size=(n, 3))
        action[:, 2] = 1  # always the restricted copy
        masks = env.core.action_masks()
        env.step_async(action)
        env.step_wait()
        info = env.last_info
        off = ~world.valid_actions[action[:, 0], action[:, 1], 1]
        assert not info["contacted"][off].any()
        assert info["invalid_action"][off].all()
        sent_off += int(off.sum())
        sent_on += int(info["contacted"][~off].sum())
        # the copy mask offers copy 1 exactly where e-mail and full price are both allowed (or
        # where nobody can be contacted, and the copy means nothing)
        d, c = masks[:, :4], masks[:, 4:8]
        assert np.array_equal(masks[:, 8 + 1], (d[:, 0] & c[:, 1]) | ~c[:, 1:].any(axis=1))
    assert sent_off > 1000 and sent_on > 100  # both cases were played


def test_policies_put_no_probability_off_a_copys_cells():
    world = _restricted_world()
    env = CampaignVecEnv(50, world, **POOL, seed=1)
    env.reset()
    core = env.core
    masks = core.action_masks()
    allowed = flat_masks(masks, core.shape, core.valid)
    assert not allowed[:, ~world.valid_actions.reshape(-1)].any()
    uniform = np.full((50, int(np.prod(core.shape))), 1.0 / np.prod(core.shape))
    probs = core.allowed_probs(uniform)
    invalid = ~world.valid_actions.reshape(-1)
    assert np.allclose(probs.sum(axis=1), 1.0) and not probs[:, invalid].any()
    assert np.allclose(probs[:, 0], uniform[:, 0] + uniform[:, invalid].sum(axis=1))


def test_the_env_checker_passes_with_restricted_copies():
    check_env(CampaignEnv(_restricted_world(), **POOL))


def test_copy_cells_round_trip_through_toml_and_give_the_valid_grid():
    actions = ActionSpace(copies=("standard", "gen-1"), copy_cells=(CopyCells("gen-1", ("email",), (0.1,)),))
    valid = actions.valid
    assert valid[:, :, 0].all() and valid[:, 0, 1].all()
    assert valid[1, 1, 1] and valid[1:, 1:, 1].sum() == 1 and not valid[0, 1:, 1].any()
    config = config_from_text(config_to_toml(_config_with(actions)), source="t")
    assert config.actions == actions


def test_copies_written_for_a_profile_go_to_its_customers_only():
    actions = ActionSpace(
        copies=("standard", "gen-1", "gen-2"),
        copy_cells=(
            CopyCells("gen-1", ("email",), (0.0,), ("loyal",)),
            CopyCells("gen-2", ("email", "sms"), (0.0,), ("dormant", "loyal")),
        ),
        copy_profiles_by="segment",
    )
    assert actions.copy_profiles == ("dormant", "loyal")
    table = actions.copies_for_profiles()  # rows: dormant, loyal, anyone else
    assert table.tolist() == [[True, False, True], [True, True, True], [True, False, False]]
    assert config_from_text(config_to_toml(_config_with(actions)), source="t").actions == actions
    assert ActionSpace().copies_for_profiles() is None
    with pytest.raises(Exception, match="copy_profiles_by"):
        config_from_text(
            "[actions]\ncopies = ['a']\n[actions.copy_cells.a]\nchannels = ['email']\n"
            "discounts = [0.0]\nprofiles = ['loyal']\n",
            source="t",
        )


def test_copy_cells_naming_an_unknown_copy_or_channel_is_refused():
    base = "[actions]\ncopies = ['a']\n"
    for bad, said in (
        ("[actions.copy_cells.b]\nchannels = ['email']\ndiscounts = [0.0]\n", "actions.copy_cells.b"),
        ("[actions.copy_cells.a]\nchannels = ['fax']\ndiscounts = [0.0]\n", "'fax'"),
        ("[actions.copy_cells.a]\nchannels = ['email']\ndiscounts = [0.15]\n", "discounts"),
    ):
        with pytest.raises(Exception, match=said):
            config_from_text(base + bad, source="t")


def _config_with(actions: ActionSpace):
    return replace(config_from_text("", source="t"), actions=actions)
