"""Model inputs: shopper features, dynamic state, and an action lookup table.

Inputs are three blocks, so the environment can build them from arrays without polars:
``[shopper (standardised numerics + one-hot categoricals), state (standardised), action]``.
The action block is a table indexed by flat action: discount, contact flag, one-hot of each
non-zero discount level, channel one-hot, the copy's text embedding reduced by PCA (one-hot
copy ids when no library is given) and a one-hot of the flat action itself. That last part is
why an action the log never shows is uncertain: its input weights keep each ensemble member's
own random initialisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from campaign_sim.core.config import NO_CONTACT, CampaignConfig
from campaign_sim.data.bandit import flat_action_index
from campaign_sim.data.log import CampaignLog
from campaign_sim.simulators.state import STATE_COLUMNS

MAX_ACTION_ONE_HOT = 512  # above this many actions, the flat one-hot is left out


def state_columns(config: CampaignConfig) -> tuple[str, ...]:
    """Dynamic-state column names a log may carry (fatigue, ..., unsubscribed_<channel>)."""
    return STATE_COLUMNS + tuple(f"unsubscribed_{c}" for c in config.actions.channels[1:])


@dataclass(frozen=True)
class Encoding:
    """Fitted preprocessing; JSON-serialisable through ``to_dict`` / ``from_dict``."""

    numeric: tuple[str, ...]
    log_scaled: tuple[str, ...]  # non-negative, right-skewed numerics, read as log1p
    numeric_mean: tuple[float, ...]
    numeric_std: tuple[float, ...]
    categorical: dict[str, tuple[str, ...]]
    state: tuple[str, ...]
    state_mean: tuple[float, ...]
    state_std: tuple[float, ...]
    action_table: np.ndarray  # (n_actions, action_dim) float32
    action_columns: tuple[str, ...]
    # (1 + pcs, embedding dim): the embedding mean, then the scaled PCA projection; None when
    # copies are one-hot ids. It lets a copy the log never shows be encoded like the others.
    copy_basis: np.ndarray | None = None
    # Wide-and-deep crosses: each category level x the offer (discount level and channel
    # one-hots), a block between state and action, so the linear path reads "segment s responds
    # to discount d" directly, whatever the shape of that response across levels. False for
    # worlds saved before crosses existed; worlds saved before the level one-hots cross the
    # discount's value.
    crosses: bool = False

    @property
    def input_dim(self) -> int:
        return self.shopper_dim + len(self.state) + self.cross_dim + self.action_table.shape[1]

    @property
    def _offer_columns(self) -> list[int]:
        columns = self.action_columns
        discount = "discount=" if any(c.startswith("discount=") for c in columns) else "discount"
        return [i for i, c in enumerate(columns) if c.startswith(discount) or c.startswith("channel=")]

    @property
    def _levels(self) -> int:
        return sum(len(v) for v in self.categorical.values())

    @property
    def cross_dim(self) -> int:
        return self._levels * len(self._offer_columns) if self.crosses else 0

    @property
    def shopper_dim(self) -> int:
        return len(self.numeric) + sum(len(levels) for levels in self.categorical.values())

    @property
    def shopper_names(self) -> tuple[str, ...]:
        """Column names of ``shopper_matrix``."""
        return self.numeric + tuple(
            f"{name}={level}" for name, levels in self.categorical.items() for level in levels
        )

    @property
    def action_one_hot_rows(self) -> slice | None:
        """Input columns of the flat-action one-hot (the last block), if the table has one."""
        n = sum(1 for c in self.action_columns if c.startswith("action="))
        return slice(self.input_dim - n, self.input_dim) if n else None

    def shopper_matrix(self, frame: pl.DataFrame) -> np.ndarray:
        """(n, shopper_dim) float32 from a frame holding the feature columns."""
        parts = []
        if self.numeric:
            raw = frame.select(_numeric_exprs(self.numeric, self.log_scaled)).to_numpy()
            parts.append((raw - np.asarray(self.numeric_mean)) / np.asarray(self.numeric_std))
        for name, levels in self.categorical.items():
            values = frame.get_column(name).cast(pl.String).to_numpy()
            parts.append((values[:, None] == np.asarray(levels, dtype=object)[None, :]).astype(np.float64))
        return _stack(parts, frame.height)

    def state_matrix(self, frame: pl.DataFrame) -> np.ndarray:
        """(n, n_state) float32 standardised state columns of a frame."""
        if not self.state:
            return np.zeros((frame.height, 0), dtype=np.float32)
        return self.standardise_state(frame.select(self.state).cast(pl.Float64).to_numpy())

    def standardise_state(self, raw: np.ndarray) -> np.ndarray:
        return ((raw - np.asarray(self.state_mean)) / np.asarray(self.state_std)).astype(np.float32)

    def inputs(self, shopper: np.ndarray, state: np.ndarray, action: np.ndarray) -> np.ndarray:
        """(n, input_dim) float32: the blocks side by side for flat actions ``action``."""
        return self.inputs_from_rows(shopper, state, self.action_table[action])

    def inputs_from_rows(self, shopper: np.ndarray, state: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(n, input_dim) float32 for action-block ``rows`` (n or broadcastable to n rows): shopper,
        state, the category x offer crosses, then the action block."""
        n = shopper.shape[0]
        rows = np.broadcast_to(rows, (n, self.action_table.shape[1]))
        blocks = [shopper, state]
        if self.cross_dim:
            one_hots = shopper[:, self.shopper_dim - self._levels : self.shopper_dim]
            blocks.append((one_hots[:, :, None] * rows[:, None, self._offer_columns]).reshape(n, -1))
        return np.concatenate([*blocks, rows], axis=1, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "log_scaled": list(self.log_scaled),
            "numeric_mean": list(self.numeric_mean),
            "numeric_std": list(self.numeric_std),
            # [name, levels] pairs, not a mapping: the order is the one-hot column order, and a
            # JSON writer that sorts keys must not be able to change it.
            "categorical": [[k, list(v)] for k, v in self.categorical.items()],
            "state": list(self.state),
            "state_mean": list(self.state_mean),
            "state_std": list(self.state_std),
            "action_columns": list(self.action_columns),
            "crosses": self.crosses,
        }

    def copy_coordinates(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, pcs) copy texts' embeddings in the coordinates the world sees copies in."""
        if self.copy_basis is None:
            raise ValueError("this world encodes copies as ids, not text: refit it with a copy library")
        return (np.asarray(embeddings, dtype=np.float64) - self.copy_basis[0]) @ self.copy_basis[1:].T

    def logged_copy_coordinates(self) -> np.ndarray:
        """(k, pcs) the coordinates of the copies the world was fitted with (the config's copies)."""
        columns = list(self.action_columns)
        first = columns.index("copy_pc1")
        pcs = self.copy_basis.shape[0] - 1
        contacted = self.action_table[:, columns.index("contacted")] == 1.0
        return np.unique(self.action_table[contacted][:, first : first + pcs].astype(np.float64), axis=0)

    def copy_action_rows(self, coords: np.ndarray, discount: float, channel: str) -> np.ndarray:
        """(n_copies, action_dim) action-block rows for copies at ``coords`` (``copy_coordinates``)
        sent with this offer.

        The flat-action one-hot part (if any) is the mean over the known copies' rows for the same
        discount and channel: a new copy is "one of those", its own id never seen.
        """
        columns = list(self.action_columns)
        rows = np.zeros((len(coords), len(columns)), dtype=np.float32)
        rows[:, columns.index("discount")] = discount
        rows[:, columns.index("contacted")] = 1.0
        if discount_column(discount) in columns:
            rows[:, columns.index(discount_column(discount))] = 1.0
        rows[:, columns.index(f"channel={channel}")] = 1.0 if f"channel={channel}" in columns else 0.0
        first_pc = columns.index("copy_pc1")
        rows[:, first_pc : first_pc + coords.shape[1]] = coords
        hot = [i for i, c in enumerate(columns) if c.startswith("action=")]
        if hot:
            same_offer = (
                np.isclose(self.action_table[:, columns.index("discount")], discount)
                & (self.action_table[:, columns.index("contacted")] == 1.0)
                & (self.action_table[:, columns.index(f"channel={channel}")] == 1.0)
            )
            rows[:, hot] = self.action_table[same_offer][:, hot].mean(axis=0)
        return rows

    @classmethod
    def from_dict(
        cls, raw: dict[str, Any], action_table: np.ndarray, copy_basis: np.ndarray | None = None
    ) -> Encoding:
        return cls(
            tuple(raw["numeric"]),
            tuple(raw["log_scaled"]),
            tuple(raw["numeric_mean"]),
            tuple(raw["numeric_std"]),
            _categorical_levels(raw["categorical"]),
            tuple(raw["state"]),
            tuple(raw["state_mean"]),
            tuple(raw["state_std"]),
            action_table,
            tuple(raw["action_columns"]),
            copy_basis,
            bool(raw.get("crosses", False)),
        )


def _categorical_levels(raw: Any) -> dict[str, tuple[str, ...]]:
    if isinstance(raw, dict):  # worlds saved before format 2: the caller restores the order
        return {k: tuple(v) for k, v in raw.items()}
    return {str(name): tuple(levels) for name, levels in raw}


def fit_encoding(
    log: CampaignLog, *, copy_embeddings: dict[str, np.ndarray] | None, copy_dims: int
) -> Encoding:
    """Learn standardisation, category levels and the action table from ``log``."""
    frame, config = log.frame, log.config
    dynamic = [c for c in state_columns(config) if c in log.features]
    numeric = [c for c in log.numeric_features if c not in dynamic]
    log_scaled = [c for c in numeric if _right_skewed(frame.get_column(c))]
    mean, std = _moments(frame.select(_numeric_exprs(numeric, log_scaled)), numeric)
    state_mean, state_std = _moments(frame, dynamic)
    categorical = {
        c: tuple(sorted(frame.get_column(c).drop_nulls().unique().to_list())) for c in log.categorical
    }
    table, columns, basis = action_table(config, copy_embeddings=copy_embeddings, copy_dims=copy_dims)
    return Encoding(
        tuple(numeric),
        tuple(log_scaled),
        mean,
        std,
        categorical,
        tuple(dynamic),
        state_mean,
        state_std,
        table,
        columns,
        basis,
        crosses=True,
    )


def action_table(
    config: CampaignConfig, *, copy_embeddings: dict[str, np.ndarray] | None, copy_dims: int
) -> tuple[np.ndarray, tuple[str, ...], np.ndarray | None]:
    """(n_actions, dim) encoding of every flat action, its column names and the copy basis."""
    actions = config.actions
    n_d, n_c, n_k = actions.shape
    copy_vectors, copy_names, basis = _copy_vectors(actions.copies, copy_embeddings, copy_dims)
    levels = [v for v in actions.discounts if v != 0.0]
    rows = []
    for d, discount in enumerate(actions.discounts):
        for c, channel in enumerate(actions.channels):
            for k in range(n_k):
                contacted = channel != NO_CONTACT
                channel_hot = np.eye(n_c)[c][1:]
                flat = int(actions.ravel(d, c, k)) if contacted else 0  # "none" is one action
                level_hot = [float(contacted and discount == v) for v in levels]
                parts = [
                    [discount * contacted, float(contacted)],
                    level_hot,
                    channel_hot,
                    copy_vectors[k] * contacted,
                ]
                if actions.n_actions <= MAX_ACTION_ONE_HOT:
                    parts.append(np.eye(actions.n_actions)[flat])
                rows.append(np.concatenate(parts))
    names = [
        "discount",
        "contacted",
        *map(discount_column, levels),
        *[f"channel={c}" for c in actions.channels[1:]],
        *copy_names,
    ]
    if actions.n_actions <= MAX_ACTION_ONE_HOT:
        names += [f"action={i}" for i in range(actions.n_actions)]
    return np.asarray(rows, dtype=np.float32), tuple(names), basis


def discount_column(level: float) -> str:
    """The action-table column flagging an offer of discount ``level``."""
    return f"discount={level:g}"


def _copy_vectors(
    copies: tuple[str, ...], embeddings: dict[str, np.ndarray] | None, dims: int
) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """Copy texts as PCA coordinates of their embeddings (unit variance), else one-hot ids."""
    if not embeddings or not all(c in embeddings for c in copies):
        return np.eye(len(copies)), [f"copy={c}" for c in copies], None
    matrix = np.stack([np.asarray(embeddings[c], dtype=np.float64) for c in copies])
    centred = matrix - matrix.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    keep = max(1, min(dims, int((singular > 1e-8 * max(singular.max(), 1e-12)).sum())))
    projection = components[:keep] / ((centred @ components[:keep].T).std(axis=0) + 1e-12)[:, None]
    basis = np.vstack([matrix.mean(axis=0), projection])
    return centred @ projection.T, [f"copy_pc{i + 1}" for i in range(keep)], basis


def training_actions(log: CampaignLog) -> np.ndarray:
    """Flat action index of every logged row."""
    return flat_action_index(log.frame, log.config)


def _right_skewed(values: pl.Series) -> bool:
    """Non-negative with a long right tail (mean well above the median): spend, order counts."""
    values = values.cast(pl.Float64)
    if values.min() < 0 or values.n_unique() <= 2:
        return False
    median, top = values.median(), values.quantile(0.99)
    return bool(top > 5 * max(median, 1e-9) or values.skew() > 2)


def _numeric_exprs(numeric: Sequence[str], log_scaled: Sequence[str]) -> list[pl.Expr]:
    return [
        pl.col(c).cast(pl.Float64).log1p().alias(c) if c in log_scaled else pl.col(c).cast(pl.Float64)
        for c in numeric
    ]


def _moments(frame: pl.DataFrame, columns: list[str]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if not columns:
        return (), ()
    values = frame.select(columns).cast(pl.Float64).to_numpy()
    std = values.std(axis=0)
    return tuple(values.mean(axis=0).tolist()), tuple(np.where(std > 1e-12, std, 1.0).tolist())


def _stack(parts: list[np.ndarray], n: int) -> np.ndarray:
    if not parts:
        return np.zeros((n, 0), dtype=np.float32)
    return np.concatenate(parts, axis=1).astype(np.float32)
