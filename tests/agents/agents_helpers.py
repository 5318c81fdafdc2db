"""Helpers shared by the agent tests: scripted tool-call replies and interval checks."""

from __future__ import annotations

import json
from typing import Any

from rillflow.llm import Reply, ToolCall


def tool_calls(*calls: tuple[str, Any]) -> Reply:
    """A native reply asking for ``calls`` (name, arguments dict or raw JSON text), ids c1, c2, ..."""
    return Reply(
        text="",
        finish_reason="tool_calls",
        tool_calls=tuple(
            ToolCall(f"c{i}", name, args if isinstance(args, str) else json.dumps(args))
            for i, (name, args) in enumerate(calls, 1)
        ),
    )


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when the two (start, end) intervals overlap."""
    return max(a[0], b[0]) < min(a[1], b[1])
