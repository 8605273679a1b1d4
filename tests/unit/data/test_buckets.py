"""A log read one bucket of customers at a time (data/buckets.py): the buckets partition its
rows customer by customer, and a bad row is named by its place in the file."""

from __future__ import annotations

import polars as pl
import pytest

from campaign_sim.core.config import CampaignConfig, config_from_text
from campaign_sim.core.errors import DataError
from campaign_sim.data.buckets import Bucket, CustomerBuckets, buckets_for, count_rows
from campaign_sim.data.log import load_log, validate_log
from tests.conftest import canonical_frame


def _log(tmp_path, frame: pl.DataFrame, suffix: str):
    path = tmp_path / f"log{suffix}"
    frame.write_csv(path) if suffix == ".csv" else frame.write_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_buckets_partition_the_log_customer_by_customer(tmp_path, suffix):
    frame = canonical_frame(600).with_columns(customer_id=pl.format("c{}", pl.int_range(pl.len()) // 3))
    path = _log(tmp_path, frame, suffix)
    buckets = buckets_for(count_rows(path), max_rows=150, seed=7)
    assert buckets == CustomerBuckets(4, 7)
    parts = [load_log(path, CampaignConfig(), bucket=Bucket(buckets, b)).frame for b in range(4)]
    assert sum(p.height for p in parts) == 600 and all(p.height for p in parts)
    owners = [set(p.get_column("customer_id")) for p in parts]
    assert sum(len(o) for o in owners) == len(set().union(*owners)) == 200  # no customer in two
    whole = load_log(path, CampaignConfig()).frame
    assert pl.concat(parts).sort("customer_id", "period").equals(whole.sort("customer_id", "period"))
    assert buckets_for(600, max_rows=600, seed=7) is None


def test_a_bad_row_is_named_by_its_place_in_the_file_whichever_bucket_holds_it(tmp_path):
    frame = canonical_frame(60).with_columns(
        visit=pl.when(pl.int_range(pl.len()) == 41).then(7).otherwise(pl.col("visit"))
    )
    path = _log(tmp_path, frame, ".csv")
    with pytest.raises(DataError) as whole:
        load_log(path, CampaignConfig())
    buckets = CustomerBuckets(5, 0)
    errors = []
    for b in range(5):
        try:
            load_log(path, CampaignConfig(), bucket=Bucket(buckets, b))
        except DataError as error:
            errors.append(str(error))
    assert errors == [str(whole.value)] and "row 42" in errors[0]


def test_validate_reads_a_long_log_bucket_by_bucket_and_counts_every_row(tmp_path):
    path = _log(tmp_path, canonical_frame(600), ".parquet")
    short = validate_log(path, CampaignConfig())
    config = config_from_text("[world]\nmax_rows = 100\n", source="test")
    long = validate_log(path, config)
    assert (short.buckets, long.buckets) == (1, 6)
    assert short.rows == long.rows == 600 and short.columns == long.columns
