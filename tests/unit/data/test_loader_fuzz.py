"""Fuzz the loader with malformed files: the only exception that may escape is DataError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import DataError
from campaign_sim.data.bandit import bandit_log
from campaign_sim.data.describe import describe_log
from campaign_sim.data.log import load_log
from tests.conftest import canonical_frame

COLUMNS = list(canonical_frame().columns)
CELL_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["none", "email", "fax", "", "NaN", "1e400", "0.1", ","]),
)


@st.composite
def mutation(draw):
    kind = draw(
        st.sampled_from(
            [
                "cell",
                "cell",
                "cell",
                "drop",
                "rename",
                "dup_row",
                "truncate",
                "garbage",
                "empty_rows",
                "shuffle_header",
            ]
        )
    )
    return kind, draw(st.integers(0, 10**6)), draw(CELL_VALUES), draw(st.binary(max_size=64))


def _apply(frame: pl.DataFrame, muts, suffix: str) -> bytes | pl.DataFrame:
    rows = frame.to_dicts()
    columns = list(frame.columns)
    raw_tail: list[tuple[str, int, bytes]] = []
    for kind, number, value, blob in muts:
        if kind == "cell" and rows:
            rows[number % len(rows)][columns[number % len(columns)]] = value
        elif kind == "drop" and len(columns) > 1:
            dropped = columns.pop(number % len(columns))
            for row in rows:
                row.pop(dropped, None)
        elif kind == "rename":
            old = columns[number % len(columns)]
            new = f"{old}_x"
            columns[columns.index(old)] = new
            for row in rows:
                row[new] = row.pop(old, None)
        elif kind == "dup_row" and rows:
            rows.append(dict(rows[number % len(rows)]))
        elif kind == "empty_rows":
            rows = []
        elif kind == "shuffle_header":
            columns = columns[number % len(columns) :] + columns[: number % len(columns)]
        else:
            raw_tail.append((kind, number, blob))
    text_rows = [{c: (None if r.get(c) is None else str(r.get(c))) for c in columns} for r in rows]
    table = (
        pl.DataFrame(text_rows, schema=dict.fromkeys(columns, pl.String))
        if text_rows
        else pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    )
    if suffix == ".parquet" and not raw_tail:
        return _maybe_numeric(table)
    data = table.write_csv().encode() if suffix == ".csv" else _parquet_bytes(_maybe_numeric(table))
    for kind, number, blob in raw_tail:
        data = data[: number % (len(data) + 1)] if kind == "truncate" else data + blob
    return data


def _maybe_numeric(table: pl.DataFrame) -> pl.DataFrame:
    """Parquet keeps types: cast what casts cleanly so most files are typed like real ones."""
    casts = []
    for name in table.columns:
        as_float = table.get_column(name).cast(pl.Float64, strict=False)
        if as_float.null_count() == table.get_column(name).null_count():
            casts.append(as_float)
    return table.with_columns(casts) if casts else table


def _parquet_bytes(table: pl.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    table.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.slow
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(muts=st.lists(mutation(), min_size=1, max_size=4), suffix=st.sampled_from([".csv", ".parquet"]))
def test_only_data_error_escapes(muts, suffix):
    content = _apply(canonical_frame(), muts, suffix)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"log{suffix}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content.write_parquet(path)
        try:
            log = load_log(path, CampaignConfig())
        except DataError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message
            return
        # Whatever loads must be usable downstream without surprises.
        describe_log(log)
        bandit_log(log)
