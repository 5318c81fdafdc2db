"""Fixtures for the MCP tests: the test server's script, started over stdio, streamable HTTP or SSE."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(SERVER), flag, f"127.0.0.1:{port}", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the MCP test server did not start") from None
                time.sleep(0.1)
        yield f"{scheme}://127.0.0.1:{port}{path}"
    finally:
        process.terminate()
        process.wait(timeout=30)
