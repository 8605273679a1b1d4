"""One validation pass over a mapped log: every failure names file, column, first bad row.

Checks are polars expressions that are true on bad rows. All of a stage's checks run in
a single ``select`` (polars evaluates them in parallel over one scan of the frame); only
when one fails is a second query run to find its first bad row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from campaign_sim.core.config import NO_CONTACT, ActionSpace
from campaign_sim.core.errors import DataError
from campaign_sim.data import schema as S
from campaign_sim.data.schema import ROW_NUMBER, ColumnSpec

_LEVEL_DECIMALS = 6  # discounts are compared to the configured levels after rounding
_MAX_EXACT_INT = 2**53  # larger integers do not survive the float64 values are validated as


@dataclass(frozen=True)
class Check:
    """Rows where ``bad`` is true break the rule ``expected`` in ``column``."""

    column: str
    bad: pl.Expr
    problem: str
    expected: str


def raise_first_failure(
    frame: pl.DataFrame, checks: Sequence[Check], *, file: str, labels: dict[str, str]
) -> None:
    """Run ``checks`` in one pass; raise ``DataError`` for the first (in list order) that fails."""
    if not checks:
        return
    flags = frame.select(
        [c.bad.fill_null(False).any().alias(f"check_{i}") for i, c in enumerate(checks)]
    ).row(0)
    for check, failed in zip(checks, flags, strict=True):
        if failed:
            row = frame.select(check.bad.fill_null(False).arg_max()).item()
            value = frame.get_column(check.column)[row] if check.column in frame.columns else None
            got = f" (got {value!r})" if value is not None else ""
            # a bucket of the log (data/buckets.py) carries each row's place in the file
            in_file = frame.get_column(ROW_NUMBER)[row] if ROW_NUMBER in frame.columns else row
            raise DataError(
                check.problem + got,
                file=file,
                row=in_file + 1,
                column=labels.get(check.column, check.column),
                expected=check.expected,
            )


def type_checks(
    frame: pl.DataFrame, specs: Sequence[ColumnSpec], numeric_features: Sequence[str]
) -> list[Check]:
    """Values that cannot be read as numbers where numbers are required."""
    checks = []
    numeric = [s.name for s in specs if s.numeric] + list(numeric_features)
    for name in numeric:
        if name in frame.columns and not frame.schema[name].is_numeric():
            col = pl.col(name)
            if frame.schema[name] == pl.Boolean:
                continue
            checks.append(
                Check(
                    name,
                    col.is_not_null() & col.cast(pl.Float64, strict=False).is_null(),
                    "not a number",
                    "a numeric value",
                )
            )
    return checks


def cast_numeric(
    frame: pl.DataFrame, specs: Sequence[ColumnSpec], numeric_features: Sequence[str]
) -> pl.DataFrame:
    """Cast numeric columns to Float64 (validated further before their final dtype)."""
    names = [s.name for s in specs if s.numeric and s.name in frame.columns] + list(numeric_features)
    return frame.with_columns(pl.col(n).cast(pl.Float64, strict=False) for n in names)


def value_checks(
    frame: pl.DataFrame, specs: Sequence[ColumnSpec], features: Sequence[str], numeric_features: Sequence[str]
) -> list[Check]:
    """Nulls, NaN, ranges, integrality and binary outcomes."""
    checks = []
    for spec in specs:
        if spec.name not in frame.columns:
            continue
        col = pl.col(spec.name)
        if not spec.nullable:
            missing = col.is_null() | _blank(frame, spec.name)
            checks.append(Check(spec.name, missing, "missing value", _spec_expected(spec)))
        if spec.numeric:
            checks.append(
                Check(
                    spec.name, col.is_nan() | col.is_infinite(), "not a finite number", _spec_expected(spec)
                )
            )
        if spec.kind == "binary":
            checks.append(Check(spec.name, ~col.is_in([0.0, 1.0]), "not binary", "0 or 1"))
        elif spec.kind == "int":
            checks.append(Check(spec.name, col != col.floor(), "not an integer", "a whole number"))
            checks.append(
                Check(spec.name, col.abs() > _MAX_EXACT_INT, "integer too large", "a whole number below 2^53")
            )
        if spec.numeric and spec.kind != "binary":
            checks.append(Check(spec.name, _out_of_range(col, spec), "out of range", spec.range_text()))
    for name in features:
        col = pl.col(name)
        checks.append(
            Check(name, col.is_null() | _blank(frame, name), "missing feature value", "a value in every row")
        )
        if name in numeric_features:
            checks.append(
                Check(name, col.is_nan() | col.is_infinite(), "not a finite number", "a finite number")
            )
    return checks


def _blank(frame: pl.DataFrame, name: str) -> pl.Expr:
    """An explicit empty (or all-space) text value: as missing as a null, never an id or a level."""
    if frame.schema[name] != pl.String:
        return pl.lit(False)
    return pl.col(name).str.strip_chars().str.len_chars() == 0


def action_checks(actions: ActionSpace) -> list[Check]:
    """Logged actions must lie in the configured action space."""
    channel, discount, copy = pl.col(S.CHANNEL), pl.col(S.DISCOUNT), pl.col(S.COPY_ID)
    levels = [round(d, _LEVEL_DECIMALS) for d in actions.discounts]
    contacted = channel != NO_CONTACT
    return [
        Check(
            S.CHANNEL,
            ~channel.is_in(list(actions.channels)),
            "channel not in the action space",
            f"one of actions.channels {list(actions.channels)}",
        ),
        Check(
            S.DISCOUNT,
            ~discount.round(_LEVEL_DECIMALS).is_in(levels),
            "discount not in the action space",
            f"one of actions.discounts {list(actions.discounts)}",
        ),
        Check(
            S.DISCOUNT,
            ~contacted & (discount != 0),
            "discount offered without contact",
            f"0 when channel is '{NO_CONTACT}'",
        ),
        Check(
            S.COPY_ID,
            contacted & (copy.is_null() | ~copy.is_in(list(actions.copies))),
            "copy not in the action space",
            f"one of actions.copies {list(actions.copies)}",
        ),
    ]


def raise_on_duplicates(frame: pl.DataFrame, *, file: str, labels: dict[str, str]) -> None:
    """At most one decision per (customer, period).

    Logs are nearly always sorted by customer then period; then a duplicate sits next to
    its twin and comparing neighbours is a cheap linear pass. Unsorted logs fall back to
    hashing (slower, same answer).
    """
    customer, period = pl.col(S.CUSTOMER_ID), pl.col(S.PERIOD)
    same_customer = customer == customer.shift(1)
    in_order = (customer > customer.shift(1)) | (same_customer & (period >= period.shift(1)))
    is_sorted = frame.select(in_order.fill_null(True).all()).item()
    twin = (
        same_customer & (period == period.shift(1))
        if is_sorted
        else (~pl.struct(S.CUSTOMER_ID, S.PERIOD).is_first_distinct())
    )
    check = Check(
        S.CUSTOMER_ID, twin, "duplicate (customer_id, period) row", "one row per customer and period"
    )
    raise_first_failure(frame, [check], file=file, labels=labels)


def _out_of_range(col: pl.Expr, spec: ColumnSpec) -> pl.Expr:
    bad = pl.lit(False)
    if spec.low is not None:
        bad = bad | ((col <= spec.low) if spec.low_open else (col < spec.low))
    if spec.high is not None:
        bad = bad | ((col >= spec.high) if spec.high_open else (col > spec.high))
    return bad


def _spec_expected(spec: ColumnSpec) -> str:
    return {"id": "an identifier", "text": "a non-empty value"}.get(spec.kind) or spec.range_text()
