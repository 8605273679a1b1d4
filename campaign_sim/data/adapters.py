"""Config-driven adapters: map any foreign log's columns onto the canonical schema.

A new RCT log (another treatment column, other outcome names) needs a config, not code:
``[data.columns]`` renames outcomes, ``[data.treatment]`` turns one categorical column into
(discount, channel, copy), ``[data.recommendation]`` reads item x position logs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from campaign_sim.core.config import NO_CONTACT, DataMapping
from campaign_sim.core.errors import DataError
from campaign_sim.data import schema as S
from campaign_sim.data.validation import Check

TREATMENT = "__treatment"  # the raw treatment value, kept until validation has run
ARM_SHARES = "arm_shares"  # data.propensity: each arm's share of the log (randomised logs)
RAW = "__raw_"  # prefix of raw text outcomes, kept until validation has run
OUTCOME_WORDS = {"yes": 1.0, "no": 0.0, "true": 1.0, "false": 0.0, "y": 1.0, "n": 0.0, "1": 1.0, "0": 0.0}


@dataclass(frozen=True)
class Mapping:
    """The select expressions that turn a source scan into canonical columns."""

    exprs: list[pl.Expr]
    labels: dict[str, str]  # canonical name -> how the user knows the column
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    has_customer_id: bool
    extra_checks: list[Check] = field(default_factory=list)

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f not in self.categorical)


def build_mapping(
    mapping: DataMapping, schema: pl.Schema, *, file: str, value_per_conversion: float | None = None
) -> Mapping:
    """Expressions mapping a file with columns ``schema`` onto the canonical schema.

    With no ``data.features`` configured, every column the mapping does not use is a
    feature (text columns categorical), so a canonical file needs no config at all.
    """
    names = list(schema.names())
    present = set(names)
    labels: dict[str, str] = {}
    exprs: list[pl.Expr] = []

    def take(canonical: str, source: str, origin: str) -> None:
        if source not in present:
            raise DataError(
                "required column is missing",
                file=file,
                column=source,
                expected=f"a column named '{source}' ({origin}); columns are {_short(names)}",
            )
        exprs.append(pl.col(source).alias(canonical))
        labels[canonical] = source if source == canonical else f"{source} ({canonical})"

    if mapping.customer_id:
        take(S.CUSTOMER_ID, mapping.customer_id, "data.customer_id")
    else:
        exprs.append(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(S.CUSTOMER_ID))
    if mapping.period:
        take(S.PERIOD, mapping.period, "data.period")
    else:
        exprs.append(pl.lit(0, dtype=pl.Int64).alias(S.PERIOD))

    checks: list[Check] = []
    if mapping.kind == "recommendation":
        rec = mapping.recommendation
        take(S.ITEM, rec.item, "data.recommendation.item")
        if rec.position:
            take(S.POSITION, rec.position, "data.recommendation.position")
        else:
            exprs.append(pl.lit(1, dtype=pl.Int64).alias(S.POSITION))
        take(S.CLICK, rec.reward, "data.recommendation.reward")
    else:
        checks += _campaign_columns(mapping, present, take, exprs, labels)
        checks += _outcome_words(mapping, schema, exprs, labels, file=file)
        _revenue(mapping, exprs, value_per_conversion, file=file)
    _propensity(mapping, present, take, exprs, file=file)

    if mapping.features:
        features = _expand_features(mapping.features, names, file=file)
        categorical = _expand_features(mapping.categorical, names, file=file)
    else:
        used = {_source_of(label) for label in labels.values()}
        features = tuple(n for n in names if n not in used and n.strip() and not n.startswith("Unnamed"))
        text = tuple(n for n in features if schema[n] in (pl.String, pl.Categorical))
        listed = _expand_features(mapping.categorical, features, file=file) if mapping.categorical else ()
        categorical = tuple(dict.fromkeys([*text, *listed]))
    feature_names = []
    for source in features:
        name = mapping.feature_name(source)
        if name in labels or name in (S.CUSTOMER_ID, S.PERIOD, TREATMENT):
            raise DataError(
                f"feature '{name}' collides with a canonical column",
                file=file,
                column=source,
                expected=f'a [data.rename] entry, e.g. {source} = "{source}_feature"',
            )
        exprs.append(pl.col(source).alias(name))
        labels[name] = source
        feature_names.append(name)
    categorical_names = tuple(mapping.feature_name(c) for c in categorical)
    return Mapping(exprs, labels, tuple(feature_names), categorical_names, bool(mapping.customer_id), checks)


def _campaign_columns(mapping: DataMapping, present: set[str], take, exprs, labels) -> list[Check]:
    for outcome in (S.VISIT, S.CONVERSION):
        take(outcome, mapping.source(outcome), f"the {outcome} outcome")
    if mapping.source(S.REVENUE) in present or S.REVENUE in mapping.columns:
        take(S.REVENUE, mapping.source(S.REVENUE), "the revenue outcome, or economics.value_per_conversion")
    unsubscribe = mapping.source(S.UNSUBSCRIBE)
    if unsubscribe in present or S.UNSUBSCRIBE in mapping.columns:
        take(S.UNSUBSCRIBE, unsubscribe, "data.columns.unsubscribe")
    treatment = mapping.treatment
    if treatment is None:
        for column in (S.DISCOUNT, S.CHANNEL, S.COPY_ID):
            take(column, mapping.source(column), f"the {column} of each decision")
        return []
    if treatment.column not in present:
        take(TREATMENT, treatment.column, "data.treatment.column")
    value = pl.col(treatment.column).cast(pl.String).str.strip_chars()  # " Mens" is "Mens"
    channels = {treatment.no_contact: NO_CONTACT} | {v: a.channel for v, a in treatment.arms.items()}
    discounts = {treatment.no_contact: 0.0} | {v: a.discount for v, a in treatment.arms.items()}
    copies = {v: a.copy for v, a in treatment.arms.items()}
    exprs += [
        value.alias(TREATMENT),
        value.replace_strict(channels, default=None, return_dtype=pl.String).alias(S.CHANNEL),
        value.replace_strict(discounts, default=None, return_dtype=pl.Float64).alias(S.DISCOUNT),
        value.replace_strict(copies, default=None, return_dtype=pl.String).alias(S.COPY_ID),
    ]
    for canonical in (TREATMENT, S.CHANNEL, S.DISCOUNT, S.COPY_ID):
        labels[canonical] = treatment.column
    known = [treatment.no_contact, *treatment.arms]  # compared stripped, as the values are
    return [
        Check(
            TREATMENT,
            pl.col(TREATMENT).is_null() | ~pl.col(TREATMENT).is_in(known),
            "unknown treatment value",
            f"one of {known} (data.treatment)",
        )
    ]


def _outcome_words(
    mapping: DataMapping, schema: pl.Schema, exprs: list[pl.Expr], labels: dict[str, str], *, file: str
) -> list[Check]:
    """Text outcomes (Yes/No, True/False, y/n, or data.outcome_values) as 1 / 0; any other text
    is an error naming the row."""
    words = OUTCOME_WORDS | mapping.outcome_values
    checks = []
    for i, expr in enumerate(exprs):
        name = expr.meta.output_name()
        source = expr.meta.root_names()[0] if expr.meta.root_names() else None
        if name not in (S.VISIT, S.CONVERSION, S.UNSUBSCRIBE) or schema.get(source) not in (
            pl.String,
            pl.Categorical,
        ):
            continue
        raw = pl.col(source).cast(pl.String).str.strip_chars()
        exprs[i] = (
            raw.str.to_lowercase().replace_strict(words, default=None, return_dtype=pl.Float64).alias(name)
        )
        exprs.append(raw.alias(RAW + name))
        labels[RAW + name] = source
        known = pl.col(RAW + name).str.to_lowercase().is_in(list(words))
        checks.append(
            Check(
                RAW + name,
                pl.col(RAW + name).is_not_null() & ~known,
                "unknown outcome value",
                f"one of {sorted(words)} (any case; more in data.outcome_values)",
            )
        )
    return checks


def _revenue(
    mapping: DataMapping, exprs: list[pl.Expr], value_per_conversion: float | None, *, file: str
) -> None:
    """Revenue = conversion x economics.value_per_conversion when the log has no revenue column."""
    outputs = {e.meta.output_name(): e for e in exprs}
    if S.REVENUE in outputs:
        return
    if value_per_conversion is None:
        raise DataError(
            "required column is missing",
            file=file,
            column=mapping.source(S.REVENUE),
            expected="a revenue column, or economics.value_per_conversion (what one conversion is worth)",
        )
    exprs.append((outputs[S.CONVERSION].cast(pl.Float64) * value_per_conversion).alias(S.REVENUE))


def _propensity(mapping: DataMapping, present: set[str], take, exprs: list[pl.Expr], *, file: str) -> None:
    propensity, treatment = mapping.propensity, mapping.treatment
    if treatment is not None and (treatment.propensities or propensity == ARM_SHARES):
        arm = pl.col(treatment.column).cast(pl.String).str.strip_chars()
        by_arm = (
            arm.replace_strict(treatment.propensities, default=None, return_dtype=pl.Float64)
            if treatment.propensities
            else pl.len().over(arm).cast(pl.Float64) / pl.len()
        )
        exprs.append(by_arm.alias(S.PROPENSITY))
    elif propensity == ARM_SHARES:
        raise DataError(
            "propensities from arm shares need a treatment column",
            file=file,
            column="data.propensity",
            expected="a [data.treatment] table, a propensity column, or a constant",
        )
    elif isinstance(propensity, float):
        exprs.append(pl.lit(propensity, dtype=pl.Float64).alias(S.PROPENSITY))
    elif isinstance(propensity, str) and (propensity in present or propensity != S.PROPENSITY):
        take(S.PROPENSITY, propensity, "data.propensity")
    elif mapping.kind == "recommendation":
        take(S.PROPENSITY, S.PROPENSITY, "data.propensity")


def _source_of(label: str) -> str:
    return label.split(" (", 1)[0]


def _expand_features(patterns: Sequence[str], names: Sequence[str], *, file: str) -> tuple[str, ...]:
    """Feature names with ``*`` / ``?`` patterns expanded against the file's columns."""
    result: list[str] = []
    for pattern in patterns:
        matched = (
            fnmatch.filter(names, pattern)
            if any(ch in pattern for ch in "*?[")
            else ([pattern] if pattern in names else [])
        )
        if not matched:
            raise DataError(
                "feature column is missing",
                file=file,
                column=pattern,
                expected=f"a column matching data.features; columns are {_short(names)}",
            )
        result += [m for m in matched if m not in result]
    return tuple(result)


def _short(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return f"[{shown}{', ...' if len(names) > limit else ''}]"
