"""Odd but real-world log files (issue 27, section 9): each is read or refused in one line that
names the file, column and row, exit 2."""

from __future__ import annotations

import polars as pl
import pytest

from tests.conftest import canonical_frame
from tests.integration.cli_runs import invoke

FEATURES = ("--set", 'data.features=["recency", "segment"]', "--set", 'data.categorical=["segment"]')


def _validate(path):
    return invoke("data", "validate", path, *FEATURES)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "segment",
            pl.concat_list(pl.col("recency"), pl.col("recency")),
            "column 'segment': holds List(Float64)",
        ),
        ("recency", pl.struct(pl.col("recency")), "column 'recency': holds Struct"),
        (
            "customer_id",
            pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("")).otherwise(pl.col("customer_id")),
            "column 'customer_id', row 3: missing value (got '')",
        ),
        (
            "segment",
            pl.when(pl.int_range(pl.len()) == 4).then(pl.lit("  ")).otherwise(pl.col("segment")),
            "column 'segment', row 5: missing feature value",
        ),
    ],
)
def test_parquet_columns_that_hold_no_single_value_are_refused(tmp_path, column, value, message):
    path = tmp_path / "log.parquet"
    canonical_frame(12).with_columns(value.alias(column)).write_parquet(path)
    result = _validate(path)
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("dtype", [pl.Categorical, pl.Enum(["a", "b"])])
def test_categorical_and_enum_columns_read_as_text(tmp_path, dtype):
    path = tmp_path / "log.parquet"
    canonical_frame(12).with_columns(pl.col("segment").cast(dtype)).write_parquet(path)
    result = _validate(path)
    assert result.exit_code == 0, result.output


def test_a_csv_with_trailing_blank_lines_is_read_and_a_ragged_row_is_named(tmp_path):
    path = tmp_path / "log.csv"
    canonical_frame(12).write_csv(path)
    text = path.read_text()
    path.write_text(text + "\n\n")
    assert _validate(path).exit_code == 0
    lines = text.splitlines()
    lines[4] += ",surplus"  # data row 4 has one field too many
    path.write_text("\n".join(lines) + "\n")
    result = _validate(path)
    assert (
        result.exit_code == 2 and "row 4: 12 fields; expected 11 fields, as the header has" in result.output
    )
    lines = text.splitlines()
    lines.insert(3, "")  # a blank line inside the data stays a row: it is named, not skipped
    path.write_text("\n".join(lines) + "\n")
    result = _validate(path)
    assert result.exit_code == 2 and "row 3" in result.output, result.output
