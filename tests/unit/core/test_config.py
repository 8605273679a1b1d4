"""Campaign config: defaults, round trip, overrides, and one test per bad key."""

from __future__ import annotations

import pytest

from campaign_sim.core.config import (
    CampaignConfig,
    config_from_dict,
    config_from_text,
    load_config,
)
from campaign_sim.core.config_writer import config_to_toml
from campaign_sim.core.errors import ConfigError
from campaign_sim.data.datasets import PRESETS, preset_text


def test_defaults_are_valid():
    config = config_from_dict({})
    assert config == CampaignConfig()
    assert config.actions.shape == (3, 4, 1)
    assert config.actions.n_actions == 12
    assert config.economics.contact_cost["none"] == 0.0


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_and_round_trip(name):
    config = config_from_text(preset_text(name), source=name)
    assert config_from_text(config_to_toml(config), source="again") == config


def test_hillstrom_preset_maps_arms():
    config = config_from_text(preset_text("hillstrom"), source="h")
    treatment = config.data.treatment
    assert treatment.column == "segment" and treatment.no_contact == "No E-Mail"
    assert treatment.arms["Mens E-Mail"].copy == "mens"
    assert config.data.customer_id is None and config.data.propensity == pytest.approx(1 / 3)


def test_overrides_win_over_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[economics]\nmargin = 0.3\n")
    config = load_config(path, overrides=["economics.margin=0.5", "campaign.name=spring"])
    assert config.economics.margin == 0.5 and config.name == "spring"


BAD_CASES = [
    ({"economics": {"margin": 1.5}}, "economics.margin: expected a gross margin in (0, 1], got 1.5"),
    ({"economics": {"margin": "high"}}, "economics.margin: expected a gross margin in (0, 1], got 'high'"),
    (
        {"actions": {"discounts": [0.1, 0.2]}},
        "actions.discounts: expected 0.0 (no discount) as the first level",
    ),
    (
        {"actions": {"discounts": [0.0, 1.2]}},
        "actions.discounts: expected a non-empty list of numbers in [0, 1)",
    ),
    (
        {"actions": {"discounts": [0.0, 0.2, 0.1]}},
        "actions.discounts: expected distinct levels in increasing order",
    ),
    (
        {"actions": {"channels": ["email", "none"]}},
        "actions.channels: expected 'none' (no contact) as the first",
    ),
    ({"actions": {"channels": ["none", "email", "email"]}}, "actions.channels: expected distinct values"),
    ({"actions": {"discount": [0.0]}}, "actions.discount: unknown key (did you mean 'discounts'?)"),
    ({"constraints": {"horizon": 0}}, "constraints.horizon: expected an integer >= 1, got 0"),
    ({"constraints": {"horizon": 2.5}}, "constraints.horizon: expected an integer >= 1, got 2.5"),
    ({"constraints": {"budget": -5}}, "constraints.budget: expected a positive campaign budget"),
    (
        {"economics": {"contact_cost": {"email": -1}}},
        "economics.contact_cost.email: expected a cost per contact >= 0",
    ),
    (
        {"economics": {"contact_cost": {"fax": 1.0}}},
        "economics.contact_cost.fax: not a channel of actions.channels",
    ),
    ({"campaign": {"seed": -1}}, "campaign.seed: expected an integer in [0, 4294967295], got -1"),
    ({"campaign": {"seed": True}}, "campaign.seed: expected an integer in [0, 4294967295], got True"),
    ({"data": {"kind": "clicks"}}, "data.kind: expected 'campaign' or 'recommendation', got 'clicks'"),
    ({"data": {"propensity": 1.5}}, "data.propensity: expected a column name"),
    (
        {"data": {"features": ["a"], "categorical": ["b"]}},
        "data.categorical: expected names listed in data.features",
    ),
    (
        {"data": {"features": ["V*"], "categorical": ["W1"]}},
        "data.categorical: expected names listed in data.features, got ['W1']",
    ),
    ({"rules": {"r": {"channel": "fax"}}}, "rules.r.channel: expected a channel, one of"),
    ({"data": {"columns": {"spend": "x"}}}, "data.columns: expected keys among"),
    (
        {"data": {"treatment": {"column": "arm", "no_contact": "ctl", "arms": {"A": {"channel": "fax"}}}}},
        "data.treatment.arms.A.channel: expected one of actions.channels",
    ),
    (
        {
            "data": {
                "treatment": {
                    "column": "arm",
                    "no_contact": "ctl",
                    "arms": {"A": {"channel": "email", "discount": 0.15}},
                }
            }
        },
        "data.treatment.arms.A.discount: expected one of actions.discounts",
    ),
    ({"data": {"treatment": {"column": "arm", "arms": {}}}}, "data.treatment.no_contact: missing"),
    ({"surprise": {}}, "surprise: unknown key"),
]


def test_categorical_names_may_match_a_feature_pattern_and_a_rule_may_contact_nobody():
    config = config_from_dict(
        {"data": {"features": ["V*"], "categorical": ["V1"]}, "rules": {"quiet": {"channel": "none"}}},
        source="c.toml",
    )
    assert list(config.data.categorical) == ["V1"]
    assert config.rules[0].channel == "none"


@pytest.mark.parametrize(("document", "message"), BAD_CASES)
def test_bad_config_names_the_key(document, message):
    with pytest.raises(ConfigError) as info:
        config_from_dict(document, source="c.toml")
    assert str(info.value).startswith("c.toml: ")
    assert message in str(info.value)


def test_bad_toml_and_missing_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[economics\nmargin = 1")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_bad_override_is_named():
    with pytest.raises(ConfigError, match=r"--set 'margin': expected section.key=value"):
        config_from_text("", source="x", overrides=["margin"])
