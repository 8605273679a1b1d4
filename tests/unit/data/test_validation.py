"""Each malformed log gives one DataError naming file, column, first bad row, expectation."""

from __future__ import annotations

import polars as pl
import pytest

from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import DataError
from campaign_sim.data.log import load_log
from tests.conftest import canonical_frame


def _write(tmp_path, frame: pl.DataFrame, suffix: str = ".csv"):
    path = tmp_path / f"log{suffix}"
    if suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_valid_log_loads_with_canonical_dtypes(tmp_path, suffix):
    log = load_log(_write(tmp_path, canonical_frame(), suffix), CampaignConfig())
    assert log.frame.height == 6
    assert log.frame.schema["visit"] == pl.Int8 and log.frame.schema["period"] == pl.Int64
    assert log.features == ("recency", "segment") and log.categorical == ("segment",)


def _with(column: str, row: int, value) -> pl.DataFrame:
    frame = canonical_frame()
    values = frame.get_column(column).to_list()
    values[row] = value
    dtype = pl.String if isinstance(value, str) else None
    return frame.with_columns(pl.Series(column, values, dtype=dtype, strict=False))


BAD = [
    (
        _with("propensity", 3, 0.0),
        "column 'propensity', row 4: out of range (got 0.0); expected a number in (0, 1]",
    ),
    (
        _with("propensity", 2, 1.5),
        "column 'propensity', row 3: out of range (got 1.5); expected a number in (0, 1]",
    ),
    (
        _with("discount", 4, 1.0),
        "column 'discount', row 5: out of range (got 1.0); expected a number in [0, 1)",
    ),
    (
        _with("discount", 1, 0.15),
        "column 'discount', row 2: discount not in the action space (got 0.15); expected one of actions.discounts",
    ),
    (
        _with("discount", 0, 0.1),
        "column 'discount', row 1: discount offered without contact (got 0.1); expected 0 when channel is 'none'",
    ),
    (
        _with("revenue", 1, -3.0),
        "column 'revenue', row 2: out of range (got -3.0); expected a number in [0, inf)",
    ),
    (_with("visit", 2, 2), "column 'visit', row 3: not binary (got 2.0); expected 0 or 1"),
    (
        _with("visit", 0, 0),
        "column 'conversion', row 1: conversion without a visit (got 1.0); expected conversion <= visit",
    ),
    (
        _with("conversion", 3, 0),
        "column 'revenue', row 4: revenue without a conversion (got 120.5); expected revenue 0 when conversion is 0",
    ),
    (_with("period", 5, 1.5), "column 'period', row 6: not an integer (got 1.5); expected a whole number"),
    (
        _with("period", 1, 9.3e18),
        "column 'period', row 2: integer too large (got 9.3e+18); expected a whole number below 2^53",
    ),
    (
        _with("period", 2, -1),
        "column 'period', row 3: out of range (got -1.0); expected a number in [0, inf)",
    ),
    (
        _with("channel", 3, "fax"),
        "column 'channel', row 4: channel not in the action space (got 'fax'); expected one of actions.channels",
    ),
    (_with("channel", 1, None), "column 'channel', row 2: missing value; expected a non-empty value"),
    (_with("copy_id", 1, "bold"), "column 'copy_id', row 2: copy not in the action space (got 'bold')"),
    (
        _with("revenue", 4, "lots"),
        "column 'revenue', row 5: not a number (got 'lots'); expected a numeric value",
    ),
    (_with("revenue", 5, None), "column 'revenue', row 6: missing value"),
    (_with("recency", 2, None), "column 'recency', row 3: missing feature value"),
    (
        _with("customer_id", 4, "c1").with_columns(pl.lit(0).alias("period")),
        "column 'customer_id', row 5: duplicate (customer_id, period) row",
    ),
    (canonical_frame().drop("revenue"), "column 'revenue': required column is missing"),
    (canonical_frame().head(0), "log.csv: no data rows; expected at least one decision"),
]


@pytest.mark.parametrize(("frame", "message"), BAD)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_bad_log_names_file_column_row(tmp_path, frame, message, suffix):
    path = _write(tmp_path, frame, suffix)
    with pytest.raises(DataError) as info:
        load_log(path, CampaignConfig())
    text = str(info.value)
    assert text.startswith(str(path)), text
    expected = message.replace("log.csv", path.name)
    if suffix == ".parquet":  # parquet keeps the dtype, so a text value in a number column differs
        expected = expected.replace("(got 'lots')", "(got 'lots')")
    assert expected in text, text


def test_nan_is_caught(tmp_path):
    frame = canonical_frame().with_columns(pl.Series("revenue", [80.0, float("nan"), 0, 120.5, 0, 0]))
    with pytest.raises(DataError, match=r"column 'revenue', row 2: not a finite number"):
        load_log(_write(tmp_path, frame, ".parquet"), CampaignConfig())


def test_bad_value_deep_in_csv_is_located(tmp_path):
    """Past the rows polars infers types from, a bad value is still pinned to its row."""
    frame = canonical_frame(30_000).with_columns(pl.col("period").cast(pl.String))
    values = frame.get_column("period").to_list()
    values[25_000] = "week-3"
    path = _write(tmp_path, frame.with_columns(pl.Series("period", values)))
    with pytest.raises(DataError, match=r"column 'period', row 25001: not a number \(got 'week-3'\)"):
        load_log(path, CampaignConfig())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"customer_id,period\n", "required column is missing"),
        (b"\xff\xfe\x00garbage\x00", "binary content in a CSV file"),
        (
            canonical_frame().write_csv().encode() + b"c9,1,0.0,none,,0.5,0,0,0.0,1.0,a,extra\n",
            "row 7: 12 fields",
        ),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_log(path, CampaignConfig())


def test_bad_paths(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_log(tmp_path / "none.csv", CampaignConfig())
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DataError, match="unsupported file type '.json'"):
        load_log(tmp_path / "x.json", CampaignConfig())
    with pytest.raises(DataError, match="not a file"):
        load_log(tmp_path, CampaignConfig())
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(DataError, match=r"broken.parquet: cannot read"):
        load_log(tmp_path / "broken.parquet", CampaignConfig())


@pytest.mark.parametrize("sort", [True, False])
def test_duplicates_found_sorted_or_not(tmp_path, sort):
    """Sorted logs take the neighbour-comparison path, unsorted ones the hashing path."""
    frame = pl.DataFrame({"customer_id": [1, 1, 2, 2, 2, 3], "period": [0, 1, 0, 1, 1, 0]})
    if not sort:
        frame = frame.reverse()
    frame = frame.with_columns(
        discount=pl.lit(0.0),
        channel=pl.lit("none"),
        copy_id=pl.lit(None, pl.String),
        visit=pl.lit(0),
        conversion=pl.lit(0),
        revenue=pl.lit(0.0),
    )
    with pytest.raises(DataError) as info:
        load_log(_write(tmp_path, frame, ".parquet"), CampaignConfig())
    row = 5 if sort else 3  # the first row that repeats an earlier one
    assert f"column 'customer_id', row {row}: duplicate (customer_id, period) row" in str(info.value)
