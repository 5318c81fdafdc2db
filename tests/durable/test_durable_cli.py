"""The `rillflow` command with durable runs, in real subprocesses: runs started as a script resume with
the command and the other way round; bad checkpoint files and run ids are one-line errors (exit 2)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "rillflow"

APP = textwrap.dedent(
    """
    import sys
    import rillflow as rf
    from rillflow.durable import SQLiteCheckpointer

    class Ask(rf.Node):
        def exec(self, prep_res):
            return self.interrupt({"question": "ship it?"})

        def post(self, shared, prep_res, answer):
            shared["answer"] = answer

    class Sub(rf.Flow):
        pass

    flow = rf.Flow(Sub(Ask(), name="Inner"), name="Shipping")

    if __name__ == "__main__":
        command, run_id = sys.argv[1:3]
        cp = SQLiteCheckpointer("runs.db")
        if command == "start":
            print(flow.run({}, run_id=run_id, checkpointer=cp).status)
        else:
            print(flow.resume(run_id, sys.argv[3], checkpointer=cp).shared)
    """
)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=120)


def rillflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(str(SCRIPT), *args, cwd=cwd)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "notes.db").write_text("my notes, not a database\n")
    return tmp_path


def test_a_run_started_as_a_script_resumes_with_the_command(project: Path) -> None:
    started = run(sys.executable, "app.py", "start", "r1", cwd=project)
    assert started.stdout.strip() == "paused", started.stderr
    resumed = rillflow("resume", "app.py:flow", "r1", "--db", "runs.db", "--answer", '"yes"', cwd=project)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"answer": "yes"}


def test_a_run_started_by_the_command_resumes_as_a_script(project: Path) -> None:
    started = rillflow("run", "app.py:flow", "--db", "runs.db", "--run-id", "r2", cwd=project)
    assert started.returncode == 0 and "paused" in started.stderr, started.stderr
    for target in ("app:flow", "app.py:flow"):  # as a module name too
        listed = rillflow("runs", "--db", "runs.db", cwd=project)
        assert "r2" in listed.stdout and target
    resumed = run(sys.executable, "app.py", "resume", "r2", "ok", cwd=project)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == "{'answer': 'ok'}"


def test_a_run_started_by_file_path_resumes_by_module_name(project: Path) -> None:
    rillflow("run", "app.py:flow", "--db", "runs.db", "--run-id", "r3", cwd=project)
    resumed = rillflow("resume", "app:flow", "r3", "--db", "runs.db", "--answer", "7", cwd=project)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"answer": 7}


def usage_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rillflow: error: "), done.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_a_file_that_is_not_a_database_is_a_one_line_error(project: Path) -> None:
    usage_error(rillflow("runs", "--db", "notes.db", cwd=project), "notes.db", "not a readable checkpoint")
    usage_error(rillflow("run", "app.py:flow", "--db", "notes.db", cwd=project), "notes.db")
    usage_error(rillflow("resume", "app.py:flow", "r", "--db", "notes.db", cwd=project), "notes.db")
    assert (project / "notes.db").read_text() == "my notes, not a database\n"


def test_an_empty_file_is_not_taken_for_a_new_store(project: Path) -> None:
    (project / "empty.db").write_bytes(b"")
    usage_error(rillflow("run", "app.py:flow", "--db", "empty.db", cwd=project), "empty.db", "0 bytes")
    usage_error(rillflow("runs", "--db", "empty.db", cwd=project), "empty.db", "0 bytes")
    assert (project / "empty.db").read_bytes() == b""


def test_starting_a_run_with_a_stored_id_is_a_one_line_error(project: Path) -> None:
    rillflow("run", "app.py:flow", "--db", "runs.db", "--run-id", "r1", cwd=project)
    again = rillflow("run", "app.py:flow", "--db", "runs.db", "--run-id", "r1", cwd=project)
    usage_error(again, "'r1' already exists", "rillflow resume")


def test_resume_with_a_mistyped_database_creates_nothing(project: Path) -> None:
    usage_error(rillflow("resume", "app.py:flow", "r1", "--db", "typo.db", cwd=project), "typo.db")
    assert not (project / "typo.db").exists()


# Root may write anything; without these capabilities it obeys file modes like any user.
NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def test_a_read_only_database_can_be_listed(tmp_path: Path) -> None:
    if sys.platform == "win32" or os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux) to drop the right to write anything")
    home = tmp_path / "ro"
    home.mkdir()
    (home / "app.py").write_text(APP)
    started = run(sys.executable, "app.py", "start", "r1", cwd=home)
    assert started.stdout.strip() == "paused", started.stderr
    before = (home / "runs.db").read_bytes()
    (home / "runs.db").chmod(0o444)
    home.chmod(0o555)
    try:
        listed = run(*NO_OVERRIDE, str(SCRIPT), "runs", "--db", "runs.db", cwd=home)
        assert listed.returncode == 0, listed.stderr
        assert "r1" in listed.stdout and "paused" in listed.stdout
        resumed = run(*NO_OVERRIDE, str(SCRIPT), "resume", "app.py:flow", "r1", "--db", "runs.db", cwd=home)
        usage_error(resumed, "runs.db")  # writing is refused in one line
        code = (
            "from rillflow.durable import SQLiteCheckpointer; "
            "print(SQLiteCheckpointer('runs.db').get('r1').status)"
        )
        in_python = run(*NO_OVERRIDE, sys.executable, "-c", code, cwd=home)  # no readonly=True needed
        assert in_python.stdout.strip() == "paused", in_python.stderr
    finally:
        home.chmod(0o755)
    assert (home / "runs.db").read_bytes() == before


def test_a_zero_byte_file_is_a_corrupt_checkpoint(tmp_path: Path) -> None:
    from rillflow.durable import CorruptCheckpointError, SQLiteCheckpointer

    (tmp_path / "empty.db").write_bytes(b"")
    with (
        pytest.raises(CorruptCheckpointError, match="0 bytes"),
        SQLiteCheckpointer(tmp_path / "empty.db") as cp,
    ):
        cp.list_runs()
    assert (tmp_path / "empty.db").read_bytes() == b""
    conn = sqlite3.connect(tmp_path / "fresh.db")  # a real (empty) database is fine: it becomes a store
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with SQLiteCheckpointer(tmp_path / "fresh.db") as cp:
        assert cp.list_runs() == []
