"""Fixtures for durable runs: both checkpointers, and a crash that freezes the checkpoint as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_helpers import Freezable

from rillflow.durable import Checkpointer, MemoryCheckpointer, PostgresCheckpointer, SQLiteCheckpointer


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def checkpointer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Checkpointer]:
    cp: Checkpointer
    if request.param == "postgres":
        cp = PostgresCheckpointer(request.getfixturevalue("postgres_url"))
    else:
        cp = MemoryCheckpointer() if request.param == "memory" else SQLiteCheckpointer(tmp_path / "r.db")
    yield cp
    if isinstance(cp, PostgresCheckpointer):  # one server for the session: each test starts empty
        for run in cp.list_runs():
            cp.delete(run.run_id)
    cp.close()


@pytest.fixture
def freezable(checkpointer: Checkpointer) -> Freezable:
    return Freezable(checkpointer)
