"""A durable run for the lease tests, started in its own process.

    python lease_worker.py DB RUN_ID start|resume GATE

Its node prints "working" and waits until the file GATE exists. A resume that finds the run busy prints
"busy OWNER EXPIRES" and exits with status 3.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from rillflow import Flow, Node
from rillflow.durable import RunBusyError, SQLiteCheckpointer

LEASE_TTL = 1.0


class Wait(Node):
    def prep(self, shared: dict[str, Any]) -> str:
        return str(shared["gate"])

    def exec(self, gate: str) -> None:
        print("working", flush=True)
        while not os.path.exists(gate):
            time.sleep(0.02)

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["visits"] = shared.get("visits", 0) + 1


def main() -> int:
    db, run_id, mode, gate = sys.argv[1:5]
    cp = SQLiteCheckpointer(db, lease_ttl=LEASE_TTL)
    flow = Flow(start=Wait())
    try:
        if mode == "start":
            outcome = flow.run({"gate": gate}, run_id=run_id, checkpointer=cp)
        else:
            outcome = flow.resume(run_id, checkpointer=cp)
    except RunBusyError as busy:
        print(f"busy {busy.owner} {busy.expires}", flush=True)
        return 3
    print(outcome.status, outcome.shared["visits"], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
