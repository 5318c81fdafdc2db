"""Human in the loop across processes: a refund flow pauses for approval; a later process resumes it.

python examples/durable_approval.py start --db runs.db          # prints the run id and the question
python examples/durable_approval.py resume RUN_ID yes --db runs.db
python examples/durable_approval.py list --db runs.db
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rillflow import Flow, Node
from rillflow.durable import Paused, SQLiteCheckpointer


class Draft(Node):
    def prep(self, shared: dict[str, Any]) -> Any:
        return shared["order"]

    def exec(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"order": order["id"], "amount": order["total"], "reason": "damaged on arrival"}

    def post(self, shared: dict[str, Any], prep_res: Any, refund: dict[str, Any]) -> None:
        shared["refund"] = refund


class Approve(Node):
    """Pauses the run: the question goes to a human; on resume, interrupt() returns their answer."""

    def prep(self, shared: dict[str, Any]) -> Any:
        return shared["refund"]

    def exec(self, refund: dict[str, Any]) -> Any:
        return self.interrupt({"question": f"Refund {refund['amount']} for order {refund['order']}?"})

    def post(self, shared: dict[str, Any], prep_res: Any, answer: Any) -> str:
        shared["approved"] = answer == "yes"
        return "send" if shared["approved"] else "drop"


class Send(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        # Idempotent side effect: the outbox is keyed by order, so running this twice sends one refund.
        shared.setdefault("outbox", {})[str(shared["refund"]["order"])] = shared["refund"]["amount"]


class Drop(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["outbox"] = {}


def build() -> Flow:
    """Built the same way in every process, so a stored run fits it."""
    draft, approve = Draft(), Approve()
    draft >> approve
    approve - "send" >> Send()
    approve - "drop" >> Drop()
    return Flow(start=draft, name="Refund")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "resume", "list"])
    parser.add_argument("run_id", nargs="?")
    parser.add_argument("answer", nargs="?")
    parser.add_argument("--db", default="runs.db")
    args = parser.parse_args(argv)
    checkpointer = SQLiteCheckpointer(args.db)
    flow = build()
    if args.command == "list":
        for run in checkpointer.list_runs():
            print(run.run_id, run.status, run.steps)
        return
    if args.command == "start":
        outcome = flow.run({"order": {"id": 7, "total": 30}}, run_id=args.run_id, checkpointer=checkpointer)
    else:
        outcome = flow.resume(args.run_id, args.answer, checkpointer=checkpointer)
    if isinstance(outcome, Paused):
        print(json.dumps({"paused": outcome.run_id, "question": outcome.payload["question"]}))
    else:
        print(json.dumps({"done": outcome.run_id, "outbox": outcome.shared.get("outbox")}))


if __name__ == "__main__":
    main()
