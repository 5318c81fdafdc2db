"""A test server script started as a subprocess on 127.0.0.1 (a free port), waited for, and stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def serve_script(
    script: Path, args: Sequence[str], url: str, *, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Run ``python script *args 127.0.0.1:PORT`` until the port answers; yield ``url`` with ``{port}``
    filled in; terminate the server afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(script), *args[:1], f"127.0.0.1:{port}", *args[1:]],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(env) if env is not None else None,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the test server {script.name} did not start") from None
                time.sleep(0.1)
        yield url.format(port=port)
    finally:
        process.terminate()
        process.wait(timeout=30)
