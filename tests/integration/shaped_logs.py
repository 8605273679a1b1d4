"""Logs shaped like the public ones a new user brings (issue 23), generated inside the tests,
with the config that reads each one: nothing but config adapts the product to them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

MAILING_ARMS = ("control", " a", " b", " c", " d")  # values with a leading space, as in the file
MAILING_SHARES = (0.556, 0.111, 0.111, 0.111, 0.111)
MAILING_LIFT = {"control": 0.0, " a": 0.06, " b": 0.02, " c": 0.01, " d": 0.0}  # P(Yes) per arm

MAILING_TOML = """
[campaign]
name = "get-out-the-vote mailing"

[actions]
discounts = [0.0]
channels = ["none", "email"]
copies = ["a", "b", "c", "d"]

[economics]
margin = 1.0
value_per_conversion = 10.0
[economics.contact_cost]
email = 0.5

[data]
customer_id = "id"
period = ""
propensity = "arm_shares"
features = ["V*", "region"]
categorical = ["region"]
[data.columns]
visit = "voted"
conversion = "voted"

[data.treatment]
column = "arm"
no_contact = "control"
""" + "".join(f'[data.treatment.arms.{k}]\nchannel = "email"\ncopy = "{k}"\n' for k in "abcd")

PROMOTION_TOML = """
[campaign]
name = "promotion test"

[actions]
discounts = [0.0]
channels = ["none", "email"]
copies = ["promo"]

[economics]
margin = 1.0
value_per_conversion = 10.0
[economics.contact_cost]
email = 0.15

[data]
customer_id = "ID"
period = ""
propensity = 0.5
features = ["V*"]
categorical = ["V1"]
[data.columns]
visit = "purchase"
conversion = "purchase"

[data.treatment]
column = "Promotion"
no_contact = "No"
[data.treatment.arms.Yes]
channel = "email"
copy = "promo"
"""


def mailing_log(path: Path, *, people: int, seed: int) -> Path:
    """A 5-arm mailing RCT: Yes/No outcome, arm values with a leading space, unequal shares."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(np.array(MAILING_ARMS), size=people, p=MAILING_SHARES)
    v1, region = rng.normal(size=people), rng.choice(["north", "south", "east", "west"], size=people)
    p = 0.28 + 0.05 * np.tanh(v1) + np.vectorize(MAILING_LIFT.get)(arm) + 0.03 * (region == "south")
    voted = np.where(rng.random(people) < p, "Yes", "No")
    frame = {"id": np.arange(people), "arm": arm, "V1": v1, "V2": rng.integers(18, 90, size=people)}
    pl.DataFrame({**frame, "region": region, "voted": voted}).write_csv(path)
    return path


def promotion_log(path: Path, *, people: int, seed: int) -> Path:
    """A 2-arm promotion RCT (50/50): one binary purchase outcome, features V1..V7 (V1 coded 1-3)."""
    rng = np.random.default_rng(seed)
    promoted = rng.random(people) < 0.5
    features = {
        "V1": rng.integers(1, 4, size=people),
        **{f"V{j}": rng.normal(size=people) for j in range(2, 8)},
    }
    # the promotion works for V1 = 3 only: a targeted policy can beat both blanket arms
    p = 0.01 + 0.004 * (features["V2"] > 0) + promoted * np.where(features["V1"] == 3, 0.03, 0.0)
    purchase = (rng.random(people) < p).astype(np.int64)
    frame = {"ID": np.arange(people), "Promotion": np.where(promoted, "Yes", "No"), **features}
    pl.DataFrame({**frame, "purchase": purchase}).write_csv(path)
    return path
