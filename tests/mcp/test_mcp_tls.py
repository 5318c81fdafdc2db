"""Mutual TLS: an HTTPS MCP server that requires a client certificate (certificates made with the openssl
command line for the test), reached over streamable HTTP and SSE with HTTPServer's cert, key and CA."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import serve

from rillflow.mcp import HTTPServer, MCPError, MCPToolset


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA."""
    d = tmp_path_factory.mktemp("certs")
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req",
        "-x509",
        *curve,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=test-ca",
        "-days",
        "2",
        cwd=d,
    )
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for who in ("server", "client"):
        openssl("req", *curve, "-keyout", f"{who}.key", "-out", f"{who}.csr", "-subj", f"/CN={who}", cwd=d)
        extra = ["-extfile", "san.ext"] if who == "server" else []
        openssl(
            "x509", "-req", "-in", f"{who}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{who}.crt", "-days", "2", *extra, cwd=d,
        )  # fmt: skip
    return d


@pytest.fixture(params=["--tls-http", "--tls-sse"])
def tls_url(request: pytest.FixtureRequest, certs: Path) -> Iterator[str]:
    path = "/sse" if request.param == "--tls-sse" else "/mcp"
    yield from serve(request.param, path, str(certs), scheme="https")


async def test_a_client_certificate_opens_the_server(tls_url: str, certs: Path) -> None:
    kind = "sse" if tls_url.endswith("/sse") else "streamable-http"
    server = HTTPServer(
        tls_url,
        kind=kind,
        cert_file=str(certs / "client.crt"),
        key_file=str(certs / "client.key"),
        ca_file=str(certs / "ca.crt"),
    )
    async with MCPToolset(server) as tools:
        assert await tools.call("add", {"a": 20, "b": 22}) == "42"
    without = HTTPServer(tls_url, kind=kind, ca_file=str(certs / "ca.crt"))  # trusts the server, no cert
    with pytest.raises(MCPError, match="cannot connect"):
        await MCPToolset(without, connect_timeout=20).connect()
