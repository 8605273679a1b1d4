"""The campaign budget of the engine's slots, in one place: per slot, or one pool shared by all
slots (the vector envs), or none.

``limit`` is the budget per shopper targeted (discount + contact spend). A discount is a coupon
on at most ``coupon_cap`` of order value, so a contact's worst-case cost is known when it is
chosen: masks only offer what the remaining budget covers, the worst case is reserved, and only
the realised cost is spent, so the budget is never overspent. A shared pool is the sum of its
shoppers' budgets: a new shopper brings theirs in, leftovers stay.
"""

from __future__ import annotations

import numpy as np

_UNLIMITED = np.array([np.inf])  # what the compiled passes see as the budget left without one
_SLACK = 1e-12


class Budget:
    """Budget left and granted per slot; with ``shared``, every slot sees the pool's sums."""

    def __init__(self, n: int, limit: float | None, *, shared: bool, coupon_cap: float) -> None:
        self.n, self.limit, self.shared, self.coupon_cap = n, limit, shared, coupon_cap
        self.left = np.zeros(n)
        self.total = np.zeros(n)

    @property
    def limited(self) -> bool:
        return self.limit is not None

    def _pooled(self, values: np.ndarray) -> np.ndarray:
        return np.full(self.n, values.sum()) if self.shared else values

    def left_per_slot(self) -> np.ndarray:
        """What each slot may still spend (the pool's total for every slot when shared)."""
        return self._pooled(self.left)

    def left_for_kernel(self) -> np.ndarray:
        """The budget left per slot, or the shared pool's as one entry, or infinity without one."""
        if not self.limited:
            return _UNLIMITED
        return np.array([self.left.sum()]) if self.shared else self.left

    def share(self) -> np.ndarray:
        """(n,) budget left over budget granted, 1 without a budget (an observation column)."""
        if not self.limited:
            return np.ones(self.n)
        left, total = self._pooled(self.left), self._pooled(self.total)
        return np.divide(left, total, out=np.zeros(self.n), where=total > 0)

    # --- masks -------------------------------------------------------------------------------
    def mask_channels(self, allowed: np.ndarray, costs: np.ndarray) -> np.ndarray:
        """``allowed`` (n, C) less the contacts the budget left cannot pay; "none" stays allowed."""
        if self.limited:
            allowed &= costs[None, :] <= self.left_per_slot()[:, None] + _SLACK
            allowed[:, 0] = True
        return allowed

    def discount_mask(self, channels: np.ndarray, costs: np.ndarray, discounts: np.ndarray) -> np.ndarray:
        """(n, D) discounts whose worst case, on the cheapest allowed channel, the budget covers."""
        if not self.limited:
            return np.ones((self.n, len(discounts)), dtype=bool)
        cheapest = np.where(channels[:, 1:], costs[None, 1:], np.inf).min(axis=1)
        worst = cheapest[:, None] + discounts[None, :] * self.coupon_cap
        allowed = worst <= self.left_per_slot()[:, None] + _SLACK
        allowed[:, 0] = True
        return allowed

    def afford(
        self, d: np.ndarray, c: np.ndarray, priority: np.ndarray, costs: np.ndarray, discounts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower each contact's discount to what the budget covers in the worst case; with a shared
        pool, serve contacts in a random ``priority`` order and drop those the pool cannot cover.
        Returns the discounts and a flag per slot: 0 kept, 1 discount lowered, -1 contact dropped."""
        flag = np.zeros(self.n, dtype=np.int64)
        if not self.limited:
            return d, flag
        contacted = c > 0
        worst_case = costs[c][:, None] + discounts[None, :] * self.coupon_cap
        affordable = worst_case <= self.left_per_slot()[:, None] + _SLACK
        best = np.where(affordable, np.arange(len(discounts))[None, :], -1).max(axis=1)
        lowered = contacted & (d > best)
        d = np.where(lowered, np.maximum(best, 0), d)
        flag[lowered] = 1
        if self.shared:
            worst = np.where(contacted, costs[c] + discounts[d] * self.coupon_cap, 0.0)
            order = np.argsort(priority, kind="stable")
            over = np.zeros(self.n, dtype=bool)
            over[order] = np.cumsum(worst[order]) > self.left.sum() + _SLACK
            flag[over & contacted] = -1
        return d, flag

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self, rows: np.ndarray) -> None:
        """New shoppers in ``rows`` get their budget (into the pool when shared)."""
        if not self.limited:
            return
        if self.shared:
            self.left[rows] += self.limit
            self.total[rows] += self.limit
        else:
            self.left[rows] = self.limit
            self.total[rows] = self.limit

    def seat(self, used: float) -> None:
        """Every slot granted anew, ``used`` already spent across them (a replayed campaign)."""
        self.total[:] = self.limit or 0.0
        self.left[:] = self.limit or 0.0
        if used:
            self.spend(np.full(self.n, used / self.n))

    def clear(self) -> None:
        """Forget the pool (before starting every slot afresh)."""
        self.left[:] = 0.0
        self.total[:] = 0.0

    def spend(self, cost: np.ndarray) -> None:
        """Charge each slot's realised spend to its budget (or to the shared pool)."""
        if not self.shared:
            self.left -= cost
            return
        # draw the shared pool down slot by slot (its total is what masks and obs see)
        remaining = cost.sum()
        for_slots = np.minimum(np.cumsum(self.left), remaining)
        taken = np.diff(np.concatenate([[0.0], for_slots]))
        self.left -= taken

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The arrays a step changes (for the engine's snapshot and restore)."""
        return self.left, self.total
