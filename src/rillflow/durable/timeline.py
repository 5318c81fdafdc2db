"""A run's step history as text: ``rillflow runs show RUN_ID`` prints it."""

from __future__ import annotations

import json
import time
from typing import Any

from .checkpointer import Checkpointer
from .history import history


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration_text(seconds: float) -> str:
    return f"{seconds * 1e6:.0f}µs" if seconds < 0.001 else f"{seconds * 1000:.1f}ms"


def timeline(checkpointer: Checkpointer, run_id: str) -> str:
    """The run's header line and one line per step: kind, node path, action, duration, what changed."""
    info = checkpointer.get(run_id)
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info.created))
    lines = [f"run {run_id}  flow {info.flow}  status {info.status}  steps {info.steps}  started {started}"]
    if info.error:
        lines.append(f"error: {info.error}")
    lines.append(f"{'STEP':>5}  {'KIND':<7} {'NODE':<30} {'ACTION':<10} {'TIME':>9}  CHANGES")
    for step in history(checkpointer, run_id):
        changes = [f"{k}={_short(v)}" for k, v in step.changed.items()] + [f"-{k}" for k in step.removed]
        if step.note.get("forked_from"):
            changes.insert(0, f"(forked from {step.note['forked_from']} step {step.note.get('step')})")
        if step.retries:
            changes.append(f"retries={step.retries}")
        if step.error:
            changes.append(f"error={step.error}")
        took = "" if step.duration is None else duration_text(step.duration)
        node = " > ".join(step.path)
        action = step.action or ""
        line = f"{step.step:>5}  {step.kind:<7} {node:<30} {action:<10} {took:>9}  {' '.join(changes)}"
        lines.append(line.rstrip())
    return "\n".join(lines)
