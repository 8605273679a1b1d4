"""Every integration test drives the CLI through a fitted world: all are in the slow tier
(`make test` runs them; `make test-fast` leaves them out). One small fitted run and one small
trained run are built per session; a module that writes into them takes its own copy
(``copied_run``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_runs import copied_run, small_fitted_run, train_briefly

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def fitted_run_template(tmp_path_factory) -> Path:
    """``small_fitted_run``, built once: take a ``copied_run`` of it before writing into it."""
    return small_fitted_run(tmp_path_factory.mktemp("fitted"))


@pytest.fixture(scope="session")
def trained_run_template(fitted_run_template, tmp_path_factory) -> Path:
    """A copy of the fitted template with a briefly trained PPO agent, built once."""
    return train_briefly(copied_run(fitted_run_template, tmp_path_factory.mktemp("trained")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.slow)
