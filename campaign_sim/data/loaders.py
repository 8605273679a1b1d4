"""Read Parquet / CSV logs with polars; every failure becomes a one-line ``DataError``."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import polars as pl

from campaign_sim.core.errors import DataError
from campaign_sim.data.schema import ROW_NUMBER

SUFFIXES = (".parquet", ".csv")
_CSV_INFER_ROWS = 10_000
_SNIFF_BYTES = 4096


def check_readable(path: str | Path) -> Path:
    """The path as a ``Path`` if it is an existing file with a supported suffix."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", file=str(path))
    if not path.is_file():
        raise DataError("not a file", file=str(path), expected="a .parquet or .csv file")
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(
            f"unsupported file type '{path.suffix}'", file=str(path), expected="a .parquet or .csv file"
        )
    if path.stat().st_size == 0:
        raise DataError("empty file", file=str(path), expected="a header and data rows")
    if path.suffix.lower() == ".csv":
        with open(path, "rb") as handle:
            if b"\x00" in handle.read(_SNIFF_BYTES):
                raise DataError(
                    "binary content in a CSV file", file=str(path), expected="comma-separated UTF-8 text"
                )
    return path


def scan(path: Path, *, all_text: bool = False, floats: Collection[str] = ()) -> pl.LazyFrame:
    """A lazy scan. CSV types are inferred from the first rows, except ``floats`` (read as
    Float64 so an integer-looking head does not fail on a later ``195.83``); ``all_text``
    reads every CSV column as text."""
    if path.suffix.lower() == ".parquet":
        return pl.scan_parquet(path)
    if all_text:
        return pl.scan_csv(path, infer_schema=False)
    return pl.scan_csv(
        path, infer_schema_length=_CSV_INFER_ROWS, schema_overrides=dict.fromkeys(floats, pl.Float64)
    )


def source_schema(path: Path) -> pl.Schema:
    """The file's columns and (inferred) types, read without loading its rows."""
    for all_text in (False, True):
        try:
            return scan(path, all_text=all_text).collect_schema()
        except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
            error = exc
    raise DataError(f"cannot read ({first_line(error)})", file=str(path))


def collect(
    path: Path, build: Callable[[pl.LazyFrame], pl.LazyFrame], *, floats: Collection[str] = ()
) -> pl.DataFrame:
    """Collect ``build(scan(path))``; a CSV that fails to parse is re-read as text.

    Reading as text lets validation name the exact row whose value could not be parsed,
    where polars' inferred schema would only say that some row failed.
    """
    csv = path.suffix.lower() == ".csv"
    try:
        frame = build(scan(path, floats=floats)).collect()
        return _without_trailing_blank_lines(frame) if csv else frame
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        if not csv:
            raise DataError(f"cannot read ({first_line(exc)})", file=str(path)) from None
    try:
        return _without_trailing_blank_lines(build(scan(path, all_text=True)).collect())
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        ragged = _ragged_row(path)
        if ragged is not None:
            row, fields, header = ragged
            raise DataError(
                f"{fields} fields", file=str(path), row=row, expected=f"{header} fields, as the header has"
            ) from None
        raise DataError(f"cannot read ({first_line(exc)})", file=str(path)) from None


def _without_trailing_blank_lines(frame: pl.DataFrame) -> pl.DataFrame:
    """A CSV's blank lines at the end (editors add them) are not rows; one inside stays a row,
    so every row number still points at the file's data row."""
    columns = pl.exclude(ROW_NUMBER)  # a bucket's row numbers are never blank
    filled = frame.select(pl.any_horizontal(columns.is_not_null()).alias("filled")).get_column("filled")
    last = filled.arg_true()
    return frame.head(int(last[-1]) + 1 if last.len() else 0)


def _ragged_row(path: Path) -> tuple[int, int, int] | None:
    """(data row, its field count, the header's) of the first row with a different count."""
    import csv

    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        header = len(next(reader, []))
        for row, fields in enumerate(reader, start=1):
            if fields and len(fields) != header:
                return row, len(fields), header
    return None


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception message (polars' messages run long)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()[:200]
    return type(exc).__name__


def write_table(frame: pl.DataFrame, target: Path) -> None:
    """Write ``frame`` to ``target`` (format by suffix); caller makes it atomic."""
    if target.suffix.lower() == ".parquet":
        frame.write_parquet(target, statistics=True)
    elif target.suffix.lower() == ".csv":
        frame.write_csv(target)
    else:
        raise DataError(
            f"unsupported output type '{target.suffix}'", file=str(target), expected="a .parquet or .csv file"
        )
