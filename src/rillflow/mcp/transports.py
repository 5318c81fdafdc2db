"""MCP servers over HTTP that need more than a URL: SSE, headers, mutual TLS.

``mcp.Client`` takes a bare URL for streamable HTTP; an :class:`HTTPServer` describes the rest, and
:func:`client_target` turns it into a fresh SDK transport for each connection (a transport is entered
once). The SDK and its ``httpx2`` are imported only then.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

HTTPKind = Literal["streamable-http", "sse"]
CONNECT_SECONDS, READ_SECONDS = 30.0, 300.0  # the SDK's defaults: a server may hold a stream open


@dataclass(frozen=True)
class HTTPServer:
    """An MCP server at ``url``: streamable HTTP (``kind="streamable-http"``) or Server-Sent Events
    (``kind="sse"``), with ``headers`` sent on every request, and for mutual TLS the client's
    ``cert_file`` and ``key_file`` (PEM) and the ``ca_file`` that signed the server's certificate
    (the system's CAs when None)."""

    url: str
    kind: HTTPKind = "streamable-http"
    headers: Mapping[str, str] | None = None
    cert_file: str | None = None
    key_file: str | None = None
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("streamable-http", "sse"):
            raise ValueError(f"HTTPServer kind must be 'streamable-http' or 'sse', got {self.kind!r}")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError(f"MCP server {self.url}: mutual TLS needs both cert_file and key_file")

    @property
    def tls(self) -> bool:
        return self.cert_file is not None or self.ca_file is not None

    def ssl_context(self) -> ssl.SSLContext:
        """The client's TLS settings: trust ``ca_file`` (else the system's CAs), present the cert."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file is not None:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


def client_target(server: Any) -> Any:
    """What ``mcp.Client`` takes for ``server``: a new transport for an :class:`HTTPServer` that needs one,
    the server itself otherwise (a URL, ``StdioServerParameters``, an in-process server, a transport)."""
    if not isinstance(server, HTTPServer):
        return server
    if server.kind == "streamable-http" and not server.headers and not server.tls:
        return server.url
    return _sse(server) if server.kind == "sse" else _streamable_http(server)


def _http_client(server: HTTPServer, **options: Any) -> Any:
    import httpx2  # installed with mcp

    if options.get("timeout") is None:
        options["timeout"] = httpx2.Timeout(CONNECT_SECONDS, read=READ_SECONDS)
    if server.headers:
        options["headers"] = {**dict(server.headers), **dict(options.get("headers") or {})}
    if server.tls:
        options["verify"] = server.ssl_context()
    return httpx2.AsyncClient(**{k: v for k, v in options.items() if v is not None})


@asynccontextmanager
async def _streamable_http(server: HTTPServer) -> AsyncIterator[Any]:
    from mcp.client.streamable_http import streamable_http_client

    async with _http_client(server) as http, streamable_http_client(server.url, http_client=http) as streams:
        yield streams


@asynccontextmanager
async def _sse(server: HTTPServer) -> AsyncIterator[Any]:
    from mcp.client.sse import sse_client

    def factory(
        headers: Mapping[str, str] | None = None, timeout: Any = None, auth: Any = None
    ) -> Any:  # the SDK passes its own timeout; ours adds headers and TLS
        return _http_client(server, headers=headers, timeout=timeout, auth=auth)

    async with sse_client(server.url, httpx_client_factory=factory) as streams:
        yield streams
