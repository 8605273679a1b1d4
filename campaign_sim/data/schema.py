"""The canonical log schemas of DESIGN.md, as data the validator walks."""

from __future__ import annotations

from dataclasses import dataclass

# a row's place among the file's data rows (0-based), carried by a bucket of a log (data/buckets.py)
ROW_NUMBER = "__file_row"
CUSTOMER_ID = "customer_id"
PERIOD = "period"
DISCOUNT = "discount"
CHANNEL = "channel"
COPY_ID = "copy_id"
PROPENSITY = "propensity"
VISIT = "visit"
CONVERSION = "conversion"
REVENUE = "revenue"
UNSUBSCRIBE = "unsubscribe"
ITEM = "item_id"
POSITION = "position"
CLICK = "click"

OUTCOMES = (VISIT, CONVERSION, REVENUE, UNSUBSCRIBE)
BINARY_OUTCOMES = (VISIT, CONVERSION, UNSUBSCRIBE)


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column: its kind and the range its values must lie in."""

    name: str
    kind: str  # "id" | "int" | "float" | "binary" | "text"
    required: bool = True
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    nullable: bool = False

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float", "binary")

    def range_text(self) -> str:
        """The allowed range in interval notation, e.g. ``(0, 1]``."""
        if self.kind == "binary":
            return "0 or 1"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        return f"a number in {left}{low}, {high}{right}"


CAMPAIGN_SCHEMA: tuple[ColumnSpec, ...] = (
    ColumnSpec(CUSTOMER_ID, "id"),
    ColumnSpec(PERIOD, "int", low=0),
    ColumnSpec(DISCOUNT, "float", low=0, high=1, high_open=True),
    ColumnSpec(CHANNEL, "text"),
    ColumnSpec(COPY_ID, "text", nullable=True),  # empty when channel is "none"
    ColumnSpec(PROPENSITY, "float", required=False, low=0, high=1, low_open=True),
    ColumnSpec(VISIT, "binary"),
    ColumnSpec(CONVERSION, "binary"),
    ColumnSpec(REVENUE, "float", low=0),
    ColumnSpec(UNSUBSCRIBE, "binary", required=False),
)

RECOMMENDATION_SCHEMA: tuple[ColumnSpec, ...] = (
    ColumnSpec(CUSTOMER_ID, "id"),
    ColumnSpec(PERIOD, "int", low=0),
    ColumnSpec(ITEM, "int", low=0),
    ColumnSpec(POSITION, "int", low=1),
    ColumnSpec(CLICK, "binary"),
    ColumnSpec(PROPENSITY, "float", low=0, high=1, low_open=True),
)


def schema_for(kind: str) -> tuple[ColumnSpec, ...]:
    """The canonical columns of a log kind (``campaign`` or ``recommendation``)."""
    return RECOMMENDATION_SCHEMA if kind == "recommendation" else CAMPAIGN_SCHEMA
