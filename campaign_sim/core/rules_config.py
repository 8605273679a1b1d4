"""Rule baselines written in the campaign config: ``[rules.NAME]`` tables.

    [rules.email_10pct_fortnightly]      # "10% e-mail to everyone every other period"
    channel = "email"                    # or "none": a "contact nobody" rule
    discount = 0.1
    copy = "standard"                    # default: the first copy
    every = 2                            # contact every 2nd period (period 0, 2, 4, ...)
    bought_within = 6                    # optional: only shoppers who bought in the last 6 periods

A rule never breaks consent, unsubscribes, the contact cap or the budget: where its contact is
not allowed it does not contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from campaign_sim.core.toml_reader import TomlTable


@dataclass(frozen=True)
class RuleSpec:
    name: str
    channel: str
    discount: float = 0.0
    copy: str | None = None
    every: int = 1
    bought_within: int | None = None

    def to_dict(self) -> dict[str, Any]:
        values = {"channel": self.channel, "discount": self.discount, "copy": self.copy, "every": self.every}
        if self.bought_within is not None:
            values["bought_within"] = self.bought_within
        return {k: v for k, v in values.items() if v is not None}


def parse_rules(
    table: TomlTable, *, channels: tuple[str, ...], discounts: tuple[float, ...], copies: tuple[str, ...]
) -> tuple[RuleSpec, ...]:
    rules = []
    for name in list(table.data):
        rule = table.table(name)
        channel = rule.value(
            "channel",
            str,
            check=lambda c: c in channels,
            expected=f"a channel, one of {list(channels)} ({channels[0]!r}: contact nobody)",
        )
        discount = rule.value(
            "discount",
            float,
            default=0.0,
            check=lambda d: d in discounts,
            expected=f"one of {list(discounts)}",
        )
        copy = rule.value(
            "copy", str, default=None, check=lambda c: c in copies, expected=f"one of {list(copies)}"
        )
        every = rule.value(
            "every", int, default=1, check=lambda v: v >= 1, expected="an integer >= 1 (periods)"
        )
        within = rule.value(
            "bought_within", int, default=None, check=lambda v: v >= 0, expected="an integer >= 0 (periods)"
        )
        rule.finish()
        rules.append(RuleSpec(name, channel, float(discount), copy, every, within))
    table.finish()
    return tuple(rules)
