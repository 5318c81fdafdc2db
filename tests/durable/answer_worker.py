"""A paused run answered in a process that dies before the paused node finishes.

    python answer_worker.py DB RUN_ID start|answer|resume [ANSWER]

The node asks, and once it has its answer kills its own process with SIGKILL if the file DB.crash exists
(removing it first, so the next process gets through).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from rillflow import Flow, Node
from rillflow.durable import SQLiteCheckpointer


class Ship(Node):
    crash_file = ""

    def exec(self, prep_res: Any) -> Any:
        answer = self.interrupt({"question": "ship it?"})
        if os.path.exists(self.crash_file):
            os.remove(self.crash_file)
            os.kill(os.getpid(), signal.SIGKILL)  # dies with the answer in hand, before the node ends
        return answer

    def post(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> None:
        shared["answer"] = answer


def main() -> None:
    db, run_id, command = sys.argv[1:4]
    Ship.crash_file = db + ".crash"
    cp = SQLiteCheckpointer(db, lease_ttl=0.2)
    flow = Flow(start=Ship(), name="Shipping")
    if command == "start":
        outcome = flow.run({}, run_id=run_id, checkpointer=cp)
    elif command == "answer":
        outcome = flow.resume(run_id, sys.argv[4], checkpointer=cp)
    else:
        outcome = flow.resume(run_id, checkpointer=cp)
    print(outcome.status, outcome.shared, flush=True)


if __name__ == "__main__":
    main()
