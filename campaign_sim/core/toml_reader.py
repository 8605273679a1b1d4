"""Typed, key-naming access to a parsed TOML document (errors say which key and why)."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Callable
from typing import Any

from campaign_sim.core.errors import ConfigError

_MISSING: Any = object()


_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a table",
}


def describe_type(value: Any) -> str:
    """Name a TOML value's type the way a user reads it."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class TomlTable:
    """One TOML table; every read is recorded so unknown (misspelt) keys can be reported."""

    def __init__(self, data: dict[str, Any], *, source: str, path: str = "") -> None:
        self.data, self.source, self.path = data, source, path
        self._seen: set[str] = set()

    def fail(self, key: str, message: str) -> ConfigError:
        """Build the error for ``key`` in this table."""
        return ConfigError(f"{self.source}: {self.key_name(key)}: {message}")

    def key_name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return key in self.data

    def value(
        self,
        key: str,
        kinds: type | tuple[type, ...],
        *,
        default: Any = _MISSING,
        check: Callable[[Any], bool] | None = None,
        expected: str = "",
    ) -> Any:
        """Read ``key``; it must be of ``kinds`` and pass ``check`` (``expected`` says what)."""
        self._seen.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.fail(key, f"missing; expected {expected or _kind_names(kinds)}")
            return default
        value = self.data[key]
        numeric = kinds is float or (isinstance(kinds, tuple) and float in kinds)
        if numeric and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        # bool is an int subclass in Python; TOML's true must not pass for a number.
        is_stray_bool = isinstance(value, bool) and bool not in _as_tuple(kinds)
        ok = isinstance(value, kinds) and not is_stray_bool
        if not ok or (check is not None and not check(value)):
            want = expected or _kind_names(kinds)
            raise self.fail(key, f"expected {want}, got {value!r} ({describe_type(value)})")
        return value

    def str_list(self, key: str, *, default: Any = _MISSING, non_empty: bool = True) -> tuple:
        values = self.value(key, list, default=default, expected="a list of strings")
        if values is None:
            return ()
        bad = [v for v in values if not isinstance(v, str) or not v]
        if bad or (non_empty and not values):
            raise self.fail(key, f"expected a non-empty list of non-empty strings, got {values!r}")
        if len(set(values)) != len(values):
            raise self.fail(key, f"expected distinct values, got duplicates in {values!r}")
        return tuple(values)

    def table(self, key: str, *, required: bool = True) -> TomlTable:
        """Sub-table ``key`` (an empty one when optional and absent)."""
        raw = self.value(key, dict, default=_MISSING if required else {}, expected="a table")
        return TomlTable(raw, source=self.source, path=self.key_name(key))

    def finish(self) -> None:
        """Raise on any key that was never read: almost always a typo."""
        for key in self.data:
            if key not in self._seen:
                close = difflib.get_close_matches(key, sorted(self._seen), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.fail(key, f"unknown key{hint}")


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _kind_names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in _as_tuple(kinds))


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """Parse ``section.key=value`` from the command line; the value is read as TOML."""
    if "=" not in assignment:
        raise ConfigError(f"--set {assignment!r}: expected section.key=value")
    dotted, raw = assignment.split("=", 1)
    keys = [part.strip() for part in dotted.split(".")]
    if not all(keys):
        raise ConfigError(f"--set {assignment!r}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is a string
    return keys, value


def apply_overrides(document: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Return a copy of ``document`` with each ``section.key=value`` applied."""
    import copy

    result = copy.deepcopy(document)
    for assignment in assignments:
        keys, value = parse_override(assignment)
        table = result
        for key in keys[:-1]:
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {assignment!r}: '{key}' is not a table")
        table[keys[-1]] = value
    return result
