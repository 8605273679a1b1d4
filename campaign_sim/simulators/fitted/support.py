"""Support counted from the log: per (context group, flat action), the logged decisions and
purchases behind it.

Ensemble disagreement is not a measure of how thin a cell is (bench_decisions: it does not track
purchases), so safe improvement counts. Contexts are grouped so a count means something to a
user: the shopper's profile (the levels of the log's first categorical feature with 2-8 levels,
a segment a CRM team already names; else a k-means clustering of the encoded features) crossed
with two dynamic-state buckets when the log carries them (bought recently: periods since
purchase at or below the log's median; discounted recently: any discount exposure). A group is
what a strategist reads in the report ("dormant, lapsed, no recent discount"), and its counts
are what SPIBB's threshold N∧ (Laroche et al., ICML 2019) is applied to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from campaign_sim.simulators.fitted.encoding import Encoding

MAX_PROFILE_LEVELS = 8
KMEANS_PROFILES = 5
# (state column, label when above the threshold, label at or below it)
BUCKETS = (
    ("periods_since_purchase", "lapsed", "bought recently"),
    ("discount_exposure", "discounted recently", "no recent discount"),
)


@dataclass(frozen=True)
class SupportTable:
    """Logged decisions and purchases per (context group, flat action)."""

    profile_feature: str | None  # categorical feature whose levels are the profiles; None: k-means
    profile_names: tuple[str, ...]
    centroids: np.ndarray | None  # (profiles, shopper_dim) for k-means profiles
    buckets: tuple[tuple[str, float], ...]  # (state column, threshold): bucket bit = value > threshold
    decisions: np.ndarray  # (groups, n_actions) int64
    purchases: np.ndarray  # (groups, n_actions) int64

    @property
    def groups(self) -> int:
        return self.decisions.shape[0]

    def group_names(self) -> list[str]:
        names = []
        for profile in self.profile_names:
            for bits in range(2 ** len(self.buckets)):
                labels = [
                    _bucket_label(column, bool(bits >> j & 1)) for j, (column, _) in enumerate(self.buckets)
                ]
                names.append(", ".join([profile, *labels]))
        return names

    def group_of(
        self, shopper: np.ndarray, state: Callable[[str], np.ndarray], encoding: Encoding
    ) -> np.ndarray:
        """(n,) group of each row: ``shopper`` is the encoded shopper matrix, ``state(name)`` the
        raw value of a dynamic-state column."""
        if self.profile_feature is not None:
            names = encoding.shopper_names
            columns = [names.index(f"{self.profile_feature}={level}") for level in self.profile_names]
            profile = shopper[:, columns].argmax(axis=1)
        else:
            distance = ((shopper[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
            profile = distance.argmin(axis=1)
        group = profile * 2 ** len(self.buckets)
        for j, (column, threshold) in enumerate(self.buckets):
            group = group + (np.asarray(state(column)) > threshold).astype(np.int64) * 2**j
        return group.astype(np.int64)

    def counted(
        self,
        encoding: Encoding,
        shopper: np.ndarray,
        state_columns: dict[str, np.ndarray],
        decided: tuple[np.ndarray, np.ndarray],
    ) -> SupportTable:
        """This table with more logged rows counted in: ``decided`` = (flat actions, purchases)
        of rows whose encoded shoppers are ``shopper`` and dynamic state ``state_columns``."""
        actions, purchases = decided
        group = self.group_of(shopper, lambda name: state_columns[name], encoding)
        size = len(self.profile_names) * 2 ** len(self.buckets)
        decisions = np.zeros((size, self.decisions.shape[1]), dtype=np.int64)
        bought = np.zeros_like(decisions)
        np.add.at(decisions, (group, actions), 1)
        np.add.at(bought, (group, actions), (np.asarray(purchases) > 0).astype(np.int64))
        if self.decisions.shape[0]:
            decisions, bought = decisions + self.decisions, bought + self.purchases
        return replace(self, decisions=decisions, purchases=bought)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile_feature": self.profile_feature,
            "profile_names": list(self.profile_names),
            "buckets": [[c, t] for c, t in self.buckets],
        }

    def tensors(self) -> dict[str, np.ndarray]:
        out = {"support.decisions": self.decisions, "support.purchases": self.purchases}
        if self.centroids is not None:
            out["support.centroids"] = self.centroids
        return out

    @classmethod
    def from_saved(cls, raw: dict[str, Any], tensors: dict[str, np.ndarray]) -> SupportTable:
        return cls(
            raw["profile_feature"],
            tuple(raw["profile_names"]),
            tensors.pop("support.centroids", None),
            tuple((str(c), float(t)) for c, t in raw["buckets"]),
            tensors.pop("support.decisions").astype(np.int64),
            tensors.pop("support.purchases").astype(np.int64),
        )


def _bucket_label(column: str, above: bool) -> str:
    for name, high, low in BUCKETS:
        if name == column:
            return high if above else low
    return f"{column} {'high' if above else 'low'}"


def fit_support(
    *,
    encoding: Encoding,
    shopper: np.ndarray,
    state_columns: dict[str, np.ndarray],
    actions: np.ndarray,
    purchases: np.ndarray,
    n_actions: int,
    seed: int,
) -> SupportTable:
    """Count the log's decisions and purchases per (group, action); groups as the module says."""
    feature, levels, centroids = _profiles(encoding, shopper, seed=seed)
    buckets = []
    for column, _, _ in BUCKETS:
        if column in state_columns:
            values = np.asarray(state_columns[column], dtype=np.float64)
            threshold = float(np.median(values)) if column == "periods_since_purchase" else 0.0
            if (values > threshold).any() and (values <= threshold).any():
                buckets.append((column, threshold))
    empty = np.zeros((0, n_actions), dtype=np.int64)
    table = SupportTable(feature, levels, centroids, tuple(buckets), empty, empty)
    return table.counted(encoding, shopper, state_columns, (actions, purchases))


def _profiles(
    encoding: Encoding, shopper: np.ndarray, *, seed: int
) -> tuple[str | None, tuple[str, ...], np.ndarray | None]:
    for name, levels in encoding.categorical.items():
        if 2 <= len(levels) <= MAX_PROFILE_LEVELS:
            return name, tuple(levels), None
    from sklearn.cluster import KMeans  # only logs without a usable segment column pay for it

    k = min(KMEANS_PROFILES, max(1, shopper.shape[0]))
    sample = shopper[np.random.default_rng(seed).permutation(shopper.shape[0])[:50_000]]
    model = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(sample)
    centroids = model.cluster_centers_.astype(np.float32)
    return None, tuple(f"profile {i + 1}" for i in range(k)), centroids
