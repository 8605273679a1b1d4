"""Shopper dynamic state and its transition: shared by the true and the fitted worlds.

The state is what a period leaves behind: contact fatigue (decays), discount habituation
(decays), periods since the last contact and purchase, per-channel unsubscribes and the
recent contacts that a frequency cap counts. Arrays are per shopper, so thousands of
shoppers advance in one vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Columns the state contributes to a log row and to a model's input, in this order.
STATE_COLUMNS = ("fatigue", "discount_exposure", "periods_since_contact", "periods_since_purchase")
SINCE_CAP = 26.0  # "long ago": periods-since counters stop here


@dataclass(frozen=True)
class Dynamics:
    """How state carries over between periods (true values, or config priors when fitted)."""

    fatigue_decay: float = 0.6
    exposure_decay: float = 0.8
    contact_window: int = 4
    max_contacts: int = 2


@dataclass
class ShopperState:
    """Dynamic state of ``n`` shoppers at the start of a period."""

    fatigue: np.ndarray  # (n,) float: sum of past contacts, decayed
    discount_exposure: np.ndarray  # (n,) float: sum of past discounts offered, decayed
    since_contact: np.ndarray  # (n,) float periods, capped
    since_purchase: np.ndarray  # (n,) float periods, capped
    unsubscribed: np.ndarray  # (n, n_channels) bool; column 0 ("none") is always False
    recent_contacts: np.ndarray  # (n, window) int8 ring buffer of contacts in recent periods
    period: np.ndarray  # (n,) int: periods played so far (shoppers may start at different times)

    @classmethod
    def initial(cls, since_purchase: np.ndarray, n_channels: int, window: int) -> ShopperState:
        n = since_purchase.shape[0]
        return cls(
            np.zeros(n),
            np.zeros(n),
            np.full(n, SINCE_CAP),
            np.minimum(since_purchase.astype(np.float64), SINCE_CAP),
            np.zeros((n, n_channels), dtype=bool),
            np.zeros((n, window), dtype=np.int8),
            np.zeros(n, dtype=np.int64),
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The fields in declaration order, as compiled passes take them (one argument each)."""
        return (
            self.fatigue,
            self.discount_exposure,
            self.since_contact,
            self.since_purchase,
            self.unsubscribed,
            self.recent_contacts,
            self.period,
        )

    @property
    def n(self) -> int:
        return self.fatigue.shape[0]

    def matrix(self) -> np.ndarray:
        """(n, len(STATE_COLUMNS)) float64 in STATE_COLUMNS order."""
        return np.column_stack(
            [self.fatigue, self.discount_exposure, self.since_contact, self.since_purchase]
        )

    def contacts_in_window(self) -> np.ndarray:
        # column by column: numpy's reduce along a short axis is several times slower
        total = self.recent_contacts[:, 0].astype(np.int16)
        for j in range(1, self.recent_contacts.shape[1]):
            total += self.recent_contacts[:, j]
        return total

    def subset(self, index: np.ndarray) -> ShopperState:
        return ShopperState(**{name: values[index] for name, values in vars(self).items()})


def advance(
    state: ShopperState,
    dynamics: Dynamics,
    *,
    channel: np.ndarray,
    discount: np.ndarray,
    purchased: np.ndarray,
    unsubscribed_now: np.ndarray,
) -> ShopperState:
    """The state after one period in which ``channel`` (0 = none) and ``discount`` were used."""
    contacted = channel > 0
    offered = np.where(contacted, discount, 0.0)
    unsubscribed = state.unsubscribed.copy()
    rows = np.flatnonzero(unsubscribed_now & contacted)
    unsubscribed[rows, channel[rows]] = True
    recent = state.recent_contacts.copy()
    recent[np.arange(state.n), state.period % recent.shape[1]] = contacted
    return ShopperState(
        fatigue=dynamics.fatigue_decay * state.fatigue + contacted,
        discount_exposure=dynamics.exposure_decay * state.discount_exposure + offered,
        since_contact=np.where(contacted, 0.0, np.minimum(state.since_contact + 1, SINCE_CAP)),
        since_purchase=np.where(purchased, 0.0, np.minimum(state.since_purchase + 1, SINCE_CAP)),
        unsubscribed=unsubscribed,
        recent_contacts=recent,
        period=state.period + 1,
    )


def contactable(state: ShopperState, consent: np.ndarray, dynamics: Dynamics) -> np.ndarray:
    """(n, n_channels) bool: which channels may be used now (consent, unsubscribes, cap)."""
    allowed = consent & ~state.unsubscribed
    capped = state.contacts_in_window() >= dynamics.max_contacts
    allowed[capped, 1:] = False
    allowed[:, 0] = True
    return allowed
