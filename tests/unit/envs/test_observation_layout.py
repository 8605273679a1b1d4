"""The observation the compiled kernel writes, read back through ``ObservationLayout`` by name:
the one layout definition and the kernel's offsets must agree."""

from __future__ import annotations

import numpy as np

from campaign_sim.envs.campaign_env import CampaignEnv
from campaign_sim.simulators.state import SINCE_CAP


def test_the_kernel_writes_each_column_where_the_layout_names_it():
    env = CampaignEnv(pool_size=500, budget=50.0, horizon=8)
    layout = env.core.layout
    assert env.observation_names == layout.names and env.observation_space.shape == (layout.dim,)
    obs, _ = env.reset(seed=3)
    core = env.core
    at = {name: obs[layout.index(name)] for name in layout.names}
    assert np.allclose(obs[: len(layout.features)], core.seated.features[0])
    assert at["fatigue"] == 0.0 and at["discount_exposure"] == 0.0 and at["period_share"] == 0.0
    assert at["periods_since_contact"] == 1.0  # "long ago" at the start
    assert at["periods_since_purchase"] == np.float32(
        min(core.state.since_purchase[0], SINCE_CAP) / SINCE_CAP
    )
    assert at["budget_left_share"] == 1.0 and at["contacts_in_window_share"] == 0.0
    assert all(at[f"unsubscribed_{c}"] == 0.0 for c in layout.channels[1:])
    email = layout.channels.index("email")
    assert core.consent[0, email]  # this seed seats a shopper who agreed to e-mail
    obs, *_ = env.step(np.array([1, email, 0]))
    at = {name: obs[layout.index(name)] for name in layout.names}
    assert at["period_share"] == np.float32(1 / 8)
    # a contact: fatigue, the cap's window and the budget all moved
    assert at["fatigue"] > 0 and at["contacts_in_window_share"] > 0 and at["budget_left_share"] < 1.0
    assert at["periods_since_contact"] < 1.0
