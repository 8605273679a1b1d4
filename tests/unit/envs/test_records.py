"""The slot records the compiled passes write, seen through numpy views.

Why records and one flags array: in numba 0.68, a ``parallel=True`` loop that resets an array
nested in a record (``slot.unsubscribed[j] = 0`` for ``slot = slots[i]``) after an inner loop
over another array left the flags set, and writes through a tuple of arrays were dropped. Scalar
record fields and plain 2-D arrays indexed by row were written every time. The restart tests
below are the cases that caught it: every slot is dirtied first, so a dropped reset shows.
"""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.envs.records import copy_state, field, info_of, new_flags, new_results, new_slots, state_of
from campaign_sim.envs.vector_env import VectorCampaignEnv
from campaign_sim.simulators.state import SINCE_CAP, ShopperState


def test_state_view_writes_reach_the_records_and_back():
    slots, flags = new_slots(5), new_flags(5, 3, 4)
    state = state_of(slots, flags, 3)
    state.fatigue[2], state.unsubscribed[2, 1], state.recent_contacts[2, 3] = 1.5, True, 1
    assert slots["fatigue"][2] == 1.5 and flags[2].tolist() == [0, 1, 0, 0, 0, 0, 1]
    source = ShopperState.initial(np.arange(5.0), 3, 4)
    source.unsubscribed[4, 2] = True
    copy_state(state, source)
    assert flags[4, 2] == 1 and flags[2].sum() == 0
    np.testing.assert_array_equal(slots["since_purchase"], np.arange(5.0))
    np.testing.assert_array_equal(slots["since_contact"], SINCE_CAP)


def test_info_shows_bool_fields_as_bools():
    results = new_results(3)
    results["visit"] = [True, False, True]
    info = info_of(results)
    assert info["visit"].dtype == np.bool_ and info["visit"].tolist() == [True, False, True]
    assert field(results, "reward").dtype == np.float32


def _dirty(env: VectorCampaignEnv) -> None:
    state = env.core.state
    state.unsubscribed[:, 1:] = True
    state.recent_contacts[:] = 1
    state.fatigue[:], state.discount_exposure[:], state.since_contact[:], state.period[:] = 3.0, 2.0, 0.0, 7


@pytest.mark.parametrize("n", [6, 1_000])
@pytest.mark.parametrize("fused", [True, False])
def test_a_restart_resets_every_restarted_slot_and_no_other(n, fused):
    env = VectorCampaignEnv(n, pool_size=500, budget=None if fused else 1e9)
    env.reset(seed=3)
    assert env.core._fused is fused
    _dirty(env)
    rows = np.arange(1, n, 2)
    env.core.restart_observed(env.core.observe(), rows)
    state, kept = env.core.state, np.arange(0, n, 2)
    assert not state.unsubscribed[rows].any() and not state.recent_contacts[rows].any()
    assert (state.fatigue[rows] == 0).all() and (state.period[rows] == 0).all()
    assert (state.since_contact[rows] == SINCE_CAP).all()
    assert state.unsubscribed[kept, 1:].all() and (state.period[kept] == 7).all()
