"""The MCP example server for the Agent Spec tests: over SSE or streamable HTTP on 127.0.0.1, or stdio."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local_server import serve_script

SERVER = Path(__file__).resolve().parent / "mcp_example_server.py"
PATHS = {"--sse": "/sse", "--http": "/mcp"}


@contextmanager
def serving(flag: str, log: Path | None = None) -> Iterator[str]:
    """The example server with ``--sse`` or ``--http`` on a free port; yields its URL, stops it after."""
    env = {**os.environ, "MCP_EXAMPLE_LOG": str(log)} if log else None
    with serve_script(SERVER, [flag], f"http://127.0.0.1:{{port}}{PATHS[flag]}", env=env) as url:
        yield url


def stdio_transport(log: Path | None = None) -> dict[str, Any]:
    """An Agent Spec StdioTransport that starts the example server (for ``mcp_servers=``)."""
    return {
        "component_type": "StdioTransport",
        "name": "example server",
        "command": sys.executable,
        "args": [str(SERVER)],
        "env": {"MCP_EXAMPLE_LOG": str(log)} if log else None,
    }


def logged(log: Path) -> list[dict[str, Any]]:
    """The calls the server logged."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def gone(pid: int) -> bool:
    """True when the process ``pid`` no longer exists (stopped and reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
