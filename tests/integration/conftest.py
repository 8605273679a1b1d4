"""Every integration test drives the CLI through a fitted world: all are in the slow tier
(`make test` runs them; `make test-fast` leaves them out). One small trained run is built per
session; a module that writes into it takes its own copy (``copied_run``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli_runs import small_trained_run

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def trained_run_template(tmp_path_factory) -> Path:
    """``small_trained_run``, built once: take a ``copied_run`` of it before writing into it."""
    return small_trained_run(tmp_path_factory.mktemp("trained"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.slow)
