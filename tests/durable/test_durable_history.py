"""Step history: the state rebuilt at every step is the state the run had there, also across a crash;
retention keeps it bounded; a run without history says so."""

from __future__ import annotations

import copy
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rillflow import Flow, Node
from rillflow.durable import (
    DurableError,
    MemoryCheckpointer,
    SQLiteCheckpointer,
    history,
    state_at,
)
from rillflow.durable.checkpointer import Checkpointer
from rillflow.hooks import Path as NodePath
from rillflow.hooks import RunHooks

pytestmark = pytest.mark.filterwarnings("ignore:Flow ends")
WORKER = Path(__file__).with_name("crash_worker.py")


class Snapshots(RunHooks):
    """What the run saw: ``shared`` after every step, numbered as the durable run numbers them."""

    def __init__(self) -> None:
        self.seen: dict[int, dict[str, Any]] = {}
        self.count = 0

    def on_step(self, flow: Any, path: NodePath, next_key: str | None, steps: int, shared: Any) -> None:
        self.count += 1
        self.seen[self.count] = copy.deepcopy(shared)


class Add(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["log"] = [*shared.get("log", []), self.params.get("tag", type(self).__name__)]
        shared["n"] = shared.get("n", 0) + 1
        if shared["n"] == 3:
            shared.pop("temp", None)  # a removal is a change too
        return "again" if shared["n"] < 4 else "out"


class Tail(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["tail"] = True


def nested_flow() -> Flow:
    inner_a, inner_b = Add(), Tail()
    inner_a - "again" >> inner_a
    inner_a - "out" >> inner_b
    sub = Flow(start=inner_a, name="Sub")
    head, last = Tail(), Tail()
    head >> sub >> last
    return Flow(start=head, name="Top")


@pytest.mark.parametrize("durability", ["sync", "async"])
@pytest.mark.parametrize("store", ["sqlite", "memory"])
def test_state_at_every_step_is_what_the_run_saw(tmp_path: Path, durability: Any, store: str) -> None:
    cp: Checkpointer = SQLiteCheckpointer(tmp_path / "h.db") if store == "sqlite" else MemoryCheckpointer()
    seen = Snapshots()
    start = {"temp": "x", "big": list(range(50))}
    out = nested_flow().run(
        copy.deepcopy(start), run_id="r", checkpointer=cp, durability=durability, hooks=seen
    )
    steps = history(cp, "r")
    assert steps[0].kind == "start" and steps[0].step == 0
    assert state_at(cp, "r", 0) == start
    assert steps[-1].kind == "done" and state_at(cp, "r", steps[-1].step) == out.shared
    for step in steps[1:]:
        assert state_at(cp, "r", step.step) == seen.seen[step.step], step
    # Each step lists only what it changed: `big` is in step 0 and nowhere else.
    assert all("big" not in s.changed for s in steps[1:])
    assert any(s.removed == ["temp"] for s in steps)
    sub_steps = [s for s in steps if s.path[:2] == ("Top", "Sub")]
    assert sub_steps and all(s.duration is not None for s in sub_steps)


def test_a_step_records_node_action_and_retries(tmp_path: Path) -> None:
    class Flaky(Node):
        def __init__(self) -> None:
            super().__init__(max_retries=3)
            self.calls = 0

        def exec(self, prep_res: Any) -> str:
            self.calls += 1
            if self.calls < 3:
                raise RuntimeError("not yet")
            return "ok"

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: str) -> str:
            shared["result"] = exec_res
            return "next"

    flaky = Flaky()
    flaky - "next" >> Tail()
    cp = SQLiteCheckpointer(tmp_path / "h.db")
    Flow(start=flaky, name="F").run({}, run_id="r", checkpointer=cp)
    step = history(cp, "r")[1]
    assert (step.kind, step.path, step.action, step.retries) == ("step", ("F", "Flaky"), "next", 2)
    assert step.changed == {"result": "ok"}


def test_a_failure_and_a_pause_are_steps_and_the_run_goes_on_after(tmp_path: Path) -> None:
    class Ask(Node):
        def exec(self, prep_res: Any) -> Any:
            return self.interrupt("ok?")

        def post(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
            if shared.get("boom"):
                raise ValueError("boom")
            shared["answer"] = answer

    cp = SQLiteCheckpointer(tmp_path / "h.db")
    flow = Flow(start=Ask(), name="F")
    flow.run({"boom": True}, run_id="r", checkpointer=cp)
    with pytest.raises(ValueError):
        flow.resume("r", "yes", checkpointer=cp)
    kinds = [(s.kind, s.error) for s in history(cp, "r")]
    assert kinds == [("start", None), ("paused", None), ("failed", "ValueError: boom")]


def test_history_after_crashes_and_resumes(tmp_path: Path) -> None:
    """A real SIGKILL at random moments: every recorded step still rebuilds to the state at that step."""
    db, run_id, marks = tmp_path / "crash.db", "loop-1", tmp_path / "marks"
    rng = random.Random(12)
    cmd = [sys.executable, str(WORKER), "loop", str(db), run_id, str(marks)]
    for _ in range(4):
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait()
    subprocess.run(cmd, check=True, capture_output=True)
    cp = SQLiteCheckpointer(db)
    steps = history(cp, run_id)
    numbers = [s.step for s in steps]
    assert numbers == list(range(len(numbers)))  # no step lost or written twice
    for step in steps:
        shared = state_at(cp, run_id, step.step)
        if step.kind == "done":
            assert shared == {"n": 150, "history": list(range(150)), "finished": True}
        else:
            assert shared == {"n": step.step, "history": list(range(step.step))}


@pytest.mark.parametrize("store", ["sqlite", "memory"])
def test_keep_steps_keeps_the_last_steps_rebuildable(tmp_path: Path, store: str) -> None:
    cp: Checkpointer = (
        SQLiteCheckpointer(tmp_path / "h.db", keep_steps=2)
        if store == "sqlite"
        else MemoryCheckpointer(keep_steps=2)
    )
    seen = Snapshots()
    out = nested_flow().run({}, run_id="r", checkpointer=cp, hooks=seen)
    steps = history(cp, "r")
    assert len(steps) == 3 and steps[0].note.get("base") is True  # a base and the last two
    for step in steps:
        expected = out.shared if step.kind == "done" else seen.seen[step.step]
        assert state_at(cp, "r", step.step) == expected
    with pytest.raises(DurableError, match="trimmed"):
        state_at(cp, "r", 0)


def test_history_goes_with_its_run(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "h.db", keep_runs=1)
    for run_id in ("a", "b"):
        nested_flow().run({}, run_id=run_id, checkpointer=cp)
    assert cp.load_history("a") == []  # pruned with its run (keep_runs=1)
    assert cp.load_history("b")
    cp.delete("b")
    assert cp.load_history("b") == []


def test_without_history_the_question_is_answered_clearly(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "h.db", history=False)
    nested_flow().run({}, run_id="r", checkpointer=cp)
    with pytest.raises(DurableError, match="no step history"):
        history(cp, "r")


def test_a_step_outside_the_history_is_refused(tmp_path: Path) -> None:
    cp = SQLiteCheckpointer(tmp_path / "h.db")
    nested_flow().run({}, run_id="r", checkpointer=cp)
    with pytest.raises(DurableError, match="has steps 0 to"):
        state_at(cp, "r", 999)


def test_runs_show_prints_the_timeline(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    nested_flow().run({}, run_id="r", checkpointer=SQLiteCheckpointer(db))
    cmd = [sys.executable, "-m", "rillflow.cli", "runs", "show", "r", "--db", str(db)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    assert lines[0].startswith("run r  flow Top  status done")
    assert any("Top > Sub > Add" in line and "again" in line and 'log=["Add"]' in line for line in lines)
    missing = subprocess.run([*cmd[:5], "nope", "--db", str(db)], capture_output=True, text=True)
    assert missing.returncode == 2 and "no stored run" in missing.stderr


def test_a_run_started_without_history_cannot_be_rebuilt_but_is_listed(tmp_path: Path) -> None:
    class Ask(Node):
        def exec(self, prep_res: Any) -> Any:
            return self.interrupt("ok?")

        def post(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> str:
            shared["answer"] = answer
            return "next"

    ask = Ask()
    ask - "next" >> Tail()
    db = tmp_path / "h.db"
    Flow(start=ask, name="F").run({}, run_id="r", checkpointer=SQLiteCheckpointer(db, history=False))
    cp = SQLiteCheckpointer(db)
    Flow(start=ask, name="F").resume("r", "yes", checkpointer=cp)
    assert [s.kind for s in history(cp, "r")] == ["step", "done"]
    with pytest.raises(DurableError, match="started before its history was recorded"):
        state_at(cp, "r", 2)
