"""Checks of the arrays handed to the estimators: each failure names the array, the first bad
index and what was expected, as an ``InputError`` (exit code 2 at the CLI)."""

from __future__ import annotations

import numpy as np

from campaign_sim.core.errors import InputError

SUM_TOLERANCE = 1e-6


def first_bad(name: str, array: np.ndarray, bad: np.ndarray, expected: str) -> None:
    """Raise for the first True of ``bad`` (any shape), naming ``array``'s value there."""
    if not bad.any():
        return
    index = np.unravel_index(int(np.argmax(bad)), bad.shape)
    where = index[0] if len(index) == 1 else tuple(int(i) for i in index)
    value = (array[index] if array.shape == bad.shape else array[index[0]]).item()
    raise InputError(f"array '{name}': index {where} is {value!r}; expected {expected}")


def check_shapes(n: int, **arrays: np.ndarray) -> None:
    for name, array in arrays.items():
        if array.shape[0] != n:
            raise InputError(f"array '{name}': {array.shape[0]} rows; expected {n}, one per logged decision")


def check_probabilities(name: str, propensity: np.ndarray, where: np.ndarray | None = None) -> None:
    """Logging propensities must lie in (0, 1] (where ``where`` is True, if given)."""
    values = np.asarray(propensity, dtype=float)
    bad = ~((values > 0) & (values <= 1))  # NaN fails both comparisons
    first_bad(name, values, bad if where is None else bad & where, "a probability in (0, 1]")


def check_finite(name: str, array: np.ndarray) -> None:
    first_bad(name, array, ~np.isfinite(array), "a finite number")


def check_actions(name: str, action: np.ndarray, n_actions: int) -> None:
    first_bad(name, action, (action < 0) | (action >= n_actions), f"an action in 0..{n_actions - 1}")


def check_distributions(name: str, probs: np.ndarray) -> None:
    """Rows of ``probs`` must be distributions: entries in [0, 1], summing to 1."""
    first_bad(name, probs, ~((probs >= 0) & (probs <= 1)), "a probability in [0, 1]")
    off = np.abs(probs.sum(axis=1) - 1) > SUM_TOLERANCE
    if off.any():
        row = int(np.argmax(off))
        total = float(probs[row].sum())
        raise InputError(f"array '{name}': row {row} sums to {total!r}; expected probabilities summing to 1")
