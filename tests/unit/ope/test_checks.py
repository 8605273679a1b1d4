"""Bad arrays handed to the estimators: one clear error naming the array and the first bad index."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.core.errors import InputError
from campaign_sim.ope.estimators import LoggedBandit
from campaign_sim.ope.sequential import LoggedEpisodes


def _good(n: int = 6, actions: int = 3):
    target = np.full((n, actions), 1 / actions)
    return {
        "reward": np.ones(n),
        "action": np.arange(n) % actions,
        "propensity": np.full(n, 0.5),
        "target": target,
    }


@pytest.mark.parametrize(
    ("array", "index", "value", "message"),
    [
        ("propensity", 3, 0.0, r"array 'propensity': index 3 is 0\.0; expected a probability in \(0, 1\]"),
        ("propensity", 1, 1.5, r"array 'propensity': index 1 is 1\.5; expected a probability in \(0, 1\]"),
        ("propensity", 2, np.nan, r"array 'propensity': index 2 is nan"),
        ("reward", 4, np.nan, r"array 'reward': index 4 is nan; expected a finite number"),
        ("action", 5, 3, r"array 'action': index 5 is 3; expected an action in 0\.\.2"),
        ("action", 0, -1, r"array 'action': index 0 is -1"),
    ],
)
def test_a_bad_entry_is_named_by_array_and_first_index(array, index, value, message):
    arrays = _good()
    arrays[array] = arrays[array].astype(type(value)) if array == "action" else arrays[array].copy()
    arrays[array][index] = value
    arrays[array][-1] = value if index < 5 else arrays[array][-1]  # a later bad entry is not the one named
    with pytest.raises(InputError, match=message):
        LoggedBandit(**arrays)


def test_policy_rows_must_sum_to_one():
    arrays = _good()
    arrays["target"][2, 0] = 0.9
    with pytest.raises(
        InputError, match=r"array 'target': row 2 sums to 1\.56.*expected probabilities summing to 1"
    ):
        LoggedBandit(**arrays)
    arrays = _good()
    arrays["target"][1] = [1.5, -0.5, 0.0]
    with pytest.raises(InputError, match=r"array 'target': index \(1, 0\) is 1\.5"):
        LoggedBandit(**arrays)


def test_episode_propensities_are_checked_only_where_the_episode_runs():
    shape = (2, 3)
    active = np.array([[True, True, False], [True, True, True]])
    propensity = np.where(active, 0.5, 0.0)  # 0 after the end of episode 0 is fine
    LoggedEpisodes(np.zeros(shape), propensity, propensity, active)
    propensity[1, 2] = 0.0
    with pytest.raises(InputError, match=r"array 'propensity': index \(1, 2\) is 0\.0"):
        LoggedEpisodes(np.zeros(shape), propensity, propensity, active)
