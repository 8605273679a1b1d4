"""The true response of a shopper to an action, in closed form.

Per period, for shopper features x, dynamic state s and action (discount d, channel c, copy k):

    logit P(visit)      = a[seg] + 0.3 log1p(frequency) - recency_decay * since_purchase
                          - disengagement * channels unsubscribed from
                          + contacted * exp(-fatigue_k * fatigue) * (lift[seg, c] + copy[seg, k])
                          + visit_discount[seg] * d * contacted
    logit P(conv|visit) = b[seg] + 0.15 log1p(frequency) + conv_discount[seg](d)
                          - habituation * max(exposure - threshold, 0) * (d == 0)
    log order value     ~ Normal(4.35 + 0.5 log(monetary / 100), 0.84)   (Hillstrom converters)
    logit P(unsub | c)  = u[c] + unsub_fatigue * fatigue + 0.8 [dormant]

The copy effect is a fixed function of the copy's text embedding: tanh(3 e . w[seg]) times a
strength, so a copy never seen in a log still has a true effect.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from campaign_sim.simulators.state import ShopperState
from campaign_sim.simulators.synthetic.population import SEGMENTS, Population

VALUE_SIGMA = 0.84


@dataclass(frozen=True)
class Response:
    """Per-shopper probabilities and expected order value for one action each."""

    p_visit: np.ndarray
    p_conversion: np.ndarray  # P(conversion | visit)
    log_value_mean: np.ndarray  # mean of log order value
    p_unsubscribe: np.ndarray  # P(unsubscribe from the contacted channel); 0 without contact

    @property
    def expected_value(self) -> np.ndarray:
        return np.exp(self.log_value_mean + VALUE_SIGMA**2 / 2)

    @property
    def p_purchase(self) -> np.ndarray:
        return self.p_visit * self.p_conversion


@dataclass(frozen=True)
class TruthParameters:
    """Coefficients of the true response (rows: SEGMENTS; channel columns: none, email, sms, push)."""

    visit_base: tuple = (-1.65, -2.25, -2.05, -2.05, -2.75)
    channel_lift: tuple = (
        (0.0, 0.35, 0.20, 0.20),  # loyal: buys anyway
        (0.0, 0.40, 0.30, 0.10),  # deal_seeker: moved by discounts, not messages
        (0.0, 1.10, 0.00, 0.10),  # email_fan: e-mail only
        (0.0, 0.20, 1.00, 0.80),  # mobile_first: sms / push
        (0.0, 0.70, 0.30, 0.00),  # dormant
    )
    visit_discount: tuple = (0.3, 3.0, 1.0, 1.0, 2.0)
    conversion_base: tuple = (-2.1, -3.4, -2.8, -2.8, -2.9)
    conversion_discount: tuple = (0.5, 3.0, 2.5, 2.5, 3.0)
    deep_discount_threshold: float = 0.15  # deal seekers respond only above this
    deep_discount_boost: float = 14.0
    fatigue_sensitivity: float = 1.0
    recency_decay: float = 0.05  # organic visits fade as the last purchase recedes
    disengagement: float = 0.7  # organic visit logit lost per channel unsubscribed from
    habituation: float = 8.0  # the discount trap: full-price buying collapses after frequent discounts
    habituation_threshold: float = 0.15  # an occasional offer is harmless
    unsubscribe_base: tuple = (-99.0, -5.5, -4.7, -5.1)
    unsubscribe_fatigue: float = 1.0
    copy_strength: float = 0.35
    copy_directions: tuple = field(default=())  # (segments, embedding dim), set by make_truth

    def to_json(self) -> str:
        return json.dumps({k: _plain(v) for k, v in self.__dict__.items()}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TruthParameters:
        raw = json.loads(text)
        return cls(**{k: _tuples(v) for k, v in raw.items()})


def make_truth(embedding_dim: int, rng: np.random.Generator) -> TruthParameters:
    """Default coefficients with copy directions drawn at random (unit vectors per segment)."""
    directions = rng.normal(size=(len(SEGMENTS), embedding_dim))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return TruthParameters(copy_directions=_tuples(np.round(directions, 6).tolist()))


def copy_effects(truth: TruthParameters, embeddings: np.ndarray) -> np.ndarray:
    """(n_segments, n_copies): the true visit-logit effect of each copy's text per segment."""
    directions = np.asarray(truth.copy_directions)
    return truth.copy_strength * np.tanh(3.0 * directions @ embeddings.T)


def true_response(
    truth: TruthParameters,
    pop: Population,
    state: ShopperState,
    *,
    discount: np.ndarray,
    channel: np.ndarray,
    copy_effect: np.ndarray,
) -> Response:
    """The true response of each shopper to its action. ``copy_effect``: (n,) visit-logit term."""
    seg = pop.segment
    contacted = channel > 0
    d = np.where(contacted, discount, 0.0)
    fatigue_factor = np.exp(-truth.fatigue_sensitivity * state.fatigue)
    lift = np.asarray(truth.channel_lift)[seg, channel] + np.where(contacted, copy_effect, 0.0)
    visit_logit = (
        np.asarray(truth.visit_base)[seg]
        + 0.3 * np.log1p(pop.frequency)
        - truth.recency_decay * state.since_purchase
        + contacted * fatigue_factor * lift
        - truth.disengagement * state.unsubscribed.sum(axis=1)
        + np.asarray(truth.visit_discount)[seg] * d
    )
    deal = seg == SEGMENTS.index("deal_seeker")
    conv_discount = np.where(
        deal,
        truth.deep_discount_boost * np.maximum(d - truth.deep_discount_threshold, 0.0),
        np.asarray(truth.conversion_discount)[seg] * d,
    )
    conv_logit = (
        np.asarray(truth.conversion_base)[seg]
        + 0.15 * np.log1p(pop.frequency)
        + conv_discount
        - truth.habituation
        * np.maximum(state.discount_exposure - truth.habituation_threshold, 0.0)
        * (d == 0)
    )
    unsub_logit = (
        np.asarray(truth.unsubscribe_base)[channel]
        + truth.unsubscribe_fatigue * state.fatigue
        + 0.8 * (seg == SEGMENTS.index("dormant"))
    )
    return Response(
        p_visit=_sigmoid(visit_logit),
        p_conversion=_sigmoid(conv_logit),
        log_value_mean=4.35 + 0.5 * np.log(pop.monetary / 100.0),
        p_unsubscribe=np.where(contacted, _sigmoid(unsub_logit), 0.0),
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _plain(value):
    return np.asarray(value).tolist() if isinstance(value, tuple | np.ndarray) else value


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list | tuple) else value
