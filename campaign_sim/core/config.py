"""Campaign config: TOML in, validated frozen dataclasses out, and back to TOML.

Every error names the file and the dotted key. ``config_writer.config_to_dict`` is the exact inverse of
``config_from_dict`` so a run's resolved config reloads to an equal object.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from campaign_sim.core.action_space import NO_CONTACT, ActionSpace, parse_actions
from campaign_sim.core.errors import ConfigError
from campaign_sim.core.rules_config import RuleSpec, parse_rules
from campaign_sim.core.toml_reader import TomlTable, apply_overrides

MAX_SEED = 2**32 - 1  # numpy's legacy generators and torch.manual_seed accept every seed up to it
MAX_HELD_OUT = 0.8  # validation + test share of customers: the rest is what the world is fitted on
# Canonical columns whose source name ``[data.columns]`` may remap.
MAPPABLE_COLUMNS = ("discount", "channel", "copy_id", "visit", "conversion", "revenue", "unsubscribe")
LOG_KINDS = ("campaign", "recommendation")


# Typical per-contact costs (currency units) used when a config names a channel without one.
TYPICAL_CONTACT_COST = {NO_CONTACT: 0.0, "email": 0.01, "sms": 0.05, "push": 0.005}


@dataclass(frozen=True)
class Economics:
    """Gross margin on revenue and the cost of one contact per channel."""

    margin: float = 0.4
    contact_cost: dict[str, float] = field(default_factory=lambda: dict(TYPICAL_CONTACT_COST))
    # what one conversion is worth when the log has no revenue column (revenue = conversion x it)
    value_per_conversion: float | None = None


@dataclass(frozen=True)
class Constraints:
    """Campaign horizon, contact-frequency cap and budget (discount + contact spend)."""

    horizon: int = 12
    max_contacts: int = 2
    contact_window: int = 4
    budget: float | None = None


@dataclass(frozen=True)
class Arm:
    """What one value of a treatment column means as an action."""

    channel: str
    discount: float = 0.0
    copy: str | None = None
    propensity: float | None = None  # the design's probability of this arm (randomised logs)


@dataclass(frozen=True)
class Treatment:
    """A log whose action is one categorical column (an RCT arm, say)."""

    column: str
    no_contact: str
    arms: dict[str, Arm]
    no_contact_propensity: float | None = None

    @property
    def propensities(self) -> dict[str, float] | None:
        """Treatment value -> design probability, when the config states them."""
        if self.no_contact_propensity is None:
            return None
        return {self.no_contact: self.no_contact_propensity} | {v: a.propensity for v, a in self.arms.items()}


@dataclass(frozen=True)
class Recommendation:
    """A recommendation log: which item in which slot, and the click (e.g. Open Bandit)."""

    item: str = "item_id"
    position: str | None = "position"
    reward: str = "click"
    item_context: str | None = None


@dataclass(frozen=True)
class DataMapping:
    """How a foreign log's columns map onto the canonical schema."""

    kind: str = "campaign"
    customer_id: str | None = "customer_id"
    period: str | None = "period"
    features: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    rename: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    propensity: str | float | None = "propensity"
    treatment: Treatment | None = None
    recommendation: Recommendation | None = None
    # text outcome values (compared stripped, case-insensitive) -> 1 / 0, beside yes/no, true/false, y/n
    outcome_values: dict[str, float] = field(default_factory=dict)

    def source(self, canonical: str) -> str:
        """Source column of a canonical column (the same name unless mapped)."""
        return self.columns.get(canonical, canonical)

    def feature_name(self, source: str) -> str:
        """Canonical name of a feature column (renamed when it collides with the schema)."""
        return self.rename.get(source, source)


@dataclass(frozen=True)
class WorldConfig:
    """How a response model is fitted, and the dynamics priors a log cannot identify."""

    ensemble: int = 5
    hidden: tuple[int, ...] = (128, 128)
    max_epochs: int = 60
    batch_size: int = 2048
    learning_rate: float = 1.5e-3
    weight_decay: float = 1e-5
    validation_share: float = 0.15
    test_share: float = 0.15  # customers held out of fitting for the fidelity report
    patience: int = 6
    copy_dims: int = 16  # copy embeddings reduced by PCA to at most this many dimensions
    pessimism: float = 1.0  # reward penalty per unit of ensemble disagreement (fitted worlds)
    # A longer log is fitted on a sample of its customers holding about this many rows, read
    # without loading the rest; every row is still validated and counted in the support table.
    max_rows: int = 1_000_000
    # Priors for dynamics a log cannot identify (e.g. a single-period RCT):
    fatigue_decay: float = 0.7
    exposure_decay: float = 0.9
    unsubscribe_rate: float = 0.005  # per contact, when the log has no unsubscribe outcome


@dataclass(frozen=True)
class CampaignConfig:
    """The whole campaign: actions, economics, constraints, data mapping, seed."""

    name: str = "campaign"
    seed: int = 0
    actions: ActionSpace = field(default_factory=ActionSpace)
    economics: Economics = field(default_factory=Economics)
    constraints: Constraints = field(default_factory=Constraints)
    data: DataMapping = field(default_factory=DataMapping)
    world: WorldConfig = field(default_factory=WorldConfig)
    rules: tuple[RuleSpec, ...] = ()  # rule baselines (rules_config.py)


def load_config(path: str | Path, *, overrides: list[str] | None = None) -> CampaignConfig:
    """Read a TOML config, apply ``section.key=value`` overrides, validate."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc})") from None
    return config_from_text(text, source=str(path), overrides=overrides)


def config_from_text(text: str, *, source: str, overrides: list[str] | None = None) -> CampaignConfig:
    """Parse TOML ``text`` (named ``source`` in errors), apply overrides, validate."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    return config_from_dict(apply_overrides(document, overrides or []), source=source)


def config_from_dict(document: dict[str, Any], *, source: str = "config") -> CampaignConfig:
    """Validate a parsed TOML document into a ``CampaignConfig``."""
    root = TomlTable(document, source=source)
    campaign = root.table("campaign", required=False)
    name = campaign.value("name", str, default="campaign", check=bool, expected="a non-empty string")
    seed = campaign.value(
        "seed", int, default=0, check=lambda s: 0 <= s <= MAX_SEED, expected=f"an integer in [0, {MAX_SEED}]"
    )
    campaign.finish()
    actions = parse_actions(root.table("actions", required=False))
    economics = _economics(root.table("economics", required=False), actions)
    constraints = _constraints(root.table("constraints", required=False))
    data = _data(root.table("data", required=False), actions)
    world = _world(root.table("world", required=False))
    rules = parse_rules(
        root.table("rules", required=False),
        channels=actions.channels,
        discounts=actions.discounts,
        copies=actions.copies,
    )
    root.finish()
    return CampaignConfig(name, seed, actions, economics, constraints, data, world, rules)


def _world(table: TomlTable) -> WorldConfig:
    default = WorldConfig()
    positive_int = {"check": lambda v: v >= 1, "expected": "an integer >= 1"}
    fraction = {"check": lambda v: 0 < v < 1, "expected": "a number in (0, 1)"}
    ensemble = table.value("ensemble", int, default=default.ensemble, **positive_int)
    hidden = table.value("hidden", list, default=list(default.hidden), expected="a list of layer widths")
    if not hidden or not all(isinstance(h, int) and not isinstance(h, bool) and h >= 1 for h in hidden):
        raise table.fail("hidden", f"expected a non-empty list of positive integers, got {hidden!r}")
    values = {
        "max_epochs": table.value("max_epochs", int, default=default.max_epochs, **positive_int),
        "batch_size": table.value("batch_size", int, default=default.batch_size, **positive_int),
        "learning_rate": table.value("learning_rate", float, default=default.learning_rate, **fraction),
        "weight_decay": table.value(
            "weight_decay", float, default=default.weight_decay, check=_non_negative, expected="a number >= 0"
        ),
        "validation_share": table.value(
            "validation_share", float, default=default.validation_share, **fraction
        ),
        "test_share": table.value(
            "test_share",
            float,
            default=default.test_share,
            check=lambda v: 0 <= v < 1,
            expected="a number in [0, 1)",
        ),
        "patience": table.value("patience", int, default=default.patience, **positive_int),
        "copy_dims": table.value("copy_dims", int, default=default.copy_dims, **positive_int),
        "max_rows": table.value("max_rows", int, default=default.max_rows, **positive_int),
        "pessimism": table.value(
            "pessimism", float, default=default.pessimism, check=_non_negative, expected="a number >= 0"
        ),
        "fatigue_decay": table.value("fatigue_decay", float, default=default.fatigue_decay, **fraction),
        "exposure_decay": table.value("exposure_decay", float, default=default.exposure_decay, **fraction),
        "unsubscribe_rate": table.value(
            "unsubscribe_rate", float, default=default.unsubscribe_rate, **fraction
        ),
    }
    held_out = values["validation_share"] + values["test_share"]
    if held_out > MAX_HELD_OUT:
        raise table.fail(
            "validation_share",
            f"expected validation_share + test_share <= {MAX_HELD_OUT} (customers must remain to fit on), "
            f"got {held_out:g}",
        )
    table.finish()
    return WorldConfig(ensemble=ensemble, hidden=tuple(hidden), **values)


def _economics(table: TomlTable, actions: ActionSpace) -> Economics:
    margin = table.value(
        "margin", float, default=0.4, check=lambda m: 0 < m <= 1, expected="a gross margin in (0, 1]"
    )
    costs_table = table.table("contact_cost", required=False)
    costs: dict[str, float] = {NO_CONTACT: 0.0}
    for channel in actions.channels[1:]:
        costs[channel] = costs_table.value(
            channel,
            float,
            default=TYPICAL_CONTACT_COST.get(channel, 0.0),
            check=_non_negative,
            expected="a cost per contact >= 0",
        )
    stray = [k for k in costs_table.data if k not in actions.channels]
    if stray:  # e.g. a channel removed from [actions] channels by --set
        raise costs_table.fail(
            stray[0],
            f"not a channel of actions.channels {list(actions.channels)}: "
            "remove its cost, or add the channel",
        )
    if costs_table.has(NO_CONTACT):
        costs_table.value(NO_CONTACT, float, check=lambda c: c == 0, expected="0 (no contact is free)")
    costs_table.finish()
    value = table.value(
        "value_per_conversion",
        float,
        default=None,
        check=lambda v: v > 0 and math.isfinite(v),
        expected="the value of one conversion > 0 (used when the log has no revenue column)",
    )
    table.finish()
    return Economics(margin, costs, value)


def _constraints(table: TomlTable) -> Constraints:
    positive = {"check": lambda v: v >= 1, "expected": "an integer >= 1"}
    horizon = table.value("horizon", int, default=12, **positive)
    max_contacts = table.value(
        "max_contacts", int, default=2, check=lambda v: v >= 0, expected="an integer >= 0"
    )
    window = table.value("contact_window", int, default=4, **positive)
    budget = table.value(
        "budget",
        float,
        default=None,
        check=lambda b: b > 0 and math.isfinite(b),
        expected="a positive campaign budget (omit for none)",
    )
    table.finish()
    return Constraints(horizon, max_contacts, window, budget)


def _data(table: TomlTable, actions: ActionSpace) -> DataMapping:
    kind = table.value(
        "kind",
        str,
        default="campaign",
        check=lambda k: k in LOG_KINDS,
        expected=" or ".join(repr(k) for k in LOG_KINDS),
    )
    # An empty string says the log has no such column: row numbers / period 0 are used.
    customer_id = table.value("customer_id", str, default="customer_id")
    period = table.value("period", str, default="period")
    features = table.str_list("features", default=[], non_empty=False)
    categorical = table.str_list("categorical", default=[], non_empty=False)
    # patterns (V*) are matched against the file's columns when it is read
    # a name is known when it matches an entry of features (a name, or a pattern like V*)
    matches = [c for c in categorical if _is_pattern(c) or any(fnmatchcase(c, f) for f in features)]
    unknown = [c for c in categorical if features and c not in matches]
    if unknown:
        raise table.fail("categorical", f"expected names listed in data.features, got {unknown}")
    rename = _string_map(table.table("rename", required=False))
    columns = _string_map(table.table("columns", required=False))
    unknown = sorted(set(columns) - set(MAPPABLE_COLUMNS))
    if unknown:
        raise table.fail("columns", f"expected keys among {list(MAPPABLE_COLUMNS)}, got {unknown}")
    propensity = table.value(
        "propensity",
        (str, float),
        default="propensity",
        check=lambda p: isinstance(p, str) or 0 < p <= 1,
        expected='a column name, "" for none, "arm_shares" (randomised logs), or a constant in (0, 1]',
    )
    words = table.table("outcome_values", required=False)
    outcome_values = {
        key.strip().lower(): float(
            words.value(key, (int, float), check=lambda v: v in (0, 1), expected="1 or 0")
        )
        for key in list(words.data)
    }
    words.finish()
    treatment = _treatment(table.table("treatment"), actions) if table.has("treatment") else None
    recommendation = None
    if table.has("recommendation"):
        recommendation = _recommendation(table.table("recommendation"))
    elif kind == "recommendation":
        recommendation = Recommendation()
    table.finish()
    return DataMapping(
        kind,
        customer_id or None,
        period or None,
        features,
        categorical,
        rename,
        columns,
        propensity or None,
        treatment,
        recommendation,
        outcome_values,
    )


def _treatment(table: TomlTable, actions: ActionSpace) -> Treatment:
    column = table.value("column", str, check=bool, expected="the treatment column's name")
    no_contact = table.value("no_contact", str, expected="the treatment value meaning no contact").strip()
    arms_table = table.table("arms")
    arms: dict[str, Arm] = {}
    for value in list(arms_table.data):
        arm = arms_table.table(value)
        channel = arm.value(
            "channel",
            str,
            check=lambda c: c in actions.channels,
            expected=f"one of actions.channels {list(actions.channels)}",
        )
        discount = arm.value(
            "discount",
            float,
            default=0.0,
            check=lambda d: d in actions.discounts,
            expected=f"one of actions.discounts {list(actions.discounts)}",
        )
        copy = arm.value(
            "copy",
            str,
            default=None,
            check=lambda c: c in actions.copies,
            expected=f"one of actions.copies {list(actions.copies)}",
        )
        propensity = arm.value(
            "propensity", float, default=None, check=_probability, expected="a probability in (0, 1]"
        )
        arm.finish()
        arms[value.strip()] = Arm(channel, discount, copy, propensity)  # log values are read stripped
    arms_table.finish()
    if no_contact in arms:
        raise table.fail("no_contact", f"'{no_contact}' is also listed under arms; list it once")
    base = table.value(
        "no_contact_propensity", float, default=None, check=_probability, expected="a probability in (0, 1]"
    )
    stated = [a.propensity is not None for a in arms.values()] + [base is not None]
    if any(stated) and not all(stated):
        raise table.fail(
            "no_contact_propensity" if base is None else "arms",
            "expected a propensity for every arm and no_contact_propensity, or none",
        )
    table.finish()
    return Treatment(column, no_contact, arms, base)


def _recommendation(table: TomlTable) -> Recommendation:
    item = table.value("item", str, default="item_id", check=bool, expected="a column name")
    position = table.value("position", str, default="position", check=bool, expected="a column name")
    reward = table.value("reward", str, default="click", check=bool, expected="a column name")
    item_context = table.value("item_context", str, default=None, check=bool, expected="a file path")
    table.finish()
    return Recommendation(item, position, reward, item_context)


def _string_map(table: TomlTable) -> dict[str, str]:
    result = {}
    for key in list(table.data):
        result[key] = table.value(key, str, check=bool, expected="a column name")
    table.finish()
    return result


def _probability(value: float) -> bool:
    return 0 < value <= 1


def _is_pattern(name: str) -> bool:
    return any(ch in name for ch in "*?[")


def _non_negative(value: float) -> bool:
    return value >= 0 and math.isfinite(value)
