"""Bad arguments are refused before any work starts (issue 27, section 10): one red line, exit 2,
nothing written."""

from __future__ import annotations

import pytest

from tests.integration.cli_runs import invoke


@pytest.fixture
def generated(tmp_path):
    assert invoke("data", "generate", "--out", tmp_path / "gen", "-n", "200", "-t", "2", "-q").exit_code == 0
    return tmp_path / "gen"


def _fit(gen, out, *extra):
    return ("fit", "--logs", gen / "log.parquet", "-c", gen / "config.toml", "--out", out, *extra, "-q")


CASES = {
    "seed above 2^32": (
        lambda g, t: _fit(g, t / "run", "--seed", "4294967296"),
        "Input should be less than or equal to 4294967295",
    ),
    "config seed 2^63-1": (
        lambda g, t: _fit(g, t / "run", "--set", "campaign.seed=9223372036854775807"),
        "campaign.seed: expected an integer in [0, 4294967295]",
    ),
    "no customers left to fit": (
        lambda g, t: _fit(g, t / "run", "--set", "world.validation_share=0.9"),
        "world.validation_share: expected validation_share + test_share <= 0.8",
    ),
    "a channel removed but still priced": (
        lambda g, t: _fit(g, t / "run", "--set", 'actions.channels=["none", "email"]'),
        "economics.contact_cost.sms: not a channel of actions.channels",
    ),
    "negative seed (usage error)": (
        lambda g, t: _fit(g, t / "run", "--seed", "-1"),
        "Invalid value for '--seed'",
    ),
    "unknown command": (lambda g, t: ("fitt",), "No such command 'fitt'"),
    "missing argument": (lambda g, t: ("data", "validate"), "Missing argument"),
    "init into a directory": (lambda g, t: ("init", t, "--force"), "is a directory"),
    "generate over a file": (
        lambda g, t: ("data", "generate", "--out", g / "log.parquet"),
        "exists and is not a directory",
    ),
    "unknown generator (demo)": (
        lambda g, t: ("demo", "--fast", "--generator", "bogus", "--out", t / "run"),
        "--generator 'bogus'",
    ),
    "unknown channel (copy)": (
        lambda g, t: ("copy", "generate", "--out", t / "run", "--channels", "fax"),
        "--channels 'fax'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_argument_is_one_line_exit_2_and_writes_nothing(generated, tmp_path, case):
    make, message = CASES[case]
    result = invoke(*make(generated, tmp_path))
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert not (tmp_path / "run").exists()
