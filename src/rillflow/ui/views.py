"""What the UI shows, as plain JSON-ready data: the run list, one run, its history, its state at a step.

The JSON API returns these dicts as they are, and the HTML pages are rendered from them, so the page and
the API never disagree. Values of ``shared`` are decoded with the run's serializer and shown as JSON
(what JSON cannot hold, by its ``repr``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..durable import Checkpointer, DurableError, RunInfo, history, state_at
from ..durable.serialize import serializer_for
from ..durable.state import decode, split_entries


def jsonable(value: Any) -> Any:
    """``value`` with anything JSON cannot hold replaced by its repr (tuples become lists)."""
    return json.loads(json.dumps(value, default=repr))


def run_summary(info: RunInfo, now: float | None = None) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "status": info.status,
        "flow": info.flow,
        "steps": info.steps,
        "created": info.created,
        "updated": info.updated,
        "age": (now or time.time()) - info.created,
        "error": info.error,
        "pause_path": list(info.pause_path) if info.pause_path else None,
    }


def run_list(cp: Checkpointer, status: str | None = None, query: str = "") -> list[dict[str, Any]]:
    """Runs, newest first; ``status`` keeps one status, ``query`` keeps runs whose id, flow or error
    contains it (case-insensitive)."""
    runs = cp.list_runs(status if status else None)  # type: ignore[arg-type]
    needle = query.strip().lower()
    now = time.time()
    return [
        run_summary(r, now)
        for r in runs
        if not needle or needle in f"{r.run_id}\n{r.flow}\n{r.error or ''}".lower()
    ]


def run_detail(cp: Checkpointer, run_id: str) -> dict[str, Any]:
    """One run: its summary, the question it paused with, where it is (marks), its current ``shared``,
    and its step history."""
    stored = cp.load(run_id)
    record = stored.record
    out = run_summary(record.info())
    out["shape"] = record.shape
    out["serializer"] = record.serializer
    out["problem"] = None
    saved, state = split_entries(stored.entries, run_id)
    steps: list[dict[str, Any]] = []
    try:
        steps = [jsonable(s.to_dict()) for s in history(cp, run_id)]
    except DurableError as exc:  # no history kept, or values this server cannot decode (pickle)
        out["problem"] = str(exc)
    out["history"] = steps
    loads = _loads(record.serializer)
    out["payload"] = None
    out["shared"] = None
    if loads is not None:
        try:
            out["shared"] = jsonable({k: decode(v, loads, k, run_id) for k, v in saved.items()})
            if record.progress.payload is not None:
                out["payload"] = jsonable(decode(record.progress.payload, loads, "payload", run_id))
        except DurableError as exc:
            out["problem"] = str(exc)
    out["marks"] = _marks(record.progress.status, record.progress.pause_path, state.positions, steps)
    if not out["marks"] and record.progress.status == "running":  # not one step yet: at the start node
        out["marks"] = {"current": _start_path(record.shape)}
    out["fingerprint"] = record.fingerprint
    return out


def _start_path(shape_text: str) -> list[str]:
    try:
        shape = json.loads(shape_text)
        top = next(iter(shape))
        first = next((p for p in shape if p.startswith(top + " > ")), top)
    except (ValueError, StopIteration, TypeError):
        return []
    return str(first).split(" > ")


def version(cp: Checkpointer, run_id: str | None = None) -> str:
    """What changes when the run (or, without ``run_id``, any run) changes: pages carry it, and the event
    stream sends it, so a page reloads only when there is something new."""
    if run_id is not None:
        info = cp.get(run_id)
        return json.dumps([info.status, info.steps, info.updated])
    runs = cp.list_runs()
    return json.dumps([len(runs), max((r.updated for r in runs), default=0.0)])


def state_detail(cp: Checkpointer, run_id: str, step: int) -> dict[str, Any]:
    return {"run_id": run_id, "step": step, "shared": jsonable(state_at(cp, run_id, step))}


def _loads(serializer: str) -> Any:
    try:
        return serializer_for(serializer, None).loads
    except DurableError:  # pickle is never loaded unless asked for: loading it runs code
        return None


def _marks(
    status: str,
    pause_path: tuple[str, ...] | None,
    positions: dict[tuple[str, ...], tuple[str, int]],
    steps: list[dict[str, Any]],
) -> dict[str, list[str]]:
    if status == "paused" and pause_path:
        return {"paused": list(pause_path)}
    if status == "failed":
        failed = next((s for s in reversed(steps) if s["kind"] == "failed"), None)
        if failed is not None and failed["path"]:
            return {"failed": failed["path"]}
    if positions and status in ("running", "failed"):
        flow_path, (next_key, _) = max(positions.items(), key=lambda item: len(item[0]))
        return {"failed" if status == "failed" else "current": [*flow_path, next_key]}
    if steps and steps[-1]["path"]:
        return {"last": steps[-1]["path"]}
    return {}
