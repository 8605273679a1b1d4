"""``FittedWorld``: an ensemble response model learned from a log, run in numpy.

Saved as ``weights.safetensors`` (stacked member weights + the action table) and
``world.json`` (encoding, config, support, assumptions, training history); loading never
unpickles anything.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from safetensors.numpy import load_file, save_file

from campaign_sim.core.atomic import atomic_path, restore_swapped, write_text_atomic
from campaign_sim.core.config import CampaignConfig, config_from_text
from campaign_sim.core.config_writer import config_to_toml
from campaign_sim.core.errors import InputError
from campaign_sim.core.manifest import check_manifest, write_manifest
from campaign_sim.simulators.fitted.behaviour import behaviour_probs
from campaign_sim.simulators.fitted.encoding import Encoding
from campaign_sim.simulators.fitted.support import SupportTable
from campaign_sim.simulators.interface import Outcomes, ShopperPool, WorldResponse, respond_then_sample
from campaign_sim.simulators.state import Dynamics, ShopperState

WEIGHTS_FILE, META_FILE, POPULATION_FILE = "weights.safetensors", "world.json", "population.parquet"
# 2: categorical levels saved as an ordered list of pairs. Format 1 saved them as a mapping that
# the sorted JSON writer put in alphabetical order, not the one-hot columns' order.
WORLD_FORMAT = 2
MIN_SUPPORT = 30  # logged rows below which an action counts as unsupported (extrapolated)


@dataclass(frozen=True)
class FittedResponse:
    """Ensemble-mean predictions plus the per-member expected revenue (for disagreement)."""

    p_visit: np.ndarray
    p_conversion: np.ndarray
    log_value_mean: np.ndarray
    value_sigma: float
    p_unsubscribe: np.ndarray
    member_revenue: np.ndarray  # (members, n) expected revenue of each member

    @property
    def p_purchase(self) -> np.ndarray:
        return self.p_visit * self.p_conversion

    @property
    def expected_revenue(self) -> np.ndarray:
        return self.member_revenue.mean(axis=0)

    @property
    def disagreement(self) -> np.ndarray:
        """Std across members of expected revenue: the epistemic uncertainty, in currency."""
        return self.member_revenue.std(axis=0)


@dataclass(frozen=True)
class FittedWorld:
    """A fitted response model over a config's action space."""

    config: CampaignConfig
    encoding: Encoding
    weights: dict[str, np.ndarray]
    support: np.ndarray  # (n_actions,) logged rows per flat action
    has_unsubscribe: bool
    metadata: dict[str, Any] = field(default_factory=dict)
    population: pl.DataFrame | None = None  # shoppers (features at their first logged period)
    support_table: SupportTable | None = None  # logged decisions / purchases per (group, action)
    behaviour: dict[str, np.ndarray] | None = None  # the logging policy's model (behaviour.*)

    @property
    def members(self) -> int:
        return int(self.weights["log_sigma"].shape[0])

    @property
    def supported(self) -> np.ndarray:
        """(n_actions,) bool: actions with enough logged rows to be learned, not extrapolated."""
        return self.support >= MIN_SUPPORT

    def member_outputs(self, inputs: np.ndarray) -> np.ndarray:
        """(members, n, 4) raw head outputs for an (n, input_dim) input matrix."""
        h = np.broadcast_to(inputs, (self.members, *inputs.shape))
        n_layers = sum(1 for k in self.weights if k.startswith("layer") and k.endswith(".weight"))
        for i in range(n_layers):
            h = np.matmul(h, self.weights[f"layer{i}.weight"]) + self.weights[f"layer{i}.bias"][:, None, :]
            if i < n_layers - 1:
                h = h * _sigmoid(h)  # SiLU
        return h + np.matmul(inputs, self.weights["wide"])

    def predict(self, shopper: np.ndarray, state: np.ndarray, action: np.ndarray) -> FittedResponse:
        """Predictions for each row's flat ``action`` (state already standardised)."""
        return self.predict_inputs(self.encoding.inputs(shopper, state, action), action)

    def predict_inputs(self, inputs: np.ndarray, action: np.ndarray) -> FittedResponse:
        """Predictions from an encoded input matrix whose action block encodes ``action``."""
        out = self.member_outputs(inputs)
        sigma = np.exp(self.weights["log_sigma"])[:, None]
        p_visit, p_conv = _sigmoid(out[..., 0]), _sigmoid(out[..., 1])
        _, revenue = self._member_visit_revenue(out)
        contacted = self.contacted(action)
        if self.has_unsubscribe:
            p_unsub = np.where(contacted, _sigmoid(out[..., 3]).mean(axis=0), 0.0)
        else:
            p_unsub = np.where(contacted, self.config.world.unsubscribe_rate, 0.0)
        return FittedResponse(
            p_visit.mean(axis=0),
            p_conv.mean(axis=0),
            out[..., 2].mean(axis=0),
            float(np.sqrt((sigma**2).mean())),
            p_unsub,
            revenue,
        )

    def contacted(self, action: np.ndarray) -> np.ndarray:
        return self.config.actions.unravel(action)[1] > 0

    def discount_of(self, action: np.ndarray) -> np.ndarray:
        actions = self.config.actions
        return np.where(
            self.contacted(action), np.asarray(actions.discounts)[actions.unravel(action)[0]], 0.0
        )

    def contact_cost_of(self, action: np.ndarray) -> np.ndarray:
        actions = self.config.actions
        costs = np.array([self.config.economics.contact_cost.get(c, 0.0) for c in actions.channels])
        return costs[actions.unravel(action)[1]]

    def expected_reward(
        self, shopper: np.ndarray, state: np.ndarray, action: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected profit of each row's action and the ensemble disagreement on it."""
        r = self.predict(shopper, state, action)
        margin = self.config.economics.margin - self.discount_of(action)
        member_profit = r.member_revenue * margin - self.contact_cost_of(action)
        return member_profit.mean(axis=0), member_profit.std(axis=0)

    def copy_lift(
        self, embeddings: np.ndarray, *, discount: float, channel: str, shoppers: pl.DataFrame
    ) -> dict[str, np.ndarray]:
        """Predicted effect of sending each copy text (new or known) with this offer, against
        no contact, averaged over ``shoppers``: (members, n_copies) arrays ``visit`` (change in
        P(visit)) and ``profit`` (change in expected profit per shopper), one row per member."""
        coords = self.encoding.copy_coordinates(embeddings)
        return self.copy_lift_at(coords, discount=discount, channel=channel, shoppers=shoppers)

    def copy_lift_at(
        self, coords: np.ndarray, *, discount: float, channel: str, shoppers: pl.DataFrame
    ) -> dict[str, np.ndarray]:
        """``copy_lift`` of copies given by their coordinates (``encoding.copy_coordinates``)."""
        x = self.encoding.shopper_matrix(shoppers)
        state = (
            self.encoding.state_matrix(shoppers)
            if all(c in shoppers.columns for c in self.encoding.state)
            else np.zeros((len(x), len(self.encoding.state)), dtype=np.float32)
        )
        base_out = self.member_outputs(self.encoding.inputs(x, state, np.zeros(len(x), dtype=np.int64)))
        base_visit, base_revenue = self._member_visit_revenue(base_out)
        base_profit = (base_revenue * self.margin).mean(axis=1)
        cost = self.config.economics.contact_cost.get(channel, 0.0)
        visit, profit = [], []
        for row in self.encoding.copy_action_rows(coords, discount, channel):
            inputs = self.encoding.inputs_from_rows(x, state, row)
            member_visit, member_revenue = self._member_visit_revenue(self.member_outputs(inputs))
            visit.append(member_visit.mean(axis=1) - base_visit.mean(axis=1))
            profit.append((member_revenue * (self.margin - discount)).mean(axis=1) - cost - base_profit)
        return {"visit": np.stack(visit, axis=1), "profit": np.stack(profit, axis=1)}

    def _member_visit_revenue(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sigma = np.exp(self.weights["log_sigma"])[:, None]
        p_visit = _sigmoid(out[..., 0])
        return p_visit, p_visit * _sigmoid(out[..., 1]) * np.exp(out[..., 2] + sigma**2 / 2)

    def member(self, index: int) -> FittedWorld:
        """The world of ensemble member ``index`` alone (its own predictions, no disagreement)."""
        weights = {k: v[index : index + 1] for k, v in self.weights.items()}
        return dataclasses.replace(self, weights=weights)

    def raw_state(self, state: ShopperState) -> dict[str, np.ndarray]:
        """The dynamic-state columns the log carried, as raw values of ``state``."""
        return {name: self._state_column(name, state) for name in self.encoding.state}

    def behaviour_probs(
        self, shopper: np.ndarray, raw: dict[str, np.ndarray], allowed: np.ndarray
    ) -> np.ndarray:
        """(n, n_actions) the logging policy's probabilities over the allowed actions, from its
        model; ``shopper`` is this world's encoded shopper matrix, ``raw`` the dynamic-state
        columns (``raw_state`` of an env state, or a log's columns)."""
        if self.behaviour is None:
            raise InputError(
                "this fitted world has no behaviour-policy model: refit it with `campaign-sim fit`"
            )
        columns = [np.asarray(raw[name], dtype=np.float64) for name in self.encoding.state]
        matrix = np.column_stack(columns) if columns else np.zeros((shopper.shape[0], 0))
        inputs = np.concatenate([shopper, self.encoding.standardise_state(matrix)], axis=1)
        return behaviour_probs(self.behaviour, inputs, allowed)

    def group_of(self, shopper: np.ndarray, raw: dict[str, np.ndarray]) -> np.ndarray:
        """(n,) support group of each shopper (see ``support.SupportTable``)."""
        if self.support_table is None:
            raise InputError("this fitted world has no support table: refit it with `campaign-sim fit`")
        return self.support_table.group_of(shopper, raw.__getitem__, self.encoding)

    # --- the environment's interface (simulators.interface.World) -------------------------
    @property
    def discounts(self) -> tuple[float, ...]:
        return self.config.actions.discounts

    @property
    def channels(self) -> tuple[str, ...]:
        return self.config.actions.channels

    @property
    def copy_ids(self) -> tuple[str, ...]:
        return self.config.actions.copies

    @property
    def valid_actions(self) -> np.ndarray | None:
        """(discounts, channels, copies): which copy may go with which offer and channel; None
        when every one may (no copy was written for some channels or offers only)."""
        return self.config.actions.valid if self.config.actions.copy_cells else None

    @property
    def margin(self) -> float:
        return self.config.economics.margin

    @property
    def contact_cost(self) -> tuple[float, ...]:
        return tuple(self.config.economics.contact_cost.get(c, 0.0) for c in self.channels)

    @property
    def dynamics(self) -> Dynamics:
        world, limits = self.config.world, self.config.constraints
        return Dynamics(world.fatigue_decay, world.exposure_decay, limits.contact_window, limits.max_contacts)

    def shopper_pool(self, size: int, *, seed: int) -> ShopperPool:
        """``size`` shoppers drawn from the fitted log's customers."""
        if self.population is None or self.population.height == 0:
            raise InputError("this fitted world has no shopper population to draw episodes from")
        rng = np.random.default_rng(seed)
        rows = rng.choice(self.population.height, size=size, replace=size > self.population.height)
        pool = self.pool_of(self.population[rows])
        pool.data["population_row"] = rows  # who each seat is: reports group customers by profile
        return pool

    def pool_of(self, frame: pl.DataFrame) -> ShopperPool:
        """The shoppers of ``frame`` (feature columns as in the log), one pool row per frame row."""
        size = frame.height
        encoded = self.encoding.shopper_matrix(frame)
        consent = np.ones((size, len(self.channels)), dtype=bool)
        for j, channel in enumerate(self.channels[1:], start=1):
            if f"consent_{channel}" in frame.columns:
                consent[:, j] = frame.get_column(f"consent_{channel}").cast(pl.Float64).to_numpy() > 0.5
        since = (
            frame.get_column("periods_since_purchase").cast(pl.Float64).to_numpy()
            if "periods_since_purchase" in frame.columns
            else np.zeros(size)
        )
        data = {"x": encoded}
        profile = self.copy_profile_of(frame)
        if profile is not None:
            data["copy_profile"] = profile
        return ShopperPool(np.clip(encoded, -10, 10), self.encoding.shopper_names, consent, since, data)

    @property
    def copies_for_profiles(self) -> np.ndarray | None:
        """(profiles + 1, copies): the copies each copy profile's customers may get (last row: a
        customer of no such profile); None when any copy may go to anyone."""
        return self.config.actions.copies_for_profiles()

    def copy_profile_of(self, frame: pl.DataFrame) -> np.ndarray | None:
        """(rows,) each customer's row of ``copies_for_profiles``, from ``copy_profiles_by``."""
        actions = self.config.actions
        if self.copies_for_profiles is None:
            return None
        by = actions.copy_profiles_by
        if by not in frame.columns:
            raise InputError(f"copies are written for values of {by!r}, a column these customers lack")
        profiles = actions.copy_profiles
        values = frame.get_column(by).cast(pl.String).fill_null("").to_numpy()
        index = {p: i for i, p in enumerate(profiles)}
        return np.array([index.get(v, len(profiles)) for v in values], dtype=np.int64)

    def respond(
        self, shoppers: dict[str, np.ndarray], state: ShopperState, action: np.ndarray
    ) -> WorldResponse:
        """Ensemble-mean response of shoppers (pool rows); disagreement = spread of profit."""
        encoded = shoppers["x"]
        raw = (
            np.column_stack([self._state_column(name, state) for name in self.encoding.state])
            if self.encoding.state
            else np.zeros((encoded.shape[0], 0))
        )
        r = self.predict(encoded, self.encoding.standardise_state(raw), action)
        margin = self.margin - self.discount_of(action)
        member_profit = r.member_revenue * margin - self.contact_cost_of(action)
        return WorldResponse(
            r.p_visit,
            r.p_conversion,
            r.log_value_mean,
            r.value_sigma,
            r.p_unsubscribe,
            member_profit.std(axis=0),
        )

    def step_outcomes(
        self, pool: ShopperPool, index: np.ndarray, state: ShopperState, action: np.ndarray, u: np.ndarray
    ) -> tuple[Outcomes, np.ndarray]:
        return respond_then_sample(self, pool, index, state, action, u)

    def _state_column(self, name: str, state: ShopperState) -> np.ndarray:
        if name.startswith("unsubscribed_"):
            return state.unsubscribed[:, self.channels.index(name.removeprefix("unsubscribed_"))].astype(
                float
            )
        return {
            "fatigue": state.fatigue,
            "discount_exposure": state.discount_exposure,
            "periods_since_contact": state.since_contact,
            "periods_since_purchase": state.since_purchase,
        }[name]

    # --- persistence ----------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        tensors = {
            **self.weights,
            "action_table": self.encoding.action_table,
            "support": self.support.astype(np.int64),
        }
        if self.support_table is not None:
            tensors.update(self.support_table.tensors())
        tensors.update(self.behaviour or {})
        if self.encoding.copy_basis is not None:
            tensors["copy_basis"] = np.asarray(self.encoding.copy_basis, dtype=np.float64)
        with atomic_path(directory / WEIGHTS_FILE) as tmp:
            save_file(tensors, str(tmp))
        meta = {
            "format": WORLD_FORMAT,
            "encoding": self.encoding.to_dict(),
            "has_unsubscribe": self.has_unsubscribe,
            "config_toml": config_to_toml(self.config),
            "support_groups": self.support_table.to_dict() if self.support_table is not None else None,
            **self.metadata,
        }
        if self.population is not None:
            with atomic_path(directory / POPULATION_FILE) as tmp:
                self.population.write_parquet(tmp)
        write_text_atomic(
            directory / META_FILE, json.dumps(meta, indent=2, sort_keys=True, default=_json) + "\n"
        )
        # the manifest last: it says which files make one world (a save killed half-way over an
        # older world leaves files that do not match it, and load refuses them)
        write_manifest(
            directory, [WEIGHTS_FILE, META_FILE] + [POPULATION_FILE] * (self.population is not None)
        )
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> FittedWorld:
        directory = Path(directory)
        restore_swapped(directory)  # a re-fit killed between its two renames: the old world is back
        meta_path, weights_path = directory / META_FILE, directory / WEIGHTS_FILE
        if not meta_path.exists() or not weights_path.exists():
            raise InputError(f"{directory}: not a fitted world (expected {META_FILE} and {WEIGHTS_FILE})")
        check_manifest(directory, remedy="refit it with `campaign-sim fit --force`")
        meta, tensors = _read_world_files(meta_path, weights_path)
        try:
            world = cls._from_files(directory, meta, tensors)
            world._smoke_test()
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise InputError(
                f"{weights_path}: does not make a world with {meta_path.name} ({exc!r})"
            ) from None
        return world

    @classmethod
    def _from_files(
        cls, directory: Path, meta: dict[str, Any], tensors: dict[str, np.ndarray]
    ) -> FittedWorld:
        meta_path = directory / META_FILE
        config = config_from_text(meta.pop("config_toml"), source=str(meta_path))
        raw_encoding = meta.pop("encoding")
        if meta.pop("format", 1) < 2:
            raw_encoding["categorical"] = _legacy_categorical(raw_encoding, meta, meta_path)
        encoding = Encoding.from_dict(
            raw_encoding, tensors.pop("action_table"), tensors.pop("copy_basis", None)
        )
        support = tensors.pop("support")
        has_unsub = meta.pop("has_unsubscribe")
        groups = meta.pop("support_groups", None)
        table = SupportTable.from_saved(groups, tensors) if groups is not None else None
        behaviour = {k: tensors.pop(k) for k in list(tensors) if k.startswith("behaviour.")} or None
        population_path = directory / POPULATION_FILE
        population = _read_population(population_path) if population_path.exists() else None
        return cls(config, encoding, tensors, support, has_unsub, meta, population, table, behaviour)

    def _smoke_test(self) -> None:
        """Shapes checked against the action space and encoding, then one prediction and one
        behaviour distribution for the first customer: tensors of the wrong shape fail here, on
        load, not minutes later; a non-finite prediction is refused."""
        n, encoding = self.config.actions.n_actions, self.encoding
        pcs = sum(c.startswith("copy_pc") for c in encoding.action_columns)
        expected = {
            "support": (self.support.shape, (n,)),
            "action_table": (encoding.action_table.shape, (n, len(encoding.action_columns))),
        }
        if self.support_table is not None:
            expected["support.decisions"] = (self.support_table.decisions.shape[1:], (n,))
        if encoding.copy_basis is not None:
            expected["copy_basis"] = (np.shape(encoding.copy_basis)[:1], (1 + pcs,))
        for name, (found, wanted) in expected.items():
            if tuple(found) != tuple(wanted):
                raise ValueError(f"tensor {name!r} has shape {tuple(found)}, expected {tuple(wanted)}")
        scales = np.asarray([*encoding.numeric_std, *encoding.state_std], dtype=float)
        if not (np.isfinite(scales).all() and (scales > 0).all()):
            raise ValueError("world.json's encoding has a zero or non-finite standard deviation")
        if self.population is None or self.population.height == 0:
            return
        if self.behaviour is not None:
            x = encoding.shopper_matrix(self.population.head(1))
            raw = {c: np.zeros(1) for c in encoding.state}
            self.behaviour_probs(x, raw, np.ones((1, n), dtype=bool))
        x = self.encoding.shopper_matrix(self.population.head(1))
        state = np.zeros((1, len(self.encoding.state)))
        response = self.predict(x, state, np.zeros(1, dtype=np.int64))
        if not all(np.isfinite(v).all() for v in (response.p_visit, response.p_conversion)):
            raise ValueError("its predictions are not finite numbers")


def _read_population(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except Exception as exc:  # polars raises its own error types on a damaged file
        raise InputError(f"{path}: not a readable parquet file ({type(exc).__name__})") from None


def _read_world_files(meta_path: Path, weights_path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """world.json (an object) and the tensors (finite), each error naming its file."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{meta_path}: not readable JSON ({exc})") from None
    if not isinstance(meta, dict) or "config_toml" not in meta or "encoding" not in meta:
        raise InputError(f"{meta_path}: not a fitted world's description (expected config_toml and encoding)")
    try:
        tensors = load_file(str(weights_path))
    except Exception as exc:  # safetensors raises its own error types on a damaged file
        raise InputError(f"{weights_path}: not a readable safetensors file ({exc})") from None
    for name, tensor in tensors.items():
        if tensor.dtype.kind == "f" and not np.isfinite(tensor).all():
            raise InputError(f"{weights_path}: tensor {name!r} holds NaN or infinite values")
    return meta, tensors


def _legacy_categorical(raw: dict[str, Any], meta: dict[str, Any], path: Path) -> list[list[Any]]:
    """A format-1 world's category levels in the order its network was trained on: the log's
    categorical list (saved as a list, so unsorted) gives it back."""
    levels: dict[str, list[str]] = raw["categorical"]
    order = meta.get("categorical")
    if not isinstance(order, list) or sorted(order) != sorted(levels):
        if list(levels) != sorted(levels) or len(levels) > 1:
            raise InputError(
                f"{path}: a format-1 world whose categorical feature order cannot be recovered; "
                "expected a 'categorical' list beside the encoding: refit it with `campaign-sim fit`"
            )
        order = list(levels)
    return [[name, levels[name]] for name in order]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)
