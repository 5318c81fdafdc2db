"""The ``rillflow`` command, run as the installed console script in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "rillflow"

FLOWS = textwrap.dedent(
    """
    import asyncio
    import rillflow as rf
    from rillflow.hooks import emit

    class Add(rf.Node):
        def prep(self, shared):
            return shared["numbers"]

        def exec(self, numbers):
            return sum(numbers)

        def post(self, shared, prep_res, total):
            shared["total"] = total
            return "big" if total > 10 else "small"

    class Shout(rf.AsyncNode):
        async def exec_async(self, prep_res):
            for word in ("it", "is", "big"):
                emit("text", word)
                await asyncio.sleep(0)

    class Square(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared):
            return shared["numbers"]

        async def exec_async(self, n):
            return n * n

        async def post_async(self, shared, prep_res, squares):
            shared["squares"] = squares

    class Fail(rf.Node):
        def exec(self, prep_res):
            raise ValueError("bad input")

    add = Add()
    add - "big" >> rf.AsyncFlow(Shout(), name="Loud")
    add - "small" >> Square()
    flow = rf.AsyncFlow(add, name="Numbers")
    sync_flow = rf.Flow(Add(), name="SyncNumbers")
    failing = rf.Flow(Fail(), name="Failing")
    not_a_flow = 42

    class Ask(rf.Node):
        def exec(self, prep_res):
            return self.interrupt({"question": "ship it?"})

        def post(self, shared, prep_res, answer):
            shared["answer"] = answer

    shipping = rf.Flow(Ask(), name="Shipping")

    def make_flow():
        return rf.Flow(Add(), name="Made")
    """
)


def rillflow(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "flows.py").write_text(FLOWS)
    (tmp_path / "small.json").write_text(json.dumps({"numbers": [1, 2, 3]}))
    (tmp_path / "big.json").write_text(json.dumps({"numbers": [5, 6]}))
    return tmp_path


def test_run_prints_the_final_shared_store(project: Path) -> None:
    done = rillflow("run", "flows:flow", "--shared", "small.json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"numbers": [1, 2, 3], "total": 6, "squares": [1, 4, 9]}


def test_run_accepts_a_file_path_stdin_a_sync_flow_and_a_factory(project: Path) -> None:
    done = rillflow("run", "flows.py:sync_flow", "--shared", "-", cwd=project, stdin='{"numbers": [4]}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"numbers": [4], "total": 4}
    made = rillflow("run", "flows:make_flow", "--shared", "big.json", cwd=project)
    assert json.loads(made.stdout)["total"] == 11


def test_run_stream_prints_events_as_they_come_then_the_store(project: Path) -> None:
    done = rillflow("run", "flows:flow", "--shared", "big.json", "--stream", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    events = [json.loads(line) for line in lines if line.startswith('{"kind"')]
    assert [(e["kind"], " > ".join(e["path"])) for e in events] == [
        ("run_start", "Numbers"),
        ("node_start", "Numbers > Add"),
        ("node_end", "Numbers > Add"),
        ("node_start", "Numbers > Loud"),
        ("node_start", "Numbers > Loud > Shout"),
        ("text", "Numbers > Loud > Shout"),
        ("text", "Numbers > Loud > Shout"),
        ("text", "Numbers > Loud > Shout"),
        ("node_end", "Numbers > Loud > Shout"),
        ("node_end", "Numbers > Loud"),
        ("run_end", "Numbers"),
    ]
    assert [e["data"] for e in events if e["kind"] == "text"] == ["it", "is", "big"]
    store = json.loads("\n".join(lines[len(events) :]))
    assert store == {"numbers": [5, 6], "total": 11}


def test_run_stream_as_text_names_kind_path_and_details(project: Path) -> None:
    done = rillflow("run", "flows:flow", "--shared", "big.json", "--stream", cwd=project)
    assert done.returncode == 0, done.stderr
    node_end = next(line for line in done.stdout.splitlines() if "node_end" in line and "> Add" in line)
    assert "Numbers > Add" in node_end and "action=big" in node_end and "duration=" in node_end


def test_a_failing_flow_exits_1_with_the_failing_node_named(project: Path) -> None:
    done = rillflow("run", "flows:failing", cwd=project)
    assert done.returncode == 1
    assert "ValueError: bad input" in done.stderr
    assert "rillflow: raised in Failing > Fail" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nosuchmodule:flow"], "cannot import module 'nosuchmodule'"),
        (["run", "flows"], "expected MODULE:FLOW"),
        (["run", "flows:missing"], "flows has no attribute 'missing'; flows and nodes it has: "),
        (["run", "flows:not_a_flow"], "flows:not_a_flow is an int, not a rillflow flow or node"),
        (["run", "nofile.py:flow"], "no such file: nofile.py"),
        (["run", "flows:flow", "--shared", "missing.json"], "cannot read the shared store from missing.json"),
        (["run", "flows:flow", "--shared", "broken.json"], "broken.json is not valid JSON: Expecting"),
        (["run", "flows:flow", "--shared", "list.json"], "list.json must hold a JSON object"),
        (["viz", "flows:not_a_flow"], "is an int, not a rillflow Flow"),
    ],
)
def test_clear_errors_for_bad_targets_and_bad_input(project: Path, args: list[str], message: str) -> None:
    (project / "broken.json").write_text('{"numbers": [1, 2,}')
    (project / "list.json").write_text("[1, 2]")
    done = rillflow(*args, cwd=project)
    assert done.returncode == 2
    assert done.stderr.startswith("rillflow: error: ")
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_viz_prints_mermaid_or_writes_html(project: Path) -> None:
    done = rillflow("viz", "flows:flow", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowchart TD\n")
    assert 'subgraph n2 ["Loud"]' in done.stdout and 'n1 -->|"small"| n3' in done.stdout
    page = project / "flow.html"
    done = rillflow("viz", "flows:flow", "--html", "-o", str(page), cwd=project)
    assert done.returncode == 0, done.stderr
    assert page.read_text().startswith("<!DOCTYPE html>") and "<svg" in page.read_text()


def test_runs_needs_an_existing_checkpoint_file(project: Path) -> None:
    done = rillflow("runs", "--db", "nope.db", cwd=project)
    assert done.returncode == 2
    assert "no checkpoint file 'nope.db'" in done.stderr


def test_durable_run_pause_list_and_resume(project: Path) -> None:
    paused = rillflow("run", "flows:shipping", "--db", "runs.db", "--run-id", "order-1", cwd=project)
    assert paused.returncode == 0, paused.stderr
    assert "run order-1 paused at Shipping > Ask" in paused.stderr
    assert "rillflow resume flows:shipping order-1 --db runs.db --answer JSON" in paused.stderr

    listed = rillflow("runs", "--db", "runs.db", cwd=project)
    row = next(line for line in listed.stdout.splitlines() if line.startswith("order-1"))
    assert row.split()[1:3] == ["paused", "Shipping"] and row.endswith("Shipping > Ask")

    resumed = rillflow(
        "resume", "flows:shipping", "order-1", "--db", "runs.db", "--answer", '{"ok": true}', cwd=project
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"answer": {"ok": True}}
    done = rillflow("runs", "--db", "runs.db", "--status", "done", cwd=project)
    assert done.stdout.splitlines()[1].split()[:2] == ["order-1", "done"]

    missing = rillflow("resume", "flows:shipping", "nope", "--db", "runs.db", cwd=project)
    assert missing.returncode == 2 and "nope" in missing.stderr and "Traceback" not in missing.stderr


def test_streamed_durable_run_events_carry_the_checkpoint_run_id(project: Path) -> None:
    done = rillflow("run", "flows:shipping", "--db", "runs.db", "--stream", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"kind"')]
    assert [e["kind"] for e in events] == ["run_start", "node_start", "pause", "node_end", "run_end"]
    run_ids = {e["run_id"] for e in events}
    listed = rillflow("runs", "--db", "runs.db", cwd=project).stdout.splitlines()
    assert run_ids == {listed[1].split()[0]}
