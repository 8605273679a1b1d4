"""The action space of a campaign: discount levels, channels and copies, and which copy may go
with which offer, channel and customer profile (``[actions]`` of the config)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from campaign_sim.core.toml_reader import TomlTable

NO_CONTACT = "none"


@dataclass(frozen=True)
class CopyCells:
    """The channels and discount levels one copy may go out with (its guardrails' verdict)."""

    copy: str
    channels: tuple[str, ...]
    discounts: tuple[float, ...]
    profiles: tuple[str, ...] = ()  # values of ``copy_profiles_by`` it is written for; () = anyone


@dataclass(frozen=True)
class ActionSpace:
    """Discount levels (fractions), channels (``none`` first) and copy ids."""

    discounts: tuple[float, ...] = (0.0, 0.1, 0.2)
    channels: tuple[str, ...] = (NO_CONTACT, "email", "sms", "push")
    copies: tuple[str, ...] = ("standard",)
    copy_library: str | None = None
    # copies written for some channels and offers only: (copy, its channels, its discounts); a
    # copy not named here goes with every offer and channel
    copy_cells: tuple[CopyCells, ...] = ()
    copy_profiles_by: str | None = None  # the customer feature copies' ``profiles`` name values of

    @property
    def copy_profiles(self) -> tuple[str, ...]:
        """The profiles some copy is written for, sorted."""
        return tuple(sorted({p for cells in self.copy_cells for p in cells.profiles}))

    def copies_for_profiles(self) -> np.ndarray | None:
        """(profiles + 1, copies) bool: the copies a customer of each of ``copy_profiles`` (last
        row: any other customer) may get; None when every copy may go to anyone."""
        profiles = self.copy_profiles
        if not profiles:
            return None
        out = np.ones((len(profiles) + 1, len(self.copies)), dtype=bool)
        for cells in self.copy_cells:
            if cells.profiles:
                out[:, self.copies.index(cells.copy)] = np.isin((*profiles, None), cells.profiles)
        return out

    @property
    def valid(self) -> np.ndarray:
        """(discounts, channels, copies) bool: the actions a copy may be sent as. No contact is
        valid with any copy (it sends nothing)."""
        out = np.ones(self.shape, dtype=bool)
        for cells in self.copy_cells:
            k = self.copies.index(cells.copy)
            d = np.isin(self.discounts, cells.discounts)
            c = np.isin(self.channels, cells.channels)
            out[:, :, k] = d[:, None] & c[None, :]
        out[:, 0, :] = True
        return out

    @property
    def shape(self) -> tuple[int, int, int]:
        """Sizes of the MultiDiscrete action (discount, channel, copy)."""
        return len(self.discounts), len(self.channels), len(self.copies)

    @property
    def n_actions(self) -> int:
        """Size of the flattened action."""
        d, c, k = self.shape
        return d * c * k

    def unravel(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(discount, channel, copy) indices of flat action indices: the one decoding."""
        return np.unravel_index(np.asarray(flat), self.shape)

    def ravel(self, discount: np.ndarray, channel: np.ndarray, copy: np.ndarray) -> np.ndarray:
        """Flat action indices of (discount, channel, copy) indices."""
        return np.ravel_multi_index((discount, channel, copy), self.shape)


def parse_actions(table: TomlTable) -> ActionSpace:
    """The ``[actions]`` table."""
    default = ActionSpace()
    discounts = table.value(
        "discounts", list, default=list(default.discounts), expected="a list of discount fractions in [0, 1)"
    )
    if not discounts or not all(_is_fraction(d) for d in discounts):
        raise table.fail("discounts", f"expected a non-empty list of numbers in [0, 1), got {discounts!r}")
    discounts = tuple(float(d) for d in discounts)
    if len(set(discounts)) != len(discounts) or list(discounts) != sorted(discounts):
        raise table.fail("discounts", f"expected distinct levels in increasing order, got {list(discounts)}")
    if discounts[0] != 0.0:
        raise table.fail("discounts", f"expected 0.0 (no discount) as the first level, got {list(discounts)}")
    channels = table.str_list("channels", default=list(default.channels))
    if channels[0] != NO_CONTACT:
        raise table.fail(
            "channels", f"expected '{NO_CONTACT}' (no contact) as the first channel, got {list(channels)}"
        )
    copies = table.str_list("copies", default=list(default.copies))
    library = table.value("copy_library", str, default=None, check=bool, expected="a file path")
    cells = _copy_cells(table.table("copy_cells", required=False), discounts, channels, copies)
    profiles_by = table.value("copy_profiles_by", str, default=None, check=bool, expected="a feature name")
    if any(c.profiles for c in cells) and profiles_by is None:
        raise table.fail(
            "copy_profiles_by", "missing; expected the feature copy_cells' profiles are values of"
        )
    table.finish()
    return ActionSpace(discounts, channels, copies, library, cells, profiles_by)


def _copy_cells(
    table: TomlTable, discounts: tuple[float, ...], channels: tuple[str, ...], copies: tuple[str, ...]
) -> tuple[CopyCells, ...]:
    """``[actions.copy_cells.COPY]`` tables: ``channels = [...]``, ``discounts = [...]``."""
    out = []
    for copy in list(table.data):
        if copy not in copies:
            raise table.fail(copy, f"expected one of actions.copies {list(copies)}")
        cells = table.table(copy)
        named = cells.str_list("channels")
        if bad := [c for c in named if c not in channels or c == NO_CONTACT]:
            raise cells.fail("channels", f"expected channels of actions.channels, got {bad[0]!r}")
        levels = cells.value("discounts", list, expected="a list of discount levels")
        if not levels or any(d not in discounts for d in levels):
            raise cells.fail(
                "discounts", f"expected levels of actions.discounts {list(discounts)}, got {levels!r}"
            )
        profiles = cells.str_list("profiles", default=[], non_empty=False)
        cells.finish()
        out.append(CopyCells(copy, tuple(named), tuple(float(d) for d in levels), profiles))
    table.finish()
    return tuple(out)


def _is_fraction(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1
