"""A log larger than memory, read one bucket of customers at a time.

Customers are split into ``count`` buckets by a seeded hash of their id (a log without one
numbers its rows as customers), so every row of a customer falls in the same bucket: per-customer
checks (one row per customer and period) and customer-level splits stay whole inside a bucket.
Bucket 0 is the customer sample a world is fitted on; reading every bucket in turn validates the
whole log and counts its support with memory bounded by one bucket, not by the log.

Polars documents its hash as stable for one version, not across versions: the same install and
seed give the same buckets (the package pins polars' major version).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from campaign_sim.core.config import CampaignConfig
from campaign_sim.data import schema as S
from campaign_sim.data.loaders import check_readable, scan


@dataclass(frozen=True)
class CustomerBuckets:
    count: int
    seed: int

    def keep(self, bucket: int) -> pl.Expr:
        """True for the rows of ``bucket`` (in a mapped frame)."""
        return (pl.col(S.CUSTOMER_ID).hash(seed=self.seed) % self.count) == bucket


@dataclass(frozen=True)
class Bucket:
    """One bucket of a split log: what ``load_log`` reads when given one."""

    buckets: CustomerBuckets
    index: int


# the columns that say which log it is: a world remembers its log's digest of them
DIGEST_COLUMNS = {
    S.CUSTOMER_ID: pl.String,
    S.PERIOD: pl.Int64,
    S.CHANNEL: pl.String,
    S.DISCOUNT: pl.Float64,
    S.VISIT: pl.Int64,
    S.CONVERSION: pl.Int64,
    S.REVENUE: pl.Float64,
}


def log_digest(frame: pl.DataFrame) -> int:
    """A digest of the rows of a campaign log (in any row order, read raw or through its config):
    the wrapping sum of row hashes, so the digests of a log's buckets add up to the log's."""
    columns = [pl.col(c).cast(t) for c, t in DIGEST_COLUMNS.items() if c in frame.columns]
    hashes = frame.select(columns).hash_rows(seed=0).to_numpy()
    return int(np.add.reduce(hashes, dtype=np.uint64)) if hashes.size else 0


def add_digests(a: int, b: int) -> int:
    return (a + b) % 2**64


def count_rows(path: str | Path) -> int:
    """The file's data rows, counted by a lazy scan (nothing held but the count)."""
    return int(scan(Path(path)).select(pl.len()).collect().item())


def buckets_for(rows: int, *, max_rows: int, seed: int) -> CustomerBuckets | None:
    """Enough buckets that one holds about ``max_rows`` rows; None when the log fits in one."""
    return None if rows <= max_rows else CustomerBuckets(math.ceil(rows / max_rows), seed)


def buckets_of(logs: str | Path, config: CampaignConfig, *, seed: int) -> CustomerBuckets | None:
    """Customer buckets for a log longer than ``world.max_rows`` (None: read it whole)."""
    try:
        rows = count_rows(check_readable(logs))
    except (pl.exceptions.PolarsError, OSError):
        return None  # reading it whole says what is wrong with it
    return buckets_for(rows, max_rows=config.world.max_rows, seed=seed)
