"""`rillflow.durable` needs only the standard library (sqlite3 included), checked with no site-packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rillflow

SRC = Path(rillflow.__file__).resolve().parent.parent

PROBE = """
import sys, tempfile, os
sys.path.insert(0, {src!r})
before = set(sys.modules)
import rillflow
from rillflow import Flow, Node
from rillflow.durable import SQLiteCheckpointer

class Ask(Node):
    def exec(self, prep_res):
        return self.interrupt("ok?")

cp = SQLiteCheckpointer(os.path.join(tempfile.mkdtemp(), "r.db"))
print("status:", Flow(start=Ask()).run({{"a": 1}}, run_id="r", checkpointer=cp).status)
print("status:", Flow(start=Ask()).resume("r", "yes", checkpointer=cp).status)
loaded = {{m.split(".")[0] for m in set(sys.modules) - before}}
print("outside:", sorted(m for m in loaded if m not in set(sys.stdlib_module_names) | {{"rillflow"}}))
"""


def test_durable_runs_work_without_any_third_party_package() -> None:
    out = subprocess.run(
        [sys.executable, "-S", "-I", "-c", PROBE.format(src=str(SRC))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.splitlines() == ["status: paused", "status: done", "outside: []"]
