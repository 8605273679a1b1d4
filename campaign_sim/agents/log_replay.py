"""Replay a logged campaign history through the environment's eyes, for off-policy evaluation.

A candidate policy was trained on observations and masks built by ``CampaignEngine``. To ask
what it would have done at each logged decision, each customer's dynamic state is rebuilt from
their own logged history (contacts, discounts, purchases, unsubscribes, the same transition the
environment uses) and the core is seated with it, so ``observe()`` and ``action_masks()`` give
exactly what the policy would have seen. Shopper features come from the customer's first
logged row, encoded by the fitted world.

A customer's campaign ends (``active`` False) when their rows stop or, as in the environment,
when they have unsubscribed from every channel they consented to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from campaign_sim.agents.policy import Policy, sample_actions, unflatten
from campaign_sim.core.errors import InputError
from campaign_sim.core.seeding import key_from
from campaign_sim.data import schema as S
from campaign_sim.data.bandit import flat_action_index
from campaign_sim.data.log import CampaignLog
from campaign_sim.envs.engine import CampaignEngine, EnvSettings
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.simulators.state import ShopperState, advance


@dataclass(frozen=True)
class LoggedPanel:
    """A campaign log as (customers, periods) arrays in the world's action space."""

    customers: pl.DataFrame  # first logged row of each customer (features), in panel order
    action: np.ndarray  # (n, T) int64 flat action (0 where there is no row)
    present: np.ndarray  # (n, T) bool: the customer has a logged row in this period
    propensity: np.ndarray | None  # (n, T) logging probability of the logged action, if logged
    channel: np.ndarray  # (n, T) int channel index
    discount: np.ndarray  # (n, T) offered discount (0 without contact)
    revenue: np.ndarray  # (n, T)
    conversion: np.ndarray  # (n, T) bool
    unsubscribe: np.ndarray  # (n, T) bool

    @property
    def shape(self) -> tuple[int, int]:
        return self.action.shape


def logged_panel(log: CampaignLog, world: FittedWorld, *, horizon: int) -> LoggedPanel:
    """The first ``horizon`` periods of ``log`` as a panel (periods counted from the first one)."""
    frame = log.frame.sort(S.CUSTOMER_ID, S.PERIOD)
    if frame.height == 0:
        raise InputError(f"{log.source}: the log has no rows to evaluate on")
    first_period = int(frame.get_column(S.PERIOD).min())
    frame = frame.with_columns(
        (pl.col(S.PERIOD) - first_period).alias("_t"),
        pl.col(S.CUSTOMER_ID).rank("dense").cast(pl.Int64).sub(1).alias("_row"),
    ).filter(pl.col("_t") < horizon)
    n, periods = int(frame.get_column("_row").max()) + 1, int(frame.get_column("_t").max()) + 1
    row, t = frame.get_column("_row").to_numpy(), frame.get_column("_t").to_numpy()

    def grid(values: np.ndarray, dtype) -> np.ndarray:
        out = np.zeros((n, periods), dtype=dtype)
        out[row, t] = values
        return out

    channels = {c: i for i, c in enumerate(world.channels)}
    channel = frame.get_column(S.CHANNEL).replace_strict(channels, return_dtype=pl.Int64).to_numpy()
    present = grid(np.ones(frame.height, dtype=bool), bool)
    return LoggedPanel(
        customers=frame.unique("_row", keep="first", maintain_order=True).drop("_t", "_row"),
        action=grid(flat_action_index(frame, world.config), np.int64),
        present=present,
        propensity=grid(frame.get_column(S.PROPENSITY).to_numpy(), np.float64)
        if log.has_propensity
        else None,
        channel=grid(channel, np.int64),
        discount=grid(frame.get_column(S.DISCOUNT).to_numpy(), np.float64),
        revenue=grid(frame.get_column(S.REVENUE).to_numpy(), np.float64),
        conversion=grid(frame.get_column(S.CONVERSION).to_numpy() > 0, bool),
        unsubscribe=grid(
            frame.get_column(S.UNSUBSCRIBE).to_numpy() > 0
            if S.UNSUBSCRIBE in frame.columns
            else np.zeros(frame.height, dtype=bool),
            bool,
        ),
    )


class LogReplay:
    """Walks a ``LoggedPanel`` period by period with the core seated in each logged state; from
    any logged state it can also simulate the rest of the campaign under a policy (the model
    value functions of sequential doubly robust estimation)."""

    def __init__(
        self, panel: LoggedPanel, world: FittedWorld, settings: EnvSettings, *, seed: int = 0
    ) -> None:
        self.panel, self.world = panel, world
        n, self.horizon = panel.shape
        # expected rewards, no pessimism: a reward model, not a training signal. A one-shopper
        # pool is enough to build the core; seat() replaces it with the logged customers.
        rules = {**vars(settings), "pool_size": 1, "pessimism": 0.0, "reward": "expected"}
        self.core = CampaignEngine(world, n, EnvSettings(**rules), shared_budget=True)
        self.pool = world.pool_of(panel.customers)
        self.keys = key_from(np.random.default_rng([seed, 7]), n)
        costs = np.asarray(world.contact_cost)
        coupon = panel.discount * np.minimum(panel.revenue, settings.coupon_cap)
        self.profit = np.where(
            panel.present, panel.revenue * world.margin - coupon - costs[panel.channel], 0.0
        )
        self.spend = np.where(panel.present, coupon + costs[panel.channel], 0.0)
        self.active = np.zeros(panel.shape, dtype=bool)
        self.state = ShopperState.initial(
            self.pool.since_purchase, len(world.channels), world.dynamics.contact_window
        )
        self.used = 0.0

    def periods(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(period, observations, sb3-contrib masks) at every logged period; ``active`` fills in
        as the walk goes (read it after the last period)."""
        panel = self.panel
        running = np.ones(panel.shape[0], dtype=bool)
        for t in range(self.horizon):
            running &= panel.present[:, t]
            self.active[:, t] = running
            self.reseat()
            yield t, self.core.observe(), self.core.action_masks()
            self.state = advance(
                self.state,
                self.world.dynamics,
                channel=np.where(running, panel.channel[:, t], 0),
                discount=panel.discount[:, t],
                purchased=running & panel.conversion[:, t],
                unsubscribed_now=running & panel.unsubscribe[:, t],
            )
            self.used += float(self.spend[running, t].sum())
            consented = self.pool.consent[:, 1:]
            reachable = (consented & ~self.state.unsubscribed[:, 1:]).any(axis=1)
            running &= reachable | ~consented.any(axis=1)

    def reseat(self) -> None:
        """Seat the core in the current logged state (a copy: simulating from it changes nothing)."""
        state = self.state.subset(np.arange(self.state.n))
        self.core.seat(self.pool, state, self.keys, budget_used=self.used)

    def value_to_go(self, policy: Policy, first: np.ndarray | None = None, *, seed: int = 0) -> np.ndarray:
        """(n,) simulated expected profit from the current logged state to the end of the logged
        periods under ``policy`` (after ``first`` flat actions, when given), in the fitted world.
        The same keys every call: values for different first actions share random numbers."""
        self.reseat()
        core, n = self.core, self.core.n
        choices = np.random.default_rng([seed, 8, int(self.state.period.max(initial=0))])
        total, running = np.zeros(n), np.ones(n, dtype=bool)
        for step in range(self.horizon - int(self.state.period.max(initial=0))):
            if step == 0 and first is not None:
                flat = first
            else:
                flat = sample_actions(
                    core.allowed_probs(policy.action_probs(core.observe(), core.action_masks())),
                    choices.random(n),
                )
            _, terminated, truncated, info = core.step(unflatten(flat, core.shape))
            total += np.where(running, info["expected_profit"], 0.0)
            running &= ~(terminated | truncated)
        return total
