"""Only what changed in `shared` is stored, and storage grows with the changes, not with the state."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from rillflow import Flow, Node
from rillflow.durable import JSONSerializer, SQLiteCheckpointer
from rillflow.durable.diff import SharedTracker


def test_reports_changed_added_and_deleted_keys_only() -> None:
    t = SharedTracker(JSONSerializer())
    shared: dict[str, Any] = {"a": 1, "b": [1, 2], "c": {"x": "y"}}
    assert set(t.changes(shared)) == {"a", "b", "c"}
    assert t.changes(shared) == {}
    shared["b"].append(3)  # changed in place
    shared["d"] = "new"
    del shared["a"]
    assert t.changes(shared) == {"b": b"[1,2,3]", "d": b'"new"', "a": None}
    assert t.changes(shared) == {}


@pytest.mark.parametrize(
    "before, after",
    [
        ([1, 2], [True, 2]),  # equal under ==, different data
        ([1], [1.0]),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),  # same items, another order
        ({"k": (1, 2)}, {"k": [1, 2]}),
    ],
)
def test_changes_that_compare_equal_are_still_seen(before: Any, after: Any) -> None:
    t = SharedTracker(JSONSerializer())
    t.changes({"v": before})
    changed = t.changes({"v": after})
    assert JSONSerializer().loads(changed["v"]) == after
    assert type(JSONSerializer().loads(changed["v"])) is type(after)


def test_a_restored_tracker_reports_nothing_until_something_changes() -> None:
    s = JSONSerializer()
    values = {"a": [1, {"b": 2}], "t": "text"}
    saved = {k: s.dumps(v) for k, v in values.items()}
    t = SharedTracker(s)
    t.restore(saved, values)
    assert t.changes(values) == {}
    values["a"][1]["b"] = 3
    assert t.changes(values) == {"a": b'[1,{"b":3}]'}


class Tick(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["counter"] += 1
        return "again" if shared["counter"] < shared["steps"] else "stop"


def db_bytes(tmp_path: Path, steps: int, history: bool = True) -> int:
    db = tmp_path / f"{steps}.db"
    tick = Tick()
    tick - "again" >> tick
    tick - "stop" >> Node()
    shared = {"docs": [f"{i:03d}" + "x" * 997 for i in range(100)], "counter": 0, "steps": steps}
    cp = SQLiteCheckpointer(db, history=history)
    Flow(start=tick).run(shared, run_id="r", checkpointer=cp)
    cp.close()
    with sqlite3.connect(db) as raw:  # fold the WAL into the file so its size is the data's
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith(f"{steps}.db"))


def test_database_size_follows_the_changes_not_the_state(tmp_path: Path) -> None:
    small, large = db_bytes(tmp_path, 20, history=False), db_bytes(tmp_path, 400, history=False)
    assert small < 200_000  # one copy of the 100 KB state, plus the SQLite pages around it
    assert large - small < 20_000  # 380 more steps changed one small key each: no copy of the state


def test_step_history_grows_with_the_changes_not_the_state(tmp_path: Path) -> None:
    small, large = db_bytes(tmp_path, 20), db_bytes(tmp_path, 400)
    assert small < 330_000  # the current state plus step 0 (the state the run started from)
    assert (large - small) / 380 < 400  # a small record per step; a copy of the state would be 100 KB
