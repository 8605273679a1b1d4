"""`campaign-sim segment`, `copy generate` and `copy score` end to end on a small fitted world."""

from __future__ import annotations

import json
import shutil

import numpy as np
import polars as pl
import pytest

from campaign_sim.agents.sb3_agents import load_model
from campaign_sim.core.runs import RunDir
from campaign_sim.envs.sb3_vec_env import CampaignVecEnv
from campaign_sim.llm.guardrails import Guardrails
from campaign_sim.simulators.fitted.world import FittedWorld
from tests.integration.cli_runs import invoke, small_fitted_run, train_briefly


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = tmp_path_factory.mktemp("copy")
    small_fitted_run(root, periods=3)
    return root


def test_segment_writes_named_profiles(fitted):
    result = invoke(
        "segment",
        fitted / "data" / "log.parquet",
        "-c",
        fitted / "data" / "config.toml",
        "--out",
        fitted / "prof",
        "--k",
        "4",
        "--json",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert len(summary["profiles"]) == 4 and sum(p["size"] for p in summary["profiles"]) == 1500
    assert all(p["description"] and p["name"] for p in summary["profiles"])
    table = pl.read_parquet(fitted / "prof" / "profiles.parquet")
    assert table.height == 1500 and table["profile"].n_unique() == 4


def test_generate_then_score_copies(fitted):
    out = fitted / "copy"
    result = invoke(
        "copy", "generate", "--out", out, "--angles", "value,personal", "--discounts", "0,0.1", "--json"
    )
    assert result.exit_code == 0, result.output
    library = pl.read_parquet(out / "copies.parquet")
    assert set(library.get_column("angle")) == {"value", "personal"}
    assert library.height == json.loads(result.output)["copies"] > 0
    for row in library.iter_rows(named=True):
        assert Guardrails().check(row["text"], discount=row["discount"], channel=row["channel"]) == ()
    score = (
        "copy",
        "score",
        "--world",
        fitted / "run" / "world",
        "--library",
        out / "copies.parquet",
        "--json",
    )
    scored = invoke(*score, "--top", "2")
    assert scored.exit_code == 0, scored.output
    rows = json.loads(scored.output)
    assert {r["group"] for r in rows} == {"loyal", "deal_seeker", "email_fan", "mobile_first", "dormant"}
    for r in rows:
        assert r["profit_low"] <= r["profit_lift"] <= r["profit_high"] and r["rank"] <= 2
        assert not r["corrected"] and r["distance"] > 0  # generated copies were never logged
        assert r["written_for"] == r["group"]  # each profile ranks the copies written for it
    # with the history, each group's offer lift is corrected by its logged residuals
    plain = json.loads(invoke(*score, "--top", "1000").output)
    corrected = invoke(*score, "--top", "1000", "--logs", fitted / "data" / "log.parquet")
    assert corrected.exit_code == 0, corrected.output
    by_key = {(r["group"], r["copy_id"]): r for r in plain}
    for r in json.loads(corrected.output):
        before = by_key[(r["group"], r["copy_id"])]
        if r["corrected"]:
            assert r["profit_high"] - r["profit_low"] > before["profit_high"] - before["profit_low"]
    assert any(r["corrected"] for r in json.loads(corrected.output))


def test_adopted_copies_are_actions_of_the_world_the_agents_and_the_truth(fitted, tmp_path):
    """`copy adopt`: each group's best copy becomes an action with exactly the offers and channels
    its guardrails pass; an agent trains over the wider action space and is evaluated in the true
    world, which values the same texts; refusals are one line, exit 2."""
    shutil.copytree(fitted, tmp_path / "c")
    run, library = tmp_path / "c" / "run", tmp_path / "c" / "copy" / "copies.parquet"
    adopt = ("copy", "adopt", "--world", run / "world", "--library", library)
    result = invoke(*adopt, "--json")
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)["added"]
    texts = dict(pl.read_parquet(library).select("copy_id", "text").iter_rows())
    assert 1 <= len(added) <= 5 and json.loads(result.output)["n_actions"] == 4 * 4 * (4 + len(added))
    cells = json.loads(result.output)["cells"]
    config = RunDir(run).load_config()
    for copy_id in added:  # sendable exactly where the guardrails pass it
        allowed = cells[copy_id]
        for d in config.actions.discounts:
            for c in ("email", "sms", "push"):
                passes = Guardrails().check(texts[copy_id], discount=d, channel=c) == ()
                actions = config.actions
                valid = actions.valid[
                    actions.discounts.index(d), actions.channels.index(c), actions.copies.index(copy_id)
                ]
                assert valid == (d in allowed["discounts"] and c in allowed["channels"])
                assert passes or not valid, (copy_id, d, c)
    saved = FittedWorld.load(run / "world")  # the world's config says the same
    assert np.array_equal(saved.valid_actions, config.actions.valid)
    segments = dict(pl.read_parquet(library).select("copy_id", "segment").iter_rows())
    assert all(cells[c]["profiles"] == [segments[c]] for c in added)  # each for its own profile
    _only_its_profile_gets_a_copy(saved, added)
    world_copies = pl.read_parquet(run / "world" / "copies.parquet")  # the run now reads them
    assert world_copies.get_column("copy_id").to_list()[4:] == added
    assert list(config.actions.copies[4:]) == added and config.actions.copy_library == str(
        (run / "world" / "copies.parquet").resolve()
    )
    plan = invoke("pilot", "plan", run, "--json")  # new copies may be arms, only where they can go
    assert plan.exit_code == 0, plan.output
    valid = config.actions.valid.reshape(-1)
    assert all(valid[arm["action"]] for arm in json.loads(plan.output)["arms"])
    for args, said in (
        (("--copy", added[0]), "already one of the world's copies"),
        (("--copy", "nope"), "no such copy"),
    ):
        refused = invoke(*adopt, *args)
        assert refused.exit_code == 2 and said in refused.output, refused.output
        assert len(refused.output.strip().splitlines()) == 1
    train_briefly(run)
    evaluation = json.loads((run / "evaluations" / "train_evaluation.json").read_text())
    assert set(evaluation["evaluated_in"]) == {"world", "true_world"}
    model = load_model("ppo", run / "agents" / "ppo-seed0" / "model.zip")
    assert list(model.action_space.nvec) == [4, 4, 4 + len(added)]
    again = invoke(*adopt)
    assert again.exit_code == 2 and "agents were trained in this world" in again.output


def test_bad_copy_inputs_exit_2_in_one_line(fitted):
    for args in (
        ("copy", "generate", "--out", fitted / "x", "--discounts", "0,abc"),
        ("copy", "generate", "--out", fitted / "x", "--generator", "gpt9"),
        ("copy", "generate", "--out", fitted / "x", "--angles", "value,flattery"),
        ("copy", "score", "--world", fitted / "run" / "world", "--library", fitted / "none.parquet"),
        ("copy", "score", "--world", fitted / "nope", "--library", fitted / "copy" / "copies.parquet"),
        (
            "copy",
            "score",
            "--world",
            fitted / "run" / "world",
            "--library",
            fitted / "copy" / "copies.parquet",
            "--logs",
            fitted / "no.parquet",
        ),
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def _only_its_profile_gets_a_copy(world: FittedWorld, added: list[str]) -> None:
    """In the environment, an adopted copy reaches only customers of its profile: elsewhere the
    mask hides it and a send is no contact."""
    env = CampaignVecEnv(500, world, pool_size=2_000, seed=0)
    env.reset()
    core, copies = env.core, world.config.actions.copies
    rng = np.random.default_rng(0)
    for copy_id in added:
        k = copies.index(copy_id)
        (written_for,) = np.flatnonzero(core.copy_for[:-1, k])
        profile = core.seated.data["copy_profile"].copy()  # before the step: restarts reseat
        masks = core.action_masks()
        reachable = masks[:, 5:8].any(axis=1)  # nobody else: every copy is "allowed", none sent
        assert not masks[(profile != written_for) & reachable, 8 + k].any()
        action = np.column_stack([np.zeros(500, int), rng.integers(1, 4, 500), np.full(500, k)])
        env.step_async(action)
        env.step_wait()
        assert not env.last_info["contacted"][profile != written_for].any()
        assert (profile == written_for).any()
