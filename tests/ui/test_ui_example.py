"""examples/ui_demo.py makes the three runs it promises, and `rillflow ui`'s way of loading the flow
fits them (answer and fork work)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import DEMO

from rillflow.durable import SQLiteCheckpointer


def test_the_demo_makes_a_paused_a_failed_and_a_finished_run(tmp_path: Path, demo_flow: Any) -> None:
    db = tmp_path / "demo.db"
    out = subprocess.run(
        [sys.executable, str(DEMO), "--db", str(db)], check=True, capture_output=True, text=True
    )
    assert json.loads(out.stdout.splitlines()[0]) == {
        "paused-1": "paused",
        "failed-1": "failed",
        "done-1": "done",
    }
    assert "rillflow ui" in out.stdout
    cp = SQLiteCheckpointer(db)
    assert demo_flow.resume("paused-1", "no", checkpointer=cp).shared["receipt"] == "dropped"
    fixed = demo_flow.fork("failed-1", 3, updates={"channel": "blog"}, checkpointer=cp)
    assert fixed.shared["receipt"].startswith("published on blog")
