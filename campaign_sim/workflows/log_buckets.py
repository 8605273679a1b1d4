"""Logs longer than ``world.max_rows``, read one bucket of customers at a time
(``data/buckets.py``): ``fit`` fits on bucket 0 and counts every other bucket into the support;
``evaluate --policy`` estimates on a bucket the world was not fitted on (``data validate``
checks them all: ``data.log.validate_log``). Every row is validated and memory holds one
bucket, whatever the log's length.
"""

from __future__ import annotations

from pathlib import Path

from campaign_sim.core.config import CampaignConfig
from campaign_sim.data.buckets import Bucket, CustomerBuckets, add_digests, buckets_of, log_digest
from campaign_sim.data.log import CampaignLog, load_log
from campaign_sim.simulators.fitted.fit import with_more_support
from campaign_sim.simulators.fitted.world import FittedWorld


def count_other_buckets(
    world: FittedWorld, logs: str | Path, config: CampaignConfig, buckets: CustomerBuckets
) -> FittedWorld:
    """Validate the customers the world was not fitted on (buckets 1..), one bucket at a time,
    and count their rows into its support."""
    sample, digest = int(world.metadata["rows"]), int(world.metadata["log_digest"])
    for index in range(1, buckets.count):
        more = load_log(logs, config, bucket=Bucket(buckets, index))
        if more.frame.height:
            world = with_more_support(world, more)
            digest = add_digests(digest, log_digest(more.frame))
        del more
    total = int(world.support.sum())
    world.metadata.update(rows=total, fitted_rows=sample, customer_buckets=buckets.count)
    world.metadata["log_digest"] = str(digest)
    world.metadata["assumptions"].append(
        f"fitted on a sample of the log's customers: {sample:,} of its {total:,} rows (1 of "
        f"{buckets.count} buckets by a hash of customer_id; world.max_rows = {config.world.max_rows:,}); "
        "every row was validated and counts in the support table"
    )
    return world


def estimation_sample(logs: str | Path, world: FittedWorld) -> tuple[CampaignLog, dict | None]:
    """The log to estimate on: whole when it is short, else the last bucket of its customers,
    split as the world's fit split its source (same seed), so never the customers the world was
    fitted on. Every other bucket is validated on the way. Returns the log and what the sample
    is (None when whole)."""
    config = world.config
    buckets = buckets_of(logs, config, seed=int(world.metadata.get("seed", config.seed)))
    if buckets is None:
        return load_log(logs, config), None
    chosen = buckets.count - 1
    for index in range(buckets.count - 1):
        load_log(logs, config, bucket=Bucket(buckets, index))  # validates; nothing kept
    log = load_log(logs, config, bucket=Bucket(buckets, chosen))
    sample = {"rows": log.frame.height, "bucket": chosen, "buckets": buckets.count}
    return log, sample


def sample_note(sample: dict) -> str:
    """What an estimate on ``estimation_sample``'s sample rests on, in one line."""
    return (
        f"estimated on a sample of the log's customers: {sample['rows']:,} rows (bucket "
        f"{sample['bucket'] + 1} of {sample['buckets']} by a hash of customer_id, none of them "
        "customers the world was fitted on); the interval is that of the sample"
    )
