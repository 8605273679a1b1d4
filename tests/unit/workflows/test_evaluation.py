"""The training evaluation's typed results: a saved file reads back equal, a tampered one is
refused naming the file and the field."""

from __future__ import annotations

import json

import pytest

from campaign_sim.core.errors import InputError
from campaign_sim.core.jsonio import dumps_json
from campaign_sim.workflows.evaluation import Evaluation, EvaluationTable, Interval, PolicyResult


def _evaluation() -> Evaluation:
    bau = PolicyResult(
        {"expected_profit": Interval(1.0, 0.9, 1.1), "unsubscribes": Interval(0.01, 0.0, 0.02)}
    )
    ppo = PolicyResult(
        {"expected_profit": Interval(1.2, 1.0, 1.4), "unsubscribes": Interval(0.02, 0.01, 0.03)},
        vs_reference=Interval(0.2, 0.05, 0.35),
    )
    table = EvaluationTable("business-as-usual", {"business-as-usual": bau, "ppo": ppo})
    return Evaluation("runs/x/world", 3, True, 10_000, 2, 50_000, {"world": table, "true_world": table})


def test_a_saved_evaluation_reads_back_equal(tmp_path):
    path = tmp_path / "train_evaluation.json"
    path.write_text(dumps_json(_evaluation().to_json()))
    loaded = Evaluation.load(path)
    assert loaded == _evaluation()
    assert loaded.shown[0] == "true_world"
    assert json.loads(path.read_text())["evaluated_in"]["world"]["policies"]["ppo"][
        "expected_profit_vs_reference"
    ] == {"mean": 0.2, "low": 0.05, "high": 0.35}


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (lambda d: d.pop("seeds"), "field 'seeds'"),
        (lambda d: d["evaluated_in"].pop("world"), "no 'world' table"),
        (lambda d: d["evaluated_in"]["world"].update(reference="ghost"), "evaluated_in.world.reference"),
        (
            lambda d: d["evaluated_in"]["world"]["policies"]["ppo"]["expected_profit"].pop("low"),
            "evaluated_in.world.policies.ppo.expected_profit",
        ),
    ],
)
def test_a_tampered_evaluation_is_refused_naming_the_field(tmp_path, tamper, named):
    data = _evaluation().to_json()
    tamper(data)
    path = tmp_path / "train_evaluation.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=str(path)) as error:
        Evaluation.load(path)
    assert named in str(error.value) and "\n" not in str(error.value)
