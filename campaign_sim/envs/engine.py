"""The batched campaign engine behind every front-end (single env, gymnasium vector env, SB3 VecEnv).

``n`` slots each play one shopper's campaign. Everything is arrays: no Python loop over
shoppers. Random numbers are counter-based (``core.seeding``): slot ``i`` with key ``k`` draws
exactly what a single environment with key ``k`` draws, whatever else is in the batch.

The budget (per slot, shared by all slots, or none) lives in ``envs/budget.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from campaign_sim.core.seeding import next_key, uniforms
from campaign_sim.envs.budget import Budget
from campaign_sim.envs.fused import pool_records, synthetic_restart, synthetic_step
from campaign_sim.envs.kernels import resolve_actions, settle, start_slots, write_observations
from campaign_sim.envs.observation import ObservationLayout
from campaign_sim.envs.records import (
    STATE_FIELDS,
    Rules,
    copy_state,
    field,
    info_of,
    new_flags,
    new_results,
    new_slots,
    state_of,
)
from campaign_sim.simulators.interface import (
    OUTCOME_STREAMS,
    RowFunctionWorld,
    ShopperPool,
    World,
    copy_rows,
    flat_action,
)
from campaign_sim.simulators.state import ShopperState, contactable


@dataclass(frozen=True)
class EnvSettings:
    """Campaign rules an environment enforces."""

    horizon: int = 12
    budget: float | None = None  # per shopper targeted; None = unlimited
    coupon_cap: float = 500.0  # order value a discount applies to at most
    pessimism: float = 0.0  # reward penalty per unit of ensemble disagreement (fitted worlds)
    pool_size: int = 50_000
    pool_seed: int = 0
    # "sampled": reward from the sampled purchase. "expected": the same period profit with
    # revenue replaced by its expectation given the response (Rao-Blackwellised; transitions
    # stay sampled). A purchase is worth ~40 profit at ~1% a period, so sampled rewards bury
    # the cents a decision changes: training on the expectation needs far fewer samples.
    reward: str = "sampled"

    def __post_init__(self) -> None:
        if self.reward not in ("sampled", "expected"):
            raise ValueError(f"reward must be 'sampled' or 'expected', got {self.reward!r}")


class CampaignEngine:
    """``n`` shoppers stepping together through one world."""

    def __init__(self, world: World, n: int, settings: EnvSettings, *, shared_budget: bool) -> None:
        self.world, self.n, self.settings = world, n, settings
        self.pool = world.shopper_pool(settings.pool_size, seed=settings.pool_seed)
        self.shape = (len(world.discounts), len(world.channels), len(world.copy_ids))
        self.discounts = np.asarray(world.discounts, dtype=np.float64)
        self.costs = np.asarray(world.contact_cost, dtype=np.float64)
        # (discounts, channels, copies): which copy may go with which offer and channel; None
        # when every copy goes with every action (no per-action check in the step)
        self.valid = getattr(world, "valid_actions", None)
        # (copy profiles + 1, copies): the copies a customer of each copy profile may get (the
        # seats' ``copy_profile``); None when any copy may go to anyone
        self.copy_for = getattr(world, "copies_for_profiles", None)
        # one record per slot: episode key, seated shopper, scalar state (records.py); ``keys``,
        # ``shopper`` and ``state`` are views of them
        self.slots = new_slots(n)
        self.flags = new_flags(n, self.shape[1], world.dynamics.contact_window)
        self.keys, self.shopper = self.slots["key"], self.slots["shopper"]
        self.state = state_of(self.slots, self.flags, self.shape[1])
        # per-slot copies of the shoppers in play, refreshed only when a slot starts anew
        self.seated = self.pool.seats(self.shopper)
        self.layout = ObservationLayout(tuple(self.pool.feature_names), tuple(world.channels))
        self.obs_dim = self.layout.dim
        self._all_rows = np.arange(n)
        self.rules = Rules(
            n_discounts=self.shape[0],
            n_channels=self.shape[1],
            n_copies=self.shape[2],
            max_contacts=int(world.dynamics.max_contacts),
            margin=float(world.margin),
            coupon_cap=float(settings.coupon_cap),
            pessimism=float(settings.pessimism),
            fatigue_decay=float(world.dynamics.fatigue_decay),
            exposure_decay=float(world.dynamics.exposure_decay),
            horizon=int(settings.horizon),
            expected_reward=settings.reward == "expected",
        )
        self.budget = Budget(n, settings.budget, shared=shared_budget, coupon_cap=settings.coupon_cap)
        # the one-pass step (fused.py): a world whose response is a row function, and without a
        # budget no row waits on another
        self._fused = isinstance(world, RowFunctionWorld) and not self.budget.limited
        self._records: np.ndarray | None = None  # fused restarts: pool_records of ``_records_of``
        self._records_of: ShopperPool | None = None

    def shopper_data(self) -> dict[str, np.ndarray]:
        """The world's per-shopper data (pool rows) of the shoppers seated now."""
        return self.pool.rows(self.shopper)

    @property
    def consent(self) -> np.ndarray:
        """(n, C) consent of the shopper in each slot."""
        return self.seated.consent

    # --- observation -------------------------------------------------------------------------
    @property
    def observation_names(self) -> tuple[str, ...]:
        return self.layout.names

    def observe(self, rows: np.ndarray | None = None) -> np.ndarray:
        """(n, obs_dim) float32, a fresh array: shopper features, dynamic state, budget and time
        left; only slots ``rows`` if given (e.g. the last observation of episodes that just ended)."""
        rows = self._all_rows if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.empty((rows.shape[0], self.obs_dim), dtype=np.float32)
        self._write_observations(out, np.arange(rows.shape[0]), rows)
        return out

    def observe_restarted(self, obs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``obs`` (from ``observe``) brought up to date after ``restart(rows)``, in place: only
        those rows changed, unless a shared budget's share (every row shows it) moved with them."""
        if self.budget.shared and self.budget.limited:
            return self.observe()
        self._write_observations(obs, rows, rows)
        return obs

    def _write_observations(self, out: np.ndarray, out_rows: np.ndarray, rows: np.ndarray) -> None:
        write_observations(
            out, out_rows, rows, self.seated.features, self.slots, self.flags, self.budget.share(), self.rules
        )

    # --- masks -------------------------------------------------------------------------------
    def channel_mask(self) -> np.ndarray:
        """(n, C) channels allowed now: consent, unsubscribes, contact cap, budget for the contact."""
        return self.budget.mask_channels(
            contactable(self.state, self.consent, self.world.dynamics), self.costs
        )

    def action_masks(self) -> np.ndarray:
        """(n, D + C + K) in sb3-contrib's MultiDiscrete format: discount, channel, copy masks."""
        channels = self.channel_mask()
        discounts = self.budget.discount_mask(channels, self.costs, self.discounts)
        if self.valid is None and self.copy_for is None:
            copies = np.ones((self.n, self.shape[2]), dtype=bool)
        else:  # a copy that goes with some allowed offer and contact (the rest: ``drop_invalid``)
            valid = np.ones(self.shape, dtype=bool) if self.valid is None else self.valid
            sendable = valid[:, 1:, :].astype(np.int64)
            copies = np.einsum("nd,nc,dck->nk", discounts, channels[:, 1:], sendable) > 0
            if self.copy_for is not None:
                copies &= self.profile_copies()
            copies[~copies.any(axis=1)] = True  # no contact possible: the copy means nothing
        return np.concatenate([discounts, channels, copies], axis=1)

    def profile_copies(self) -> np.ndarray:
        """(n, copies) the copies each seated customer's copy profile allows."""
        return self.copy_for[self.seated.data["copy_profile"]]

    def drop_invalid(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(n, 3) ``action`` with the channel set to no contact where its copy may not go with
        its offer and channel, or to this customer (per-dimension masks cannot say so), and
        which rows those were."""
        if self.valid is None and self.copy_for is None:
            return action, None
        d, c, k = (np.clip(action[:, i], 0, self.shape[i] - 1) for i in range(3))
        bad = np.zeros(self.n, dtype=bool)
        if self.valid is not None:
            bad |= ~self.valid[d, c, k]
        if self.copy_for is not None:
            bad |= ~self.profile_copies()[self._all_rows, k] & (c > 0)
        if bad.any():
            action = action.copy()
            action[bad, 1] = 0
        return action, bad

    def allowed_probs(self, probs: np.ndarray) -> np.ndarray:
        """A policy's (n, n_actions) probabilities as the environment acts on them: mass on an
        action whose copy may not go with its offer and channel, or to this customer, is no
        contact (flat 0)."""
        if self.valid is None and self.copy_for is None:
            return probs
        _, channel, copy = np.unravel_index(np.arange(probs.shape[1]), self.shape)
        invalid = np.zeros(probs.shape, dtype=bool)
        if self.valid is not None:
            invalid |= ~self.valid.reshape(-1)[None, :]
        if self.copy_for is not None:
            invalid |= ~self.profile_copies()[:, copy] & (channel > 0)[None, :]
        if not (probs * invalid).any():
            return probs
        out = np.where(invalid, 0.0, probs)
        out[:, 0] += np.where(invalid, probs, 0.0).sum(axis=1)
        return out

    # --- episodes ----------------------------------------------------------------------------
    def start(self, rows: np.ndarray, keys: np.ndarray) -> None:
        """Begin new episodes in ``rows`` with episode ``keys``."""
        rows, seated, pool = np.asarray(rows, dtype=np.int64), self.seated, self.pool
        start_slots(
            rows,
            np.asarray(keys, dtype=np.uint64),
            self.slots,
            self.flags,
            pool.features,
            pool.consent,
            pool.since_purchase,
            seated.features,
            seated.consent,
            seated.since_purchase,
        )
        shoppers = self.shopper[rows]
        for name, values in seated.data.items():  # the world's own per-shopper arrays
            if values.ndim == 2:
                copy_rows(values, rows, self.pool.data[name], shoppers)
            else:
                values[rows] = self.pool.data[name][shoppers]
        self.budget.start(rows)

    def seat(
        self, pool: ShopperPool, state: ShopperState, keys: np.ndarray, *, budget_used: float = 0.0
    ) -> None:
        """Put ``pool``'s shoppers in slots 0..n-1 in ``state`` with episode ``keys`` (replaying a
        logged campaign: policies see exactly the observations and masks the environment would
        give them, and stepping from here simulates the rest of the campaign)."""
        if pool.size != self.n or state.n != self.n:
            raise ValueError(
                f"seat needs {self.n} shoppers, got a pool of {pool.size} and a state of {state.n}"
            )
        self.pool, self.shopper[:] = pool, np.arange(self.n)
        self.seated = pool.seats(np.arange(self.n))
        self.keys[:] = keys
        copy_state(self.state, state)
        self.budget.seat(budget_used)

    def clear(self) -> None:
        """Forget the budget pool (before starting every slot afresh)."""
        self.budget.clear()

    def snapshot(self) -> tuple[np.ndarray, ...]:
        """Copies of everything a step changes (the dynamic state and the budget), for lookahead."""
        state = self.slots[list(STATE_FIELDS)].copy()
        return (state, self.flags.copy(), *(np.copy(v) for v in self.budget.arrays()))

    def restore(self, saved: tuple[np.ndarray, ...]) -> None:
        """Go back to a ``snapshot`` (in place: compiled passes hold no copies, arrays stay put)."""
        state, flags, *budget = saved
        for name in STATE_FIELDS:  # not the keys: lookahead policies swap those themselves
            self.slots[name] = state[name]
        for target, values in zip((self.flags, *self.budget.arrays()), (flags, *budget), strict=True):
            np.copyto(target, values)

    def restart(self, rows: np.ndarray) -> None:
        """New episodes in ``rows``, keyed by hashing the previous keys (no seed needed)."""
        self.start(rows, next_key(self.keys[rows]))

    def restart_observed(self, obs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``restart(rows)`` then ``observe_restarted(obs, rows)``; one compiled pass where the
        step is one (fused.py): a restart's fixed costs (six calls) were ~10% of a step."""
        self._restart_observed(obs, rows, np.empty((0, self.obs_dim), dtype=np.float32))
        return obs

    def restart_finished(self, obs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """``restart_observed(obs, rows)``, returning the observations ``rows`` had in ``obs``
        before (the finished episodes' last ones), copied in the same pass."""
        last = np.empty((len(rows), self.obs_dim), dtype=np.float32)
        self._restart_observed(obs, rows, last)
        return last

    def _restart_observed(self, obs: np.ndarray, rows: np.ndarray, last: np.ndarray) -> None:
        if not self._fused:
            if len(last):
                last[...] = obs[rows]
            self.restart(rows)
            self.observe_restarted(obs, rows)
            return
        if self._records_of is not self.pool:  # built once per pool (``seat`` swaps the pool)
            self._records, self._records_of = pool_records(self.pool), self.pool
        seated = self.seated
        synthetic_restart(
            np.asarray(rows, dtype=np.int64),
            self._records,
            seated.features,
            seated.consent,
            seated.since_purchase,
            seated.data["terms"],
            self.slots,
            self.flags,
            self.rules,
            obs,
            last,
        )

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Play one period for every slot; ``action`` is (n, 3) (discount, channel, copy) indices.
        Returns reward, terminated, truncated and the info dict (INFO_KEYS), views of one
        record per slot (records.py)."""
        st, budget = self.state, self.budget
        action, dropped = self.drop_invalid(np.asarray(action, dtype=np.int64).reshape(self.n, 3))
        u = uniforms(self.keys, st.period, OUTCOME_STREAMS + 1)
        # one compiled pass: clip to the spaces, a masked channel (agents that ignore masks) means
        # no contact, the flat action and the discount offered
        d, c, k, flat, discount, invalid = resolve_actions(
            action, self.flags, self.consent, self.rules, self.costs, budget.left_for_kernel(), self.discounts
        )
        results, clipped = new_results(self.n), None
        if budget.limited:
            d, clipped = budget.afford(d, c, u[:, OUTCOME_STREAMS], self.costs, self.discounts)
            c = np.where(clipped < 0, 0, c)
            d = np.where(c > 0, d, 0)
            flat = flat_action(d, c, k, self.shape)
            discount = np.where(c > 0, self.discounts[d], 0.0)
        outcome, disagreement = self.world.step_outcomes(
            self.seated, self._all_rows, st, flat, u[:, :OUTCOME_STREAMS]
        )
        written = {
            "budget_clipped": False if clipped is None else clipped != 0,
            "channel": c,
            "contacted": c > 0,
            "discount": discount,
            "invalid_action": invalid if dropped is None else invalid | dropped,
            "disagreement": disagreement,
            **vars(outcome),
        }
        for name, values in written.items():
            results[name] = values
        settle(results, self.slots, self.flags, self.consent, self.rules, self.costs)
        if budget.limited:
            budget.spend(results["discount_cost"] + results["contact_cost"])
        return self._returns(results)

    @staticmethod
    def _returns(results: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        return (
            field(results, "reward"),
            field(results, "terminated"),
            field(results, "truncated"),
            info_of(results),
        )

    def step_and_observe(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """``step``, then ``observe`` (for slots whose episode just ended: its last observation).
        In the synthetic world without a budget, one compiled pass does both (fused.py)."""
        if not self._fused:
            return (*self.step(action), self.observe())
        obs = np.empty((self.n, self.obs_dim), dtype=np.float32)
        results = new_results(self.n)
        action, dropped = self.drop_invalid(np.asarray(action, dtype=np.int64).reshape(self.n, 3))
        synthetic_step(
            action,
            self.consent,
            self.costs,
            self.discounts,
            self.seated.data["terms"],
            self.world.kernel_constants,
            self.seated.features,
            self.slots,
            self.flags,
            self.rules,
            obs,
            results,
        )
        if dropped is not None:
            results["invalid_action"] |= dropped
        return (*self._returns(results), obs)
