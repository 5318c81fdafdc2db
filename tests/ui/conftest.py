"""The UI tests' fixtures: the example's database (a paused, a failed and a finished run) and a server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rillflow.cli.input import load_target
from rillflow.ui import UIServer

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "ui_demo.py"


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    db = tmp_path / "runs.db"
    subprocess.run([sys.executable, str(DEMO), "--db", str(db)], check=True, capture_output=True)
    return db


@pytest.fixture
def demo_flow() -> Any:
    return load_target(f"{DEMO}:flow")  # as `rillflow ui examples/ui_demo.py:flow` loads it


@pytest.fixture
def server(demo_db: Path, demo_flow: Any) -> Iterator[UIServer]:
    ui = UIServer(demo_db, flow=demo_flow, port=0).start()
    try:
        yield ui
    finally:
        ui.stop()
