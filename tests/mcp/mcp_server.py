"""A small MCP server for the tests: stdio by default, streamable HTTP with ``--http HOST:PORT``, HTTP+SSE
with ``--sse HOST:PORT``; ``--tls-http``/``--tls-sse HOST:PORT DIR`` serve HTTPS that requires a client
certificate (mutual TLS) with DIR's server.crt, server.key and ca.crt."""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("test-tools")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def shout(text: str, times: int = 1) -> str:
    """Upper-case the text, repeated."""
    return " ".join([text.upper()] * times)


@server.tool()
def fail(reason: str) -> str:
    """Always fails, with the reason."""
    raise ToolError(f"cannot do it: {reason}")


@server.tool()
async def slow(seconds: float) -> str:
    """Sleeps, then answers."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
def header(name: str, ctx: Context) -> str:
    """The value of an HTTP header of the request ("none" over stdio or when absent)."""
    return (ctx.headers or {}).get(name.lower(), "none")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        host, port = sys.argv[2].rsplit(":", 1)
        server.run("streamable-http", host=host, port=int(port))
    elif len(sys.argv) == 3 and sys.argv[1] == "--sse":
        host, port = sys.argv[2].rsplit(":", 1)
        server.run("sse", host=host, port=int(port))
    elif len(sys.argv) == 4 and sys.argv[1] in ("--tls-http", "--tls-sse"):
        import ssl

        import uvicorn

        host, port = sys.argv[2].rsplit(":", 1)
        certs = sys.argv[3]
        app = (
            server.sse_app(host=host) if sys.argv[1] == "--tls-sse" else server.streamable_http_app(host=host)
        )
        uvicorn.run(
            app,
            host=host,
            port=int(port),
            log_level="warning",
            ssl_certfile=f"{certs}/server.crt",
            ssl_keyfile=f"{certs}/server.key",
            ssl_ca_certs=f"{certs}/ca.crt",
            ssl_cert_reqs=ssl.CERT_REQUIRED,
        )
    else:
        server.run()
