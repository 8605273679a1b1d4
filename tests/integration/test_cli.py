"""The CLI through typer's CliRunner: exit codes 0 / 2 / 1, one-line errors, output."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from campaign_sim import __version__
from campaign_sim.cli.app import app
from campaign_sim.core.config import load_config

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_version_and_help():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.strip() == f"campaign-sim {__version__}"
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("init", "data", "demo"):
        assert command in result.output


def test_init_writes_loadable_config_and_never_clobbers(tmp_path):
    path = tmp_path / "campaign.toml"
    assert invoke("init", path).exit_code == 0
    assert load_config(path).name == "example"
    assert "# " in path.read_text()  # annotated
    path.write_text("mine")
    result = invoke("init", path)
    assert result.exit_code == 2 and "already exists; pass --force" in result.output
    assert path.read_text() == "mine"
    assert invoke("init", path, "--dataset", "hillstrom", "--force").exit_code == 0
    assert load_config(path).name == "hillstrom"


def test_validate_hillstrom(hillstrom_path):
    result = invoke("data", "validate", hillstrom_path, "--dataset", "hillstrom")
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "64,000 rows" in result.output
    result = invoke("data", "validate", hillstrom_path, "-d", "hillstrom", "--json")
    payload = json.loads(result.output)
    assert payload["valid"] is True and payload["rows"] == 64_000


def test_describe_json(hillstrom_path):
    result = invoke("data", "describe", hillstrom_path, "-d", "hillstrom", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == 64_000 and summary["customers"] == 64_000
    assert summary["propensity"] == {"min": pytest.approx(1 / 3), "max": pytest.approx(1 / 3)}
    visits = {arm["copy_id"]: round(arm["visit"]["mean"], 3) for arm in summary["arms"]}
    assert visits == {"mens": 0.183, "womens": 0.151, None: 0.106}


def test_describe_table(obd_dir):
    result = invoke("data", "describe", obd_dir / "bts" / "men" / "men.csv", "-d", "obd")
    assert result.exit_code == 0, result.output
    assert "recommendation log" in result.output and "10,000" in result.output


def test_bad_input_is_one_line_exit_2(tmp_path, canonical_csv):
    frame = pl.read_csv(canonical_csv).with_columns(pl.lit(2.0).alias("propensity"))
    bad = tmp_path / "bad.csv"
    frame.write_csv(bad)
    result = invoke("data", "validate", bad)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0] == (
        f"error: {bad}, column 'propensity', row 1: out of range (got 2.0); expected a number in (0, 1]"
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("data", "validate", "missing.csv"),
        ("data", "describe", "x.csv", "--dataset", "nope"),
        ("data", "validate", "x.csv", "--set", "economics.margin=7"),
        ("init", "c.toml", "--dataset", "nope"),
    ],
)
def test_other_bad_inputs_exit_2(tmp_path, canonical_csv, args):
    args = [
        str(canonical_csv) if a == "x.csv" else str(tmp_path / a) if a.endswith(("csv", "toml")) else a
        for a in args
    ]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1


def test_usage_error_exit_2():
    assert invoke("data", "validate").exit_code == 2


def test_internal_error_exit_1(monkeypatch, canonical_csv):
    import campaign_sim.cli.data_commands as commands

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(commands, "describe_log", broken)
    result = invoke("data", "describe", canonical_csv)
    assert result.exit_code == 1
    assert result.output.strip() == "internal error: disk on fire"


def test_convert_csv_to_parquet_and_back(tmp_path, hillstrom_path):
    target = tmp_path / "h.parquet"
    result = invoke("data", "convert", hillstrom_path, target, "-d", "hillstrom", "--quiet")
    assert result.exit_code == 0, result.output
    sidecar = tmp_path / "h.parquet.toml"
    assert target.exists() and sidecar.exists()
    back = tmp_path / "h.csv"
    assert invoke("data", "convert", target, back, "--config", sidecar, "-q").exit_code == 0
    result = invoke("data", "describe", back, "--config", tmp_path / "h.csv.toml", "--json")
    assert json.loads(result.output)["rows"] == 64_000
    result = invoke("data", "convert", hillstrom_path, target, "-d", "hillstrom")
    assert result.exit_code == 2 and "already exists" in result.output


def test_demo_runs_pipeline(tmp_path, hillstrom_path):
    out = tmp_path / "demo"
    result = invoke("demo", "--path", hillstrom_path, "--out", out, "--fast", "--quiet")
    assert result.exit_code == 0, result.output
    for name in (
        "config.toml",
        "data/log.parquet",
        "world/weights.safetensors",
        "world/fidelity.json",
        "data/hillstrom_describe.json",
    ):
        assert (out / name).exists(), name
    assert "fitted world written to" in result.output and "mens: 0.183" in result.output


def test_demo_on_the_hillstrom_rct_by_config_alone(tmp_path, hillstrom_path):
    out = tmp_path / "hill"
    result = invoke("demo", "--dataset", "hillstrom", "--path", hillstrom_path, "--out", out, "--fast", "-q")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["baseline"] == "rule:mens_email_everyone"  # the preset's first blanket arm
    assert summary["data"]["rows"] == 64_000 and summary["data"]["periods"] == 1
    ope = [r for r in summary["policies"] if r["where"].startswith("off-policy")]
    logged = next(r for r in ope if r["policy"] == "business-as-usual")
    # the logged policy is the RCT's 1/3 mix: its value is the observed mean profit per customer
    raw = pl.read_csv(hillstrom_path, infer_schema_length=None)
    observed = raw["spend"].mean() * 0.4 - 0.01 * (raw["segment"] != "No E-Mail").mean()
    assert abs(logged["mean"] - observed) < 1e-9 and logged["low"] < logged["mean"] < logged["high"]
    assert summary["verdict"]["verdict"] in ("GO", "NO-GO")
    assert any("off-policy launch gate" in r for r in summary["verdict"]["reasons"])
    assert (out / "report" / "report.pdf").exists() and "Hillstrom RCT" in result.output


def test_demo_rejects_an_unknown_dataset(tmp_path):
    result = invoke("demo", "--dataset", "criteo", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "expected one of synthetic, hillstrom" in result.output
    assert not (tmp_path / "x").exists()


def test_generate_writes_log_truth_copies(tmp_path):
    out = tmp_path / "syn"
    result = invoke("data", "generate", "--out", out, "-n", "500", "-t", "4", "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 2_000
    for name in ("log.parquet", "truth.parquet", "copies.parquet", "world.json", "config.toml"):
        assert (out / name).exists(), name
    result = invoke("data", "validate", out / "log.parquet", "--config", out / "config.toml")
    assert result.exit_code == 0, result.output
    again = invoke("data", "generate", "--out", out, "-n", "500")
    assert again.exit_code == 2 and "already exists" in again.output


def test_fit_writes_world_and_fidelity(tmp_path):
    data = tmp_path / "syn"
    assert invoke("data", "generate", "--out", data, "-n", "1500", "-t", "4", "-q").exit_code == 0
    run = tmp_path / "run"
    result = invoke(
        "fit",
        "--logs",
        data / "log.parquet",
        "--config",
        data / "config.toml",
        "--out",
        run,
        "--set",
        "world.ensemble=2",
        "--set",
        "world.max_epochs=2",
        "--set",
        "world.hidden=[16]",
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["heads"]) == {"visit", "conversion", "conversion_given_visit", "unsubscribe"}
    assert "true_log_loss" in report["heads"]["visit"]  # truth.parquet beside the log is used
    for name in ("weights.safetensors", "world.json", "fidelity.json", "fidelity.png"):
        assert (run / "world" / name).exists(), name
    assert load_config(run / "config.toml").world.ensemble == 2  # resolved config kept with the run


def test_fit_hillstrom_warns_about_unsubscribes(tmp_path, hillstrom_path):
    result = invoke(
        "fit",
        "--logs",
        hillstrom_path,
        "-d",
        "hillstrom",
        "--out",
        tmp_path / "h",
        "--set",
        "world.ensemble=1",
        "--set",
        "world.max_epochs=2",
        "--set",
        "world.hidden=[16]",
    )
    assert result.exit_code == 0, result.output
    assert "no unsubscribe outcome in the log" in result.output
    assert "per-arm KPIs" in result.output


def test_fit_bad_input_exit_2(tmp_path, canonical_csv):
    result = invoke("fit", "--logs", tmp_path / "missing.csv", "--out", tmp_path / "r")
    assert result.exit_code == 2 and "file not found" in result.output
    result = invoke("fit", "--logs", canonical_csv, "--out", tmp_path / "r", "--set", "world.ensemble=0")
    assert result.exit_code == 2 and "world.ensemble: expected an integer >= 1" in result.output
    assert not (tmp_path / "r").exists()  # nothing written for a fit that never ran


def test_fit_of_a_one_arm_log_fails_in_one_line_and_leaves_no_run(tmp_path, hillstrom_path):
    lines = hillstrom_path.read_text(encoding="utf-8").splitlines()
    one_arm = [lines[0], *[line for line in lines[1:] if ",Mens E-Mail," in line][:300]]
    path = tmp_path / "one_arm.csv"
    path.write_text("\n".join(one_arm) + "\n", encoding="utf-8")
    result = invoke("fit", "--logs", path, "-d", "hillstrom", "--out", tmp_path / "h")
    assert result.exit_code == 2, result.output
    assert "only one action is logged" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "h").exists()


def test_train_rejects_an_unknown_algorithm_in_one_line_with_exit_2(tmp_path):
    result = invoke("train", "--out", tmp_path / "run", "--algo", "sac", "--timesteps", "10")
    assert result.exit_code == 2
    assert "'sac'" in result.output and "ppo, a2c, dqn, maskable-ppo" in result.output
    assert "Traceback" not in result.output


def test_train_a_fitted_world_that_does_not_exist_fails_cleanly(tmp_path):
    result = invoke("train", "--out", tmp_path / "run", "--world", tmp_path / "missing", "--timesteps", "10")
    assert result.exit_code == 2 and "Traceback" not in result.output
