"""examples/scale_dask.py runs as documented: on a local Dask cluster, with SQLite or PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "scale_dask.py"


def run(*args: str, cwd: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args], cwd=cwd, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_example_embeds_every_chunk_on_the_workers(tmp_path: Path) -> None:
    summary = run("--workers", "2", cwd=tmp_path)
    assert summary["status"] == "done"
    assert summary["docs"] == 5
    assert summary["on_workers"] is True
    assert isinstance(summary["chunks"], int) and summary["chunks"] > 5


def test_the_example_stores_its_run_in_postgres(tmp_path: Path, postgres_url: str) -> None:
    first = run("--workers", "1", "--postgres", postgres_url, "--run-id", "example-pg", cwd=tmp_path)
    again = run("--workers", "1", "--postgres", postgres_url, "--run-id", "example-pg", cwd=tmp_path)
    assert first["status"] == again["status"] == "done"
    assert again["chunks"] == first["chunks"]
    assert not (tmp_path / "scale_runs.db").exists()
