"""A database for `rillflow ui`: one paused, one failed and one finished run of a small publishing flow.

    python examples/ui_demo.py --db demo-runs.db                 # creates the runs, prints what it made
    rillflow ui examples/ui_demo.py:flow --db demo-runs.db       # then open the printed address

In the UI: answer the paused run (it resumes and finishes), look at the failed run's red node and its
error, open any step's diff, or fork a run from a step with other values.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from rillflow import Flow, Node
from rillflow.durable import SQLiteCheckpointer

warnings.filterwarnings("ignore", message="Flow ends")


class Draft(Node):
    """Writes a draft, then revises it until it has had ``revisions`` passes (a loop in the diagram)."""

    def prep(self, shared: dict[str, Any]) -> Any:
        return shared["topic"], len(shared.get("drafts", []))

    def exec(self, inputs: tuple[str, int]) -> str:
        topic, n = inputs
        return f"{topic}: draft {n + 1}"

    def post(self, shared: dict[str, Any], inputs: Any, draft: str) -> str:
        shared.setdefault("drafts", []).append(draft)
        return "revise" if len(shared["drafts"]) < shared.get("revisions", 2) else "review"


class Review(Node):
    """Asks a human before publishing, unless ``auto_approve`` is set."""

    def prep(self, shared: dict[str, Any]) -> Any:
        return shared["drafts"][-1], shared.get("auto_approve", False)

    def exec(self, inputs: tuple[str, bool]) -> Any:
        draft, auto = inputs
        if auto:
            return "yes"
        return self.interrupt({"question": "Publish this draft?", "draft": draft})

    def post(self, shared: dict[str, Any], inputs: Any, answer: Any) -> str:
        shared["approved"] = answer == "yes"
        return "publish" if shared["approved"] else "drop"


class Publish(Node):
    def prep(self, shared: dict[str, Any]) -> Any:
        return shared["drafts"][-1], shared.get("channel", "blog")

    def exec(self, inputs: tuple[str, str]) -> str:
        draft, channel = inputs
        if channel == "offline":
            raise ConnectionError(f"cannot reach the {channel!r} channel")
        return f"published on {channel}: {draft}"

    def post(self, shared: dict[str, Any], inputs: Any, receipt: str) -> None:
        shared["receipt"] = receipt


class Drop(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["receipt"] = "dropped"


def build() -> Flow:
    draft, review, publish = Draft(), Review(), Publish()
    draft - "revise" >> draft
    draft - "review" >> review
    review - "publish" >> publish
    review - "drop" >> Drop()
    return Flow(start=draft, name="Publishing")


flow = build()  # `rillflow ui examples/ui_demo.py:flow` loads this


def make_runs(db: str | Path) -> dict[str, str]:
    """Store the three demo runs in ``db`` (replacing earlier ones); returns run id -> status."""
    cp = SQLiteCheckpointer(db)
    runs = {
        # a shared value that looks like HTML: the UI shows it as text
        "paused-1": {"topic": "<script>alert('hi')</script> release notes"},
        "failed-1": {"topic": "outage report", "auto_approve": True, "channel": "offline"},
        "done-1": {"topic": "weekly digest", "auto_approve": True, "revisions": 3},
    }
    statuses: dict[str, str] = {}
    for run_id, shared in runs.items():
        cp.delete(run_id)
        try:
            outcome = build().run(shared, run_id=run_id, checkpointer=cp)
            statuses[run_id] = outcome.status
        except ConnectionError:
            statuses[run_id] = "failed"
    cp.close()
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", default="demo-runs.db", help="the SQLite file to write (default demo-runs.db)"
    )
    args = parser.parse_args()
    print(json.dumps(make_runs(args.db)))
    print(f"now run: rillflow ui {Path(__file__).as_posix()}:flow --db {args.db}")


if __name__ == "__main__":
    # Stored runs name their nodes' classes; `rillflow ui examples/ui_demo.py:flow` loads this file as the
    # module `ui_demo`, so the runs are made by that module too, not by `__main__`.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    importlib.import_module("ui_demo").main()
