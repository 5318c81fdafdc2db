"""Crash and resume: a parallel batch sends 50 emails; kill it half way, run it again, nothing is sent twice.

    python examples/durable_resume.py --crash-after 20   # dies (exit code 137) after 20 emails
    python examples/durable_resume.py                    # resumes the same run: sends the other 30

A node body runs at least once: an item that was sending when the process died runs again on resume.
So the side effect is made idempotent: each email carries a key derived from the run and the item, and
the mail server (a table here) ignores a key it has seen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import time
from typing import Any

from rillflow import AsyncNode, AsyncParallelBatchFlow
from rillflow.durable import RunBusyError, RunNotFoundError, SQLiteCheckpointer

RUN_ID = "newsletter-2026-11"


class Outbox:
    """Stands in for an email API that accepts an idempotency key."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS sent (key TEXT PRIMARY KEY, address TEXT)")

    def send(self, key: str, address: str) -> bool:
        """True if sent now, False if this key was sent before (a re-run after a crash)."""
        return self.db.execute("INSERT OR IGNORE INTO sent VALUES (?, ?)", (key, address)).rowcount == 1


class SendOne(AsyncNode):
    outbox: Outbox
    crash_after: int | None = None

    async def prep_async(self, shared: dict[str, Any]) -> str:
        return str(self.params["address"])

    async def exec_async(self, address: str) -> bool:
        await asyncio.sleep(0.001)  # the network call
        sent = self.outbox.send(f"{RUN_ID}/{address}", address)
        if self.crash_after is not None and _count(self.outbox) >= self.crash_after:
            os._exit(137)  # die like a SIGKILL: no cleanup, no final save
        return sent

    async def post_async(self, shared: dict[str, Any], address: str, sent: bool) -> None:
        shared["sent"][address] = "sent" if sent else "already sent"


def _count(outbox: Outbox) -> int:
    return int(outbox.db.execute("SELECT count(*) FROM sent").fetchone()[0])


class Newsletter(AsyncParallelBatchFlow):
    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        return [{"address": a} for a in shared["addresses"]]


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="runs.db")
    parser.add_argument("--outbox", default="outbox.db")
    parser.add_argument("--crash-after", type=int)
    args = parser.parse_args(argv)
    SendOne.outbox, SendOne.crash_after = Outbox(args.outbox), args.crash_after
    flow = Newsletter(start=SendOne(), max_concurrency=5)
    # The lease of a run (held while it runs) outlives a crash by up to lease_ttl seconds; 2 s for the demo.
    checkpointer = SQLiteCheckpointer(args.db, lease_ttl=2.0)
    try:
        checkpointer.get(RUN_ID)
        try:
            done = await flow.resume_async(RUN_ID, checkpointer=checkpointer)
        except RunBusyError as busy:  # the crashed process's lease: free once it expires
            print(f"waiting for the lease of {busy.owner} to expire", file=sys.stderr)
            await asyncio.sleep(max(0.0, busy.expires - time.time()) + 0.05)
            done = await flow.resume_async(RUN_ID, checkpointer=checkpointer)
    except RunNotFoundError:
        shared = {"addresses": [f"user{i}@example.com" for i in range(50)], "sent": {}}
        done = await flow.run_async(shared, run_id=RUN_ID, checkpointer=checkpointer)
    print(
        json.dumps(
            {"status": done.status, "recorded": len(done.shared["sent"]), "emails": _count(SendOne.outbox)}
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
