"""`rillflow.durable` needs only the standard library (sqlite3 included), checked with no site-packages."""

from __future__ import annotations

from isolated import run_isolated

CODE = """
import tempfile, os
import rillflow
from rillflow import Flow, Node
from rillflow.durable import SQLiteCheckpointer

class Ask(Node):
    def exec(self, prep_res):
        return self.interrupt("ok?")

cp = SQLiteCheckpointer(os.path.join(tempfile.mkdtemp(), "r.db"))
print("status:", Flow(start=Ask()).run({"a": 1}, run_id="r", checkpointer=cp).status)
print("status:", Flow(start=Ask()).resume("r", "yes", checkpointer=cp).status)
"""


def test_durable_runs_work_without_any_third_party_package() -> None:
    assert run_isolated(CODE) == ["status: paused", "status: done", "outside: []"]
