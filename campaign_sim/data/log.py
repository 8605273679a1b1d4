"""Load a log through its adapter, validate it in one pass, hand back canonical columns."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import DataError
from campaign_sim.data import schema as S
from campaign_sim.data.adapters import ARM_SHARES, RAW, TREATMENT, Mapping, build_mapping
from campaign_sim.data.buckets import Bucket, buckets_of
from campaign_sim.data.loaders import check_readable, collect, source_schema
from campaign_sim.data.schema import ROW_NUMBER
from campaign_sim.data.validation import (
    Check,
    action_checks,
    cast_numeric,
    raise_first_failure,
    raise_on_duplicates,
    type_checks,
    value_checks,
)

_FINAL_DTYPES = {
    S.PERIOD: pl.Int64,
    S.ITEM: pl.Int64,
    S.POSITION: pl.Int64,
    S.VISIT: pl.Int8,
    S.CONVERSION: pl.Int8,
    S.UNSUBSCRIBE: pl.Int8,
    S.CLICK: pl.Int8,
    S.DISCOUNT: pl.Float64,
    S.REVENUE: pl.Float64,
    S.PROPENSITY: pl.Float64,
}


@dataclass(frozen=True)
class CampaignLog:
    """A validated log in canonical columns (campaign or recommendation kind)."""

    frame: pl.DataFrame
    kind: str
    source: str
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    config: CampaignConfig
    item_context: pl.DataFrame | None = None

    @property
    def has_propensity(self) -> bool:
        return S.PROPENSITY in self.frame.columns

    @property
    def numeric_features(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f not in self.categorical)


def load_log(path: str | Path, config: CampaignConfig, *, bucket: Bucket | None = None) -> CampaignLog:
    """Read, map and validate the log at ``path``; raise ``DataError`` on the first problem.

    With ``bucket``, only that bucket's customers (``data/buckets.py``): errors still name the
    file's row, and a bucket other than the first may be empty."""
    path = check_readable(path)
    file = str(path)
    schema = source_schema(path)
    mapping = build_mapping(
        config.data, schema, file=file, value_per_conversion=config.economics.value_per_conversion
    )
    floats = [mapping.labels.get(c, c) for c in _FINAL_DTYPES if c in mapping.labels]
    floats = [f for f in floats if f in schema and schema[f].is_numeric()]
    floats += [mapping.labels[f] for f in mapping.numeric_features]
    if bucket is None:
        frame = collect(path, lambda lf: lf.select(mapping.exprs), floats=floats)
    else:
        keep = bucket.buckets.keep(bucket.index)
        frame = collect(
            path,
            lambda lf: lf.with_row_index(ROW_NUMBER).select(ROW_NUMBER, *mapping.exprs).filter(keep),
            floats=floats,
        )
    _refuse_nested(frame, file=file, labels=mapping.labels)
    if frame.height or bucket is None or bucket.index == 0:
        frame = validate_frame(frame, mapping, config, file=file)
    first = bucket is None or bucket.index == 0  # say once what holds for the whole log
    if first and config.data.propensity == ARM_SHARES and config.data.treatment is not None:
        shares = (
            frame.group_by(S.CHANNEL, S.DISCOUNT, S.COPY_ID)
            .agg(pl.col(S.PROPENSITY).first())
            .sort(S.PROPENSITY)
        )
        warnings.warn(
            "propensities estimated from the arm shares of the log: "
            + ", ".join(f"{c} {d:.0%} {k or '-'} {p:.3f}" for c, d, k, p in shares.iter_rows()),
            stacklevel=2,
        )
    item_context = _item_context(path, config, frame) if config.data.kind == "recommendation" else None
    return CampaignLog(
        frame, config.data.kind, file, mapping.features, mapping.categorical, config, item_context
    )


@dataclass(frozen=True)
class Validated:
    """What ``data validate`` reports of a valid log."""

    kind: str
    rows: int
    columns: list[str]
    features: int
    buckets: int  # 1: read whole


def validate_log(logs: str | Path, config: CampaignConfig) -> Validated:
    """Validate every row of ``logs``, one bucket of customers at a time when it is long."""
    buckets = buckets_of(logs, config, seed=config.seed)
    parts = [None] if buckets is None else [Bucket(buckets, i) for i in range(buckets.count)]
    rows, first = 0, None
    for part in parts:
        log = load_log(logs, config, bucket=part)
        rows += log.frame.height
        first = first or Validated(log.kind, 0, log.frame.columns, len(log.features), len(parts))
        del log
    return Validated(first.kind, rows, first.columns, first.features, first.buckets)


def _refuse_nested(frame: pl.DataFrame, *, file: str, labels: dict[str, str]) -> None:
    """A column of lists, structs or bytes has no single value per row to read."""
    for name, dtype in frame.schema.items():
        if dtype.is_nested() or dtype in (pl.Binary, pl.Object):
            column = labels.get(name, name)
            raise DataError(f"holds {dtype} values", file=file, column=column, expected="one value per row")


def validate_frame(
    frame: pl.DataFrame, mapping: Mapping, config: CampaignConfig, *, file: str
) -> pl.DataFrame:
    """Validate a mapped frame and give it the canonical dtypes."""
    if frame.height == 0:
        raise DataError("no data rows", file=file, expected="at least one decision")
    specs = S.schema_for(config.data.kind)
    numeric = mapping.numeric_features
    raise_first_failure(frame, type_checks(frame, specs, numeric), file=file, labels=mapping.labels)
    frame = cast_numeric(frame, specs, numeric)
    checks = list(mapping.extra_checks) + value_checks(frame, specs, mapping.features, numeric)
    if config.data.kind == "campaign":
        checks += action_checks(config.actions) + _outcome_consistency()
    raise_first_failure(frame, checks, file=file, labels=mapping.labels)
    if mapping.has_customer_id:
        raise_on_duplicates(frame, file=file, labels=mapping.labels)
    frame = frame.drop(TREATMENT, *(c for c in frame.columns if c.startswith(RAW)), strict=False)
    casts = [pl.col(c).cast(t) for c, t in _FINAL_DTYPES.items() if c in frame.columns]
    casts += [pl.col(c).cast(pl.String) for c in mapping.categorical]
    order = [s.name for s in specs if s.name in frame.columns] + list(mapping.features)
    return frame.with_columns(casts).select(order)


def _outcome_consistency() -> list[Check]:
    conversion, visit, revenue = pl.col(S.CONVERSION), pl.col(S.VISIT), pl.col(S.REVENUE)
    return [
        Check(S.CONVERSION, conversion > visit, "conversion without a visit", "conversion <= visit"),
        Check(
            S.REVENUE,
            (revenue > 0) & (conversion == 0),
            "revenue without a conversion",
            "revenue 0 when conversion is 0",
        ),
    ]


def _item_context(path: Path, config: CampaignConfig, frame: pl.DataFrame) -> pl.DataFrame | None:
    """The recommendation log's item features, read from a file beside the log."""
    name = config.data.recommendation.item_context
    if not name:
        return None
    context_path = check_readable(path.parent / name)
    items = collect(context_path, lambda lf: lf)
    if S.ITEM not in items.columns:
        raise DataError(
            "required column is missing",
            file=str(context_path),
            column=S.ITEM,
            expected="one row per item with its item_id",
        )
    n_items = items.height
    bad = frame.select(
        (pl.col(S.ITEM) >= n_items).arg_max().alias("row"), (pl.col(S.ITEM) >= n_items).any().alias("any")
    ).row(0)
    if bad[1]:
        raise DataError(
            "item not in the item context",
            file=str(path),
            column=S.ITEM,
            row=bad[0] + 1,
            expected=f"an item_id below {n_items} ({context_path.name})",
        )
    return items.drop([c for c in items.columns if c == "" or c.startswith("Unnamed")])
