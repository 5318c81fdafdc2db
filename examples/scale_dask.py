"""Chunk and "embed" documents on a Dask cluster, as a durable run: the flow's code does not change.

    python examples/scale_dask.py                        # a local cluster of 2 worker processes, SQLite
    python examples/scale_dask.py --address tcp://scheduler:8786 --postgres postgresql://u@db/runs

Each chunk's embedding (a stand-in for a CPU model: a hashed bag of words, made slow on purpose) runs on
a Dask worker; prep, post, retries, progress and the per-chunk checkpoint records stay in this process.
Run it again with the same ``--run-id`` after killing it: only the chunks not yet recorded run again.
The node classes live in this script (``__main__``): cloudpickle sends them to workers that never saw it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from rillflow import AsyncFlow, AsyncParallelBatchNode, Node
from rillflow.durable import Checkpointer, PostgresCheckpointer, RunNotFoundError, SQLiteCheckpointer
from rillflow.executors import DaskExecutor

DOCS = Path(__file__).parent / "data" / "docs"
DIMENSIONS = 16


class LoadDocs(Node):
    """Splits each document into chunks of 60 words (here, in the calling process)."""

    def prep(self, shared: dict[str, Any]) -> list[Path]:
        return sorted(Path(shared["docs_dir"]).glob("*.md"))

    def post(self, shared: dict[str, Any], paths: list[Path], _: Any) -> str:
        chunks = []
        for path in paths:
            words = path.read_text().split()
            starts = range(0, len(words), 60)
            chunks += [{"doc": path.stem, "text": " ".join(words[i : i + 60])} for i in starts]
        shared["chunks"] = chunks
        return "default"


class Embed(AsyncParallelBatchNode):
    """One chunk per item, on the executor's workers; up to 3 attempts each."""

    async def prep_async(self, shared: dict[str, Any]) -> list[dict[str, str]]:
        return list(shared["chunks"])

    def exec(self, chunk: dict[str, str]) -> dict[str, Any]:
        vector = [0.0] * DIMENSIONS
        for word in chunk["text"].lower().split():
            digest = word.encode()
            for _ in range(200):  # CPU work standing in for a local embedding model
                digest = hashlib.blake2b(digest, digest_size=8).digest()
            vector[digest[0] % DIMENSIONS] += 1.0
        norm = sum(v * v for v in vector) ** 0.5 or 1.0
        return {"doc": chunk["doc"], "vector": [round(v / norm, 4) for v in vector], "worker": os.getpid()}

    async def post_async(self, shared: dict[str, Any], chunks: Any, embedded: list[dict[str, Any]]) -> str:
        shared["embedded"] = embedded
        return "default"


def build(executor: Any) -> AsyncFlow:
    load = LoadDocs()
    load >> Embed(max_retries=3, executor=executor, max_concurrency=64)
    return AsyncFlow(start=load, name="EmbedDocs")


def store(postgres: str | None, db: str) -> Checkpointer:
    return PostgresCheckpointer(postgres) if postgres else SQLiteCheckpointer(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="a Dask scheduler to use (default: start a local cluster)")
    parser.add_argument("--workers", type=int, default=2, help="local cluster size (without --address)")
    parser.add_argument("--postgres", help="a PostgreSQL URL for the runs (default: SQLite --db)")
    parser.add_argument("--db", default="scale_runs.db")
    parser.add_argument("--run-id", default="embed-docs")
    parser.add_argument("--docs", default=str(DOCS))
    args = parser.parse_args()
    checkpointer = store(args.postgres, args.db)
    cluster = DaskExecutor(args.address) if args.address else DaskExecutor(n_workers=args.workers)
    with cluster as executor, checkpointer:
        flow = build(executor)
        try:
            checkpointer.get(args.run_id)
            outcome = flow.resume(args.run_id, checkpointer=checkpointer)
        except RunNotFoundError:
            shared = {"docs_dir": args.docs}
            outcome = flow.run(shared, run_id=args.run_id, checkpointer=checkpointer)
        workers = set(executor.worker_pids().values())
    embedded = outcome.shared["embedded"]
    summary = {
        "status": outcome.status,
        "chunks": len(embedded),
        "docs": len({e["doc"] for e in embedded}),
        "on_workers": {e["worker"] for e in embedded} <= workers and os.getpid() not in workers,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
