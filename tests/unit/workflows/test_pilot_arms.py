"""A pilot keeps arms for copies the log never showed (``PilotSettings.new_copy_arms``)."""

from __future__ import annotations

import numpy as np

from campaign_sim.reports.pilot_page import _shortened
from campaign_sim.workflows.pilot import PilotSettings, _arms_of


def test_a_new_copy_takes_a_reserved_arm_and_the_rest_go_by_promise():
    order = [5, 2, 9, 7, 3]  # most promising first
    new_copy = np.zeros(10, dtype=bool)
    new_copy[[7, 3]] = True
    assert _arms_of(order, new_copy, PilotSettings(arms_per_group=2)) == [5, 7]
    assert _arms_of(order, new_copy, PilotSettings(arms_per_group=3, new_copy_arms=2)) == [5, 7, 3]
    assert _arms_of(order, new_copy, PilotSettings(arms_per_group=2, new_copy_arms=0)) == [5, 2]


def test_without_new_copies_the_arms_are_the_most_promising():
    order, none = [4, 1, 8], np.zeros(10, dtype=bool)
    assert _arms_of(order, none, PilotSettings(arms_per_group=2)) == [4, 1]
    assert _arms_of([], none, PilotSettings()) == []


def test_long_arm_labels_are_cut_in_the_middle():
    label = "sms|0%|email-mobile_first-00-social_proof-6"
    short = _shortened(label, 34)
    assert len(short) == 34 and short.startswith("sms|0%|email-mob") and short.endswith("proof-6")
    assert _shortened("push|0%|value", 34) == "push|0%|value"
