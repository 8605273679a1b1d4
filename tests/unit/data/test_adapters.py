"""Adapters on the real shared files, and a config-only adapter for a new RCT log."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from campaign_sim.core.config import config_from_text
from campaign_sim.core.errors import DataError
from campaign_sim.data.bandit import bandit_log, flat_action_labels
from campaign_sim.data.datasets import resolve_config
from campaign_sim.data.describe import describe_log
from campaign_sim.data.log import load_log


@pytest.fixture(scope="module")
def hillstrom(hillstrom_path):
    return load_log(hillstrom_path, resolve_config(dataset="hillstrom"))


def test_hillstrom_rows_and_arms(hillstrom):
    frame = hillstrom.frame
    assert frame.height == 64_000
    arms = frame.group_by("copy_id").agg(pl.len(), pl.col("visit").mean()).sort("copy_id", nulls_last=True)
    assert arms.get_column("copy_id").to_list() == ["mens", "womens", None]
    assert arms.get_column("len").to_list() == [21_307, 21_387, 21_306]
    np.testing.assert_allclose(arms.get_column("visit").to_numpy(), [0.183, 0.151, 0.106], atol=5e-4)
    assert set(frame.get_column("channel").unique()) == {"none", "email"}
    assert frame.get_column("propensity").unique().to_list() == [pytest.approx(1 / 3)]


def test_hillstrom_features_typed(hillstrom):
    schema = hillstrom.frame.schema
    assert schema["recency"] == pl.Float64 and schema["history"] == pl.Float64
    assert schema["zip_code"] == pl.String and schema["purchase_channel"] == pl.String
    assert hillstrom.categorical == ("history_segment", "zip_code", "purchase_channel")
    assert hillstrom.frame.get_column("revenue").sum() == pytest.approx(64_000 * 1.05091, rel=1e-4)


def test_hillstrom_bandit_view(hillstrom):
    bandit = bandit_log(hillstrom, reward="visit")
    assert bandit.n == 64_000 and bandit.n_actions == 4  # 1 discount x 2 channels x 2 copies
    # no-contact rows take copy index 0; e-mail rows 2 (mens) and 3 (womens)
    assert np.bincount(bandit.action, minlength=4).tolist() == [21_306, 0, 21_307, 21_387]
    assert flat_action_labels(hillstrom.config)[2] == "email|0%|mens"
    assert bandit.reward.mean() == pytest.approx(0.14678, abs=1e-5)
    assert bandit.context.shape[1] == 5 + 7 + 3 + 3  # numeric + one-hot categoricals
    profit = bandit_log(hillstrom, reward="profit")
    expected = 0.4 * 1.05091 - 0.01 * (21_307 + 21_387) / 64_000
    assert profit.reward.mean() == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("policy", "campaign", "clicks", "items"),
    [
        ("random", "all", 38, 80),
        ("bts", "all", 42, 80),
        ("random", "men", 46, 34),
        ("bts", "men", 69, 34),
    ],
)
def test_obd_logs(obd_dir, policy, campaign, clicks, items):
    log = load_log(obd_dir / policy / campaign / f"{campaign}.csv", resolve_config(dataset="obd"))
    assert log.frame.height == 10_000
    assert int(log.frame.get_column("click").sum()) == clicks
    assert log.item_context.height == items
    bandit = bandit_log(log)
    assert bandit.n_actions == items and bandit.action.max() < items
    assert set(np.unique(bandit.position)) == {0, 1, 2}
    assert bandit.action_context.shape[0] == items
    if policy == "random":
        np.testing.assert_allclose(bandit.propensity, 1 / items)
    summary = describe_log(log)
    assert summary["items"] <= items and summary["positions"] == [1, 2, 3]


NEW_RCT = """
[actions]
discounts = [0.0, 0.15]
channels = ["none", "sms"]
copies = ["promo"]
[data]
customer_id = "user"
period = ""
propensity = 0.5
[data.columns]
visit = "opened_site"
conversion = "bought"
revenue = "basket"
[data.treatment]
column = "group"
no_contact = "holdout"
[data.treatment.arms.treated]
channel = "sms"
discount = 0.15
copy = "promo"
"""


def test_new_rct_needs_only_config(tmp_path):
    path = tmp_path / "rct.csv"
    pl.DataFrame(
        {
            "user": [1, 2, 3, 4],
            "group": ["holdout", "treated", "treated", "holdout"],
            "opened_site": [0, 1, 1, 0],
            "bought": [0, 1, 0, 0],
            "basket": [0.0, 50.0, 0.0, 0.0],
            "age": [30, 40, 50, 60],
        }
    ).write_csv(path)
    log = load_log(path, config_from_text(NEW_RCT, source="rct.toml"))
    frame = log.frame
    assert frame.get_column("discount").to_list() == [0.0, 0.15, 0.15, 0.0]
    assert frame.get_column("channel").to_list() == ["none", "sms", "sms", "none"]
    assert log.features == ("age",)
    pl.DataFrame(
        {
            "user": [1, 2],
            "group": ["holdout", "control2"],
            "opened_site": [0, 1],
            "bought": [0, 0],
            "basket": [0.0, 0.0],
        }
    ).write_csv(path)
    with pytest.raises(
        DataError,
        match=r"column 'group', row 2: unknown treatment value "
        r"\(got 'control2'\); expected one of \['holdout', 'treated'\]",
    ):
        load_log(path, config_from_text(NEW_RCT, source="rct.toml"))


def test_feature_name_collision_is_explained(tmp_path, hillstrom_path):
    config = resolve_config(dataset="hillstrom", overrides=["data.rename={}"])
    with pytest.raises(DataError, match=r"feature 'channel' collides with a canonical column"):
        load_log(hillstrom_path, config)
