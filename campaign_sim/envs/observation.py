"""The observation's columns, defined once: names, order and size for every front-end, in the
order ``kernels.observation_row`` writes them (``tests/unit/envs/test_observation_layout.py``
reads the written values back by name)."""

from __future__ import annotations

from dataclasses import dataclass

DYNAMIC_STATE = ("fatigue", "discount_exposure", "periods_since_contact", "periods_since_purchase")
SHARES = ("contacts_in_window_share", "budget_left_share", "period_share")


@dataclass(frozen=True)
class ObservationLayout:
    """Shopper features, the dynamic state, one unsubscribe flag per channel other than "none",
    then the contact-cap, budget and time shares."""

    features: tuple[str, ...]
    channels: tuple[str, ...]  # the world's channels, "none" first

    @property
    def names(self) -> tuple[str, ...]:
        unsubscribed = tuple(f"unsubscribed_{c}" for c in self.channels[1:])
        return (*self.features, *DYNAMIC_STATE, *unsubscribed, *SHARES)

    @property
    def dim(self) -> int:
        return len(self.features) + len(DYNAMIC_STATE) + len(self.channels) - 1 + len(SHARES)

    def index(self, name: str) -> int:
        return self.names.index(name)
