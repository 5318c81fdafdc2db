"""Fixtures for the MCP tests: the test server's script, started over stdio, streamable HTTP or SSE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_server import serve_script

pytest.importorskip("mcp")

SERVER = Path(__file__).resolve().parent / "mcp_server.py"


@pytest.fixture
def http_url() -> Iterator[str]:
    """The test server on streamable HTTP at 127.0.0.1 (a free port), stopped after the test."""
    yield from serve("--http", "/mcp")


@pytest.fixture
def sse_url() -> Iterator[str]:
    """The test server on HTTP+SSE at 127.0.0.1 (a free port), stopped after the test."""
    yield from serve("--sse", "/sse")


def serve(flag: str, path: str, *extra: str, scheme: str = "http") -> Iterator[str]:
    with serve_script(SERVER, [flag, *extra], f"{scheme}://127.0.0.1:{{port}}{path}") as url:
        yield url
