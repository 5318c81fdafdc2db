"""Fixtures for durable runs: both checkpointers, and a crash that freezes the checkpoint as it was."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_helpers import Freezable

from rillflow.durable import Checkpointer, MemoryCheckpointer, SQLiteCheckpointer


@pytest.fixture(params=["memory", "sqlite"])
def checkpointer(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Checkpointer]:
    cp: Checkpointer = (
        MemoryCheckpointer() if request.param == "memory" else SQLiteCheckpointer(tmp_path / "r.db")
    )
    yield cp
    cp.close()


@pytest.fixture
def freezable(checkpointer: Checkpointer) -> Freezable:
    return Freezable(checkpointer)
