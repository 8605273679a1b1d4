"""What the compiled passes read and write, by name: one record per slot (its episode key,
shopper and scalar state), one record per slot for a period's results, and the campaign's
scalar rules.

Records, not argument lists: a pass takes the slot records as one argument and reads
``slot.fatigue``. Numba 0.68's parallel loops silently dropped writes made through tuples of
arrays and through arrays nested in records (a reset unsubscribe flag came back set;
``tests/unit/envs/test_records.py`` dirties every slot and checks each reset), while scalar
record fields, rows of plain 2-D arrays and tuples of scalars were written every time. So the
per-channel unsubscribes and the recent-contact ring buffer share one plain (n, C + W) int8
array, ``flags``. numpy sees each field as a strided view (``ShopperState`` over the records and
flags, the info dict over the results), so code outside the passes reads plain arrays.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from campaign_sim.simulators.state import ShopperState

# a bool field reads back through a bool view; numba's records hold bytes (u1), not bools
BOOL = np.uint8
STATE_FIELDS = ("fatigue", "exposure", "since_contact", "since_purchase", "period")
SLOT_DTYPE = np.dtype(
    [
        ("key", np.uint64),  # the episode's random-number key (core.seeding)
        ("shopper", np.int64),  # the pool row seated
        ("fatigue", np.float64),
        ("exposure", np.float64),
        ("since_contact", np.float64),
        ("since_purchase", np.float64),
        ("period", np.int64),
    ],
    align=True,
)


def new_slots(n: int) -> np.ndarray:
    return np.zeros(n, dtype=SLOT_DTYPE)


def new_flags(n: int, n_channels: int, window: int) -> np.ndarray:
    """(n, C + W) int8: unsubscribed per channel, then the recent-contact ring buffer."""
    return np.zeros((n, n_channels + window), dtype=np.int8)


def state_of(slots: np.ndarray, flags: np.ndarray, n_channels: int) -> ShopperState:
    """The slots' state as ``ShopperState`` arrays that are views: writes go to the records."""
    return ShopperState(
        slots["fatigue"],
        slots["exposure"],
        slots["since_contact"],
        slots["since_purchase"],
        flags[:, :n_channels].view(np.bool_),
        flags[:, n_channels:],
        slots["period"],
    )


def copy_state(target: ShopperState, state: ShopperState) -> None:
    """Write ``state`` into ``target``'s arrays (same length)."""
    for into, values in zip(vars(target).values(), vars(state).values(), strict=True):
        np.copyto(into, values, casting="unsafe")


# A period's results per slot, written by the step passes; INFO_KEYS name the ones shown.
RESULT_FLAGS = (
    "terminated",
    "truncated",
    "visit",
    "conversion",
    "unsubscribe",
    "contacted",
    "invalid_action",
    "budget_clipped",
)
RESULT_AMOUNTS = (
    "discount",
    "revenue",
    "expected_revenue",
    "disagreement",
    "discount_cost",
    "contact_cost",
    "profit",
    "expected_profit",
    "penalty",
)
RESULT_DTYPE = np.dtype(
    [
        ("reward", np.float32),
        ("channel", np.int64),
        *((name, BOOL) for name in RESULT_FLAGS),
        *((name, np.float64) for name in RESULT_AMOUNTS),
    ],
    align=True,
)
INFO_KEYS = (
    "revenue",
    "discount_cost",
    "contact_cost",
    "profit",
    "expected_profit",
    "penalty",
    "disagreement",
    "visit",
    "conversion",
    "unsubscribe",
    "contacted",
    "channel",
    "discount",
    "invalid_action",
    "budget_clipped",
)


def new_results(n: int) -> np.ndarray:
    """Unwritten results: every step pass writes every field (zeroing them cost ~5% of a step)."""
    return np.empty(n, dtype=RESULT_DTYPE)


def field(results: np.ndarray, name: str) -> np.ndarray:
    """One result field as an array (a view; bool fields as bools)."""
    values = results[name]
    return values.view(np.bool_) if values.dtype == BOOL else values


def info_of(results: np.ndarray) -> dict[str, np.ndarray]:
    """The step's info dict: INFO_KEYS -> (n,) views of ``results``."""
    return {name: field(results, name) for name in INFO_KEYS}


class Rules(NamedTuple):
    """The campaign's scalars, as one argument of the compiled passes."""

    # the action space's shape, as three scalars: a tuple inside failed numba's parallel loops
    n_discounts: int
    n_channels: int
    n_copies: int
    max_contacts: int  # contacts allowed within the window
    margin: float
    coupon_cap: float  # order value a discount applies to at most
    pessimism: float  # reward penalty per unit of disagreement
    fatigue_decay: float
    exposure_decay: float
    horizon: int
    expected_reward: bool  # reward from the expected, not the sampled, revenue
