"""A config written back as TOML: what a run directory saves and `config_from_text` reads again."""

from __future__ import annotations

from typing import Any

import tomli_w

from campaign_sim.core.config import CampaignConfig


def config_to_dict(config: CampaignConfig) -> dict[str, Any]:
    """The TOML document of ``config`` (``None`` values are omitted, as TOML has no null)."""
    data = config.data
    data_doc: dict[str, Any] = {
        "kind": data.kind,
        "features": list(data.features),
        "categorical": list(data.categorical),
        "rename": dict(data.rename),
        "columns": dict(data.columns),
        "outcome_values": dict(data.outcome_values),
    }
    for key in ("customer_id", "period", "propensity"):  # "" = the log has no such column
        data_doc[key] = "" if getattr(data, key) is None else getattr(data, key)
    if data.treatment is not None:
        arms = {
            value: _drop_none(
                {
                    "channel": arm.channel,
                    "discount": arm.discount,
                    "copy": arm.copy,
                    "propensity": arm.propensity,
                }
            )
            for value, arm in data.treatment.arms.items()
        }
        data_doc["treatment"] = _drop_none(
            {
                "column": data.treatment.column,
                "no_contact": data.treatment.no_contact,
                "no_contact_propensity": data.treatment.no_contact_propensity,
                "arms": arms,
            }
        )
    if data.recommendation is not None:
        rec = data.recommendation
        data_doc["recommendation"] = _drop_none(
            {
                "item": rec.item,
                "position": rec.position,
                "reward": rec.reward,
                "item_context": rec.item_context,
            }
        )
    actions = config.actions
    return {
        "campaign": {"name": config.name, "seed": config.seed},
        "actions": _drop_none(
            {
                "discounts": list(actions.discounts),
                "channels": list(actions.channels),
                "copies": list(actions.copies),
                "copy_library": actions.copy_library,
                "copy_cells": {
                    cells.copy: {
                        "channels": list(cells.channels),
                        "discounts": list(cells.discounts),
                        **({"profiles": list(cells.profiles)} if cells.profiles else {}),
                    }
                    for cells in actions.copy_cells
                }
                or None,
                "copy_profiles_by": actions.copy_profiles_by,
            }
        ),
        "economics": _drop_none(
            {
                "margin": config.economics.margin,
                "contact_cost": dict(config.economics.contact_cost),
                "value_per_conversion": config.economics.value_per_conversion,
            }
        ),
        "constraints": _drop_none(vars(config.constraints).copy()),
        "data": data_doc,
        "world": {**vars(config.world), "hidden": list(config.world.hidden)},
        "rules": {rule.name: rule.to_dict() for rule in config.rules},
    }


def config_to_toml(config: CampaignConfig) -> str:
    """Serialise ``config`` to TOML text that ``load_config`` reads back to an equal config."""
    return tomli_w.dumps(config_to_dict(config))


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}
