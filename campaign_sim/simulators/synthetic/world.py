"""``SyntheticWorld``: population + true response + dynamics, with truth exposed.

Actions are (n, 3) integer arrays of (discount index, channel index, copy index); with
channel 0 ("none") only (0, 0, 0) is allowed, so flat action indices and effective actions
are one-to-one. ``expected_reward`` gives the true expected profit of any action, so an
oracle and every policy's true value are computable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from campaign_sim.data.text import HashingEncoder, TextEncoder
from campaign_sim.simulators.interface import (
    OUTCOME_STREAMS,
    Outcomes,
    ShopperPool,
    WorldResponse,
    sample_outcomes,
    standardise,
)
from campaign_sim.simulators.state import Dynamics, ShopperState, advance, contactable
from campaign_sim.simulators.synthetic.kernel import constants, respond_and_sample, static_terms
from campaign_sim.simulators.synthetic.population import CHANNELS, SEGMENTS, Population, sample_population
from campaign_sim.simulators.synthetic.truth import (
    VALUE_SIGMA,
    Response,
    TruthParameters,
    copy_effects,
    make_truth,
    true_response,
)

DISCOUNTS = (0.0, 0.1, 0.2, 0.3)
COPIES = {
    "standard": "New arrivals picked for you. Take a look at this week's collection.",
    "urgency": "Last chance! Your offer ends tonight, shop now before it is gone.",
    "value": "Quality basics at honest prices, with easy returns on every order.",
    "personal": "We saved your favourite styles. Come back and see what is new for you.",
}
MARGIN = 0.4
CONTACT_COST = (0.0, 0.01, 0.05, 0.005)
PERIODS_PER_MONTH = 2  # a period is two weeks, like Hillstrom's outcome window

# A policy maps (population, state, allowed-action mask (n, n_actions)) to probabilities (n, n_actions).
PolicyFn = Callable[[Population, ShopperState, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class StepOutcome:
    """What one period produced for each shopper."""

    visit: np.ndarray
    conversion: np.ndarray
    revenue: np.ndarray
    unsubscribe: np.ndarray
    profit: np.ndarray
    response: Response


@dataclass(frozen=True)
class SyntheticWorld:
    """The ground-truth world. Build it with ``SyntheticWorld.create``."""

    truth: TruthParameters
    copy_ids: tuple[str, ...]
    copy_texts: tuple[str, ...]
    copy_embeddings: np.ndarray  # (n_copies, dim)
    encoder_name: str
    discounts: tuple[float, ...] = DISCOUNTS
    channels: tuple[str, ...] = CHANNELS
    margin: float = MARGIN
    contact_cost: tuple[float, ...] = CONTACT_COST
    dynamics: Dynamics = Dynamics(fatigue_decay=0.7, exposure_decay=0.9, contact_window=4, max_contacts=3)
    valid_actions: np.ndarray | None = None  # (discounts, channels, copies); None: all valid

    @classmethod
    def create(
        cls, *, seed: int = 0, encoder: TextEncoder | None = None, copies: dict[str, str] | None = None
    ) -> SyntheticWorld:
        """The benchmark world: default coefficients, copy directions drawn from ``seed``."""
        encoder = encoder or HashingEncoder()
        copies = copies or COPIES
        embeddings = encoder.encode(list(copies.values()))
        truth = make_truth(embeddings.shape[1], np.random.default_rng(seed))
        return cls(truth, tuple(copies), tuple(copies.values()), embeddings, encoder.name)

    def with_copies(
        self, texts: dict[str, str], embeddings: np.ndarray, *, valid: np.ndarray | None = None
    ) -> SyntheticWorld:
        """This world with more copies (id -> text, and their embeddings by this world's
        encoder): the truth values any text through its embedding (``copy_effects``). ``valid``:
        which copy may go with which offer and channel, over the wider copy axis."""
        if embeddings.shape != (len(texts), self.copy_embeddings.shape[1]):
            raise ValueError(
                f"expected {len(texts)} embeddings of {self.copy_embeddings.shape[1]} dimensions"
            )
        return replace(
            self,
            copy_ids=(*self.copy_ids, *texts),
            copy_texts=(*self.copy_texts, *texts.values()),
            copy_embeddings=np.vstack([self.copy_embeddings, embeddings]),
            valid_actions=valid,
        )

    # --- sizes and action helpers -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        return len(self.discounts), len(self.channels), len(self.copy_ids)

    @property
    def n_actions(self) -> int:
        d, c, k = self.shape
        return d * c * k

    @functools.cached_property
    def kernel_constants(self) -> np.ndarray:
        """What the compiled response reads besides the shopper (``kernel.constants``)."""
        return constants(self.truth)

    def unflatten(self, flat: np.ndarray) -> np.ndarray:
        """(n,) flat indices -> (n, 3) (discount, channel, copy) indices (C order)."""
        return np.column_stack(np.unravel_index(flat, self.shape))

    def flatten(self, action: np.ndarray) -> np.ndarray:
        return np.ravel_multi_index((action[:, 0], action[:, 1], action[:, 2]), self.shape)

    def allowed_actions(self, pop: Population, state: ShopperState) -> np.ndarray:
        """(n, n_actions) bool: consent, unsubscribes and the contact cap; "none" only as (0, 0, 0)."""
        channels = contactable(state, pop.consent, self.dynamics)  # (n, C)
        d, c, k = self.shape
        mask = np.broadcast_to(channels[:, None, :, None], (pop.n, d, c, k)).copy()
        mask[:, :, 0, :] = False
        mask[:, 0, 0, 0] = True
        return mask.reshape(pop.n, -1)

    # --- truth -------------------------------------------------------------------------
    def sample_population(self, n: int, rng: np.random.Generator) -> Population:
        return sample_population(n, rng)

    def initial_state(self, pop: Population) -> ShopperState:
        return ShopperState.initial(
            pop.recency_months * PERIODS_PER_MONTH, len(self.channels), self.dynamics.contact_window
        )

    def response(self, pop: Population, state: ShopperState, action: np.ndarray) -> Response:
        effects = copy_effects(self.truth, self.copy_embeddings)  # (segments, copies)
        return true_response(
            self.truth,
            pop,
            state,
            discount=np.asarray(self.discounts)[action[:, 0]],
            channel=action[:, 1],
            copy_effect=effects[pop.segment, action[:, 2]],
        )

    def expected_reward(self, pop: Population, state: ShopperState, action: np.ndarray) -> np.ndarray:
        """True expected profit of this period: E[revenue] (margin - discount) - contact cost."""
        r = self.response(pop, state, action)
        contacted = action[:, 1] > 0
        discount = np.where(contacted, np.asarray(self.discounts)[action[:, 0]], 0.0)
        return (
            r.p_purchase * r.expected_value * (self.margin - discount)
            - np.asarray(self.contact_cost)[action[:, 1]]
        )

    def expected_rewards(self, pop: Population, state: ShopperState) -> np.ndarray:
        """(n, n_actions): true expected profit of every action (for oracles and checks)."""
        out = np.empty((pop.n, self.n_actions))
        for flat in range(self.n_actions):
            action = np.broadcast_to(self.unflatten(np.array([flat]))[0], (pop.n, 3))
            out[:, flat] = self.expected_reward(pop, state, action)
        return out

    def step(
        self, pop: Population, state: ShopperState, action: np.ndarray, rng: np.random.Generator
    ) -> tuple[StepOutcome, ShopperState]:
        """Sample one period's outcomes and the next state."""
        r = self.response(pop, state, action)
        o = sample_outcomes(_as_world_response(r), rng.random((pop.n, OUTCOME_STREAMS)))
        contacted = action[:, 1] > 0
        discount = np.where(contacted, np.asarray(self.discounts)[action[:, 0]], 0.0)
        profit = o.revenue * (self.margin - discount) - np.asarray(self.contact_cost)[action[:, 1]]
        nxt = advance(
            state,
            self.dynamics,
            channel=action[:, 1],
            discount=discount,
            purchased=o.conversion,
            unsubscribed_now=o.unsubscribe,
        )
        return StepOutcome(o.visit, o.conversion, o.revenue, o.unsubscribe, profit, r), nxt

    # --- the environment's interface (simulators.interface.World) -------------------------
    def shopper_pool(self, size: int, *, seed: int) -> ShopperPool:
        """``size`` shoppers drawn from the population, with standardised observation features."""
        pop = self.sample_population(size, np.random.default_rng(seed))
        segments = np.eye(len(SEGMENTS))[pop.segment]
        raw = np.column_stack(
            [
                pop.recency_months,
                np.log1p(pop.frequency),
                np.log(pop.monetary),
                pop.tenure_months,
                pop.womens_share,
                pop.consent[:, 1:],
                segments,
            ]
        )
        features, _, _ = standardise(raw)
        names = (
            "recency_months",
            "log_frequency",
            "log_monetary",
            "tenure_months",
            "womens_share",
            *(f"consent_{c}" for c in self.channels[1:]),
            *(f"segment={s}" for s in SEGMENTS),
        )
        features = np.clip(features, -10, 10)
        data = {**vars(pop), "terms": static_terms(self.truth, pop, self.copy_embeddings)}
        return ShopperPool(
            features, names, pop.consent, pop.recency_months * PERIODS_PER_MONTH, data, step_fields=("terms",)
        )

    def respond(
        self, shoppers: dict[str, np.ndarray], state: ShopperState, action: np.ndarray
    ) -> WorldResponse:
        """The true response of shoppers (pool rows) to flat actions ``action``."""
        fields = {name: shoppers[name] for name in Population.__dataclass_fields__}  # "terms" is the kernel's
        return _as_world_response(self.response(Population(**fields), state, self.unflatten(action)))

    def step_outcomes(
        self, pool: ShopperPool, index: np.ndarray, state: ShopperState, action: np.ndarray, u: np.ndarray
    ) -> tuple[Outcomes, np.ndarray]:
        """Response and sampling in one compiled pass (kernel.py); same numbers as ``respond``."""
        visit, conversion, revenue, unsubscribe, expected = respond_and_sample(
            pool.data["terms"],
            np.ascontiguousarray(index, dtype=np.int64),
            state.fatigue,
            state.discount_exposure,
            state.since_purchase,
            state.unsubscribed,
            np.ascontiguousarray(action, dtype=np.int64),
            self.unflatten(np.arange(self.n_actions)),
            np.asarray(self.discounts, dtype=np.float64),
            self.kernel_constants,
            u,  # may be a column slice: the kernel reads it in place
        )
        return Outcomes(visit, conversion, revenue, unsubscribe, expected), np.zeros(action.shape[0])

    def sample_actions(self, probs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw one flat action per row of ``probs``; return it and its probability."""
        cumulative = np.cumsum(probs, axis=1)
        u = rng.random(probs.shape[0]) * cumulative[:, -1]
        flat = np.minimum((cumulative < u[:, None]).sum(axis=1), probs.shape[1] - 1)
        return flat, probs[np.arange(probs.shape[0]), flat]

    def policy_value(self, policy: PolicyFn, *, customers: int, horizon: int, seed: int) -> PolicyValue:
        """Mean campaign profit per shopper of ``policy`` by simulation (fresh population)."""
        rng = np.random.default_rng(seed)
        pop = self.sample_population(customers, rng)
        state = self.initial_state(pop)
        total = np.zeros(customers)
        for _ in range(horizon):
            probs = policy(pop, state, self.allowed_actions(pop, state))
            flat, _ = self.sample_actions(probs, rng)
            outcome, state = self.step(pop, state, self.unflatten(flat), rng)
            total += outcome.profit
        return PolicyValue.from_samples(total)


def _as_world_response(r: Response) -> WorldResponse:
    return WorldResponse(
        r.p_visit, r.p_conversion, r.log_value_mean, VALUE_SIGMA, r.p_unsubscribe, np.zeros_like(r.p_visit)
    )


@dataclass(frozen=True)
class PolicyValue:
    """Mean profit per shopper over the campaign, with a normal 95% interval."""

    mean: float
    ci95: tuple[float, float]
    n: int

    @classmethod
    def from_samples(cls, samples: np.ndarray) -> PolicyValue:
        mean = float(samples.mean())
        half = 1.959963984540054 * float(samples.std(ddof=1)) / np.sqrt(samples.shape[0])
        return cls(mean, (mean - half, mean + half), int(samples.shape[0]))
