"""Heterogeneous shoppers: RFM, tenure, category affinity, consent, segment.

Everything a response depends on is observable here (a CRM's own segment label included),
except order-level noise: so a model fitted from a large log can approach the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENTS = ("loyal", "deal_seeker", "email_fan", "mobile_first", "dormant")
SEGMENT_SHARES = (0.2, 0.2, 0.25, 0.15, 0.2)
CHANNELS = ("none", "email", "sms", "push")
# Probability of consent per channel (email, sms, push) by segment.
CONSENT = np.array(
    [
        [0.95, 0.40, 0.50],  # loyal
        [0.90, 0.50, 0.50],  # deal_seeker
        [0.98, 0.20, 0.30],  # email_fan
        [0.70, 0.90, 0.85],  # mobile_first
        [0.90, 0.30, 0.20],  # dormant
    ]
)
FEATURES = (
    "recency_months",
    "frequency",
    "monetary",
    "tenure_months",
    "womens_share",
    "segment",
    "consent_email",
    "consent_sms",
    "consent_push",
)
CATEGORICAL = ("segment",)


@dataclass(frozen=True)
class Population:
    """``n`` shoppers as arrays."""

    segment: np.ndarray  # (n,) int index into SEGMENTS
    recency_months: np.ndarray
    frequency: np.ndarray
    monetary: np.ndarray
    tenure_months: np.ndarray
    womens_share: np.ndarray
    consent: np.ndarray  # (n, 4) bool, column 0 ("none") always True

    @property
    def n(self) -> int:
        return self.segment.shape[0]

    def columns(self) -> dict[str, np.ndarray]:
        """The observable features, named as in a log."""
        return {
            "recency_months": self.recency_months,
            "frequency": self.frequency,
            "monetary": self.monetary,
            "tenure_months": self.tenure_months,
            "womens_share": self.womens_share,
            "segment": np.asarray(SEGMENTS)[self.segment],
            "consent_email": self.consent[:, 1].astype(np.int8),
            "consent_sms": self.consent[:, 2].astype(np.int8),
            "consent_push": self.consent[:, 3].astype(np.int8),
        }

    def subset(self, index: np.ndarray) -> Population:
        return Population(**{name: values[index] for name, values in vars(self).items()})


def sample_population(n: int, rng: np.random.Generator) -> Population:
    """Draw ``n`` shoppers; magnitudes follow the Hillstrom customer base."""
    segment = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    dormant = segment == SEGMENTS.index("dormant")
    loyal = segment == SEGMENTS.index("loyal")
    recency = np.where(dormant, rng.integers(6, 13, n), rng.integers(1, 9, n)).astype(np.float64)
    frequency = rng.poisson(np.where(loyal, 6.0, np.where(dormant, 1.0, 2.5))) + 1.0
    monetary = np.round(rng.lognormal(4.6, 0.5, n), 2)
    tenure = rng.integers(1, 121, n).astype(np.float64)
    womens = rng.beta(2, 2, n)
    consent = np.ones((n, len(CHANNELS)), dtype=bool)
    consent[:, 1:] = rng.random((n, 3)) < CONSENT[segment]
    return Population(segment, recency, frequency, monetary, tenure, np.round(womens, 3), consent)
