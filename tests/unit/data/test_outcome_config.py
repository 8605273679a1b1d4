"""Config-only logs: text outcomes, no revenue column, categorical patterns (issue 23, part 2)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from campaign_sim.core.config import config_from_text
from campaign_sim.core.config_writer import config_to_toml
from campaign_sim.core.errors import ConfigError, DataError
from campaign_sim.data.log import load_log
from campaign_sim.workflows.fit import distinct_outcomes

MAILING = """
[actions]
discounts = [0.0]
channels = ["none", "email"]
copies = ["a", "b", "c", "d"]

[economics]
margin = 1.0
value_per_conversion = 12.5

[data]
customer_id = "id"
period = ""
propensity = 0.2
features = ["V*", "region"]
categorical = ["V1*", "region"]

[data.columns]
visit = "responded"
conversion = "responded"

[data.treatment]
column = "arm"
no_contact = "control"

[data.treatment.arms.a]
channel = "email"
copy = "a"

[data.treatment.arms.b]
channel = "email"
copy = "b"
"""


def mailing(rows: int = 200, *, answers=("Yes", " No", "yes ", "NO")) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    return pl.DataFrame(
        {
            "id": np.arange(rows),
            "arm": rng.choice(["control", "a", "b"], rows, p=[0.556, 0.222, 0.222]),
            "responded": [answers[i % len(answers)] for i in range(rows)],
            "V1": rng.integers(0, 3, rows),
            "V2": rng.normal(size=rows),
            "region": rng.choice(["n", "s"], rows),
        }
    )


def test_yes_no_outcomes_and_value_per_conversion(tmp_path):
    path = tmp_path / "mailing.csv"
    frame = mailing()
    frame.write_csv(path)
    log = load_log(path, config_from_text(MAILING, source="mailing.toml"))
    expected = frame.get_column("responded").str.strip_chars().str.to_lowercase() == "yes"
    assert log.frame.get_column("visit").to_list() == expected.cast(pl.Int8).to_list()
    np.testing.assert_allclose(log.frame.get_column("revenue").to_numpy(), 12.5 * expected.to_numpy())
    assert log.categorical == ("V1", "region") and set(log.features) == {"V1", "V2", "region"}
    assert not any(c.startswith("__") for c in log.frame.columns)


def test_a_third_outcome_value_names_the_row(tmp_path):
    path = tmp_path / "mailing.csv"
    mailing(answers=("Yes", "No", "No", "maybe")).write_csv(path)
    with pytest.raises(DataError, match=r"column 'responded', row 4: unknown outcome value \(got 'maybe'\)"):
        load_log(path, config_from_text(MAILING, source="mailing.toml"))
    custom = MAILING.replace("[data.columns]", "[data.outcome_values]\nmaybe = 1\n\n[data.columns]")
    log = load_log(path, config_from_text(custom, source="mailing.toml"))
    assert log.frame.get_column("visit").to_list()[:4] == [1, 0, 0, 1]


def test_new_keys_are_checked_and_saved():
    with pytest.raises(ConfigError, match=r"economics.value_per_conversion"):
        config_from_text(MAILING.replace("12.5", "-1"), source="mailing.toml")
    with pytest.raises(ConfigError, match=r"data.outcome_values.maybe"):
        config_from_text(
            MAILING.replace("[data.columns]", "[data.outcome_values]\nmaybe = 2\n\n[data.columns]"),
            source="m.toml",
        )
    config = config_from_text(MAILING, source="mailing.toml")
    again = config_from_text(config_to_toml(config), source="saved.toml")
    assert again.economics.value_per_conversion == 12.5 and again.data.categorical == ("V1*", "region")


def test_no_revenue_and_no_value_is_one_clear_error(tmp_path):
    path = tmp_path / "mailing.csv"
    mailing().write_csv(path)
    text = MAILING.replace("value_per_conversion = 12.5\n", "")
    with pytest.raises(DataError, match=r"column 'revenue'.*economics.value_per_conversion"):
        load_log(path, config_from_text(text, source="mailing.toml"))


def test_propensities_per_arm_from_config_or_from_arm_shares(tmp_path):
    path = tmp_path / "mailing.csv"
    frame = mailing(rows=300).with_columns(pl.col("arm").replace({"a": " a"}))  # a leading space
    frame.write_csv(path)
    stated = MAILING.replace("propensity = 0.2\n", "").replace(
        'no_contact = "control"', 'no_contact = "control"\nno_contact_propensity = 0.556'
    )
    stated = stated.replace('copy = "a"', 'copy = "a"\npropensity = 0.222').replace(
        'copy = "b"', 'copy = "b"\npropensity = 0.222'
    )
    log = load_log(path, config_from_text(stated, source="mailing.toml"))
    arm = frame.get_column("arm").str.strip_chars()
    expected = arm.replace_strict({"control": 0.556, "a": 0.222, "b": 0.222}, return_dtype=pl.Float64)
    np.testing.assert_allclose(log.frame.get_column("propensity").to_numpy(), expected.to_numpy())
    shares = MAILING.replace("propensity = 0.2", 'propensity = "arm_shares"')
    with pytest.warns(UserWarning, match="propensities estimated from the arm shares"):
        log = load_log(path, config_from_text(shares, source="mailing.toml"))
    counts = arm.value_counts()
    share = dict(zip(counts.get_column("arm"), counts.get_column("count") / 300, strict=True))
    np.testing.assert_allclose(log.frame.get_column("propensity").to_numpy(), [share[a] for a in arm])
    with pytest.raises(ConfigError, match=r"data.treatment.no_contact_propensity"):
        config_from_text(stated.replace("no_contact_propensity = 0.556\n", ""), source="mailing.toml")


def test_a_single_outcome_is_counted_once(tmp_path):
    path = tmp_path / "mailing.csv"
    mailing().write_csv(path)
    log = load_log(path, config_from_text(MAILING, source="mailing.toml"))
    assert distinct_outcomes(log.frame) == ["visit"]
    richer = log.frame.with_columns(
        conversion=pl.col("visit") * (pl.col("V2") > 0).cast(pl.Int8),
        revenue=pl.col("visit") * (pl.col("V2") > 0) * (10 + pl.col("V2").abs()),
    )
    assert distinct_outcomes(richer) == ["visit", "conversion", "revenue"]
