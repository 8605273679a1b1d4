"""The training evaluation (``evaluations/train_evaluation.json``) as typed, frozen results:
what ``train`` writes and ``report``, ``evaluate`` and the CLI read.

``to_json`` writes the same document the run directory has always held; ``load`` reads it back
and refuses a tampered file with a one-line error naming the file and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_sim.core.errors import InputError
from campaign_sim.core.jsonio import read_json

EVALUATION_FILE = "train_evaluation.json"
VS_REFERENCE = "expected_profit_vs_reference"  # the paired difference's key in the JSON rows


@dataclass(frozen=True)
class Interval:
    """A mean and its 95% interval (across seeds, or of a paired difference)."""

    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: tuple[float, float, float]) -> Interval:
        return cls(*(float(v) for v in values))

    def to_json(self) -> dict[str, float]:
        return {"mean": self.mean, "low": self.low, "high": self.high}

    @classmethod
    def from_json(cls, value: Any, where: str) -> Interval:
        if not isinstance(value, dict) or not all(
            isinstance(value.get(k), int | float) for k in ("mean", "low", "high")
        ):
            raise InputError(f"{where}: expected {{mean, low, high}} numbers, got {value!r}")
        return cls(float(value["mean"]), float(value["low"]), float(value["high"]))


ZERO = Interval(0.0, 0.0, 0.0)


@dataclass(frozen=True)
class PolicyResult:
    """One policy's per-shopper campaign metrics (``train.METRICS``), across seeds, and its paired
    expected-profit difference to the table's reference (None for the reference itself)."""

    metrics: dict[str, Interval]
    vs_reference: Interval | None = None

    def __getitem__(self, metric: str) -> Interval:
        return self.metrics[metric]

    def to_json(self) -> dict[str, dict[str, float]]:
        out = {name: value.to_json() for name, value in self.metrics.items()}
        if self.vs_reference is not None:
            out[VS_REFERENCE] = self.vs_reference.to_json()
        return out

    @classmethod
    def from_json(cls, value: Any, where: str) -> PolicyResult:
        if not isinstance(value, dict) or "expected_profit" not in value:
            raise InputError(f"{where}: expected the policy's metrics, with expected_profit")
        metrics = {k: Interval.from_json(v, f"{where}.{k}") for k, v in value.items() if k != VS_REFERENCE}
        diff = value.get(VS_REFERENCE)
        return cls(metrics, None if diff is None else Interval.from_json(diff, f"{where}.{VS_REFERENCE}"))


@dataclass(frozen=True)
class EvaluationTable:
    """Every policy evaluated in one world, on the same shoppers and outcome streams."""

    reference: str | None  # business-as-usual, else the first rule, the logged policy, nobody
    policies: dict[str, PolicyResult]

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "policies": {n: r.to_json() for n, r in self.policies.items()}}

    @classmethod
    def from_json(cls, value: Any, where: str) -> EvaluationTable:
        if not isinstance(value, dict) or not isinstance(value.get("policies"), dict):
            raise InputError(f"{where}: expected {{reference, policies}}")
        reference = value.get("reference")
        if reference is not None and reference not in value["policies"]:
            raise InputError(f"{where}.reference: {reference!r} is not one of the policies")
        policies = {
            n: PolicyResult.from_json(r, f"{where}.policies.{n}") for n, r in value["policies"].items()
        }
        return cls(reference, policies)


@dataclass(frozen=True)
class Evaluation:
    """What ``train`` measured: where it trained, how many shoppers and seeds, and a table per
    world it evaluated in (``world``: the training world; ``true_world``: the synthetic world a
    fitted world's log came from, when known)."""

    trained_in: str  # "synthetic" or the fitted world's directory
    world_seed: int  # the built-in synthetic world is created with it
    fitted: bool
    shoppers: int
    seeds: int
    timesteps: int
    evaluated_in: dict[str, EvaluationTable]

    def to_json(self) -> dict[str, Any]:
        return {
            "trained_in": self.trained_in,
            "world_seed": self.world_seed,
            "fitted": self.fitted,
            "shoppers": self.shoppers,
            "seeds": self.seeds,
            "timesteps": self.timesteps,
            "evaluated_in": {where: t.to_json() for where, t in self.evaluated_in.items()},
        }

    @classmethod
    def load(cls, path: str | Path) -> Evaluation:
        data = read_json(path)
        where = str(path)
        fields = {
            "trained_in": str,
            "world_seed": int,
            "fitted": bool,
            "shoppers": int,
            "seeds": int,
            "timesteps": int,
        }
        for name, kind in fields.items():
            if not isinstance(data.get(name), kind):
                raise InputError(f"{where}: field {name!r} is {data.get(name)!r}; expected a {kind.__name__}")
        tables = data.get("evaluated_in")
        if not isinstance(tables, dict) or "world" not in tables:
            raise InputError(f"{where}: field 'evaluated_in' has no 'world' table")
        return cls(
            **{name: data[name] for name in (*fields, "timesteps")},
            evaluated_in={
                w: EvaluationTable.from_json(t, f"{where}: evaluated_in.{w}") for w, t in tables.items()
            },
        )

    @property
    def shown(self) -> tuple[str, EvaluationTable]:
        """The table a report shows: the true world's when there is one."""
        where = "true_world" if "true_world" in self.evaluated_in else "world"
        return where, self.evaluated_in[where]
