"""The UI's guards: which Host headers are accepted, the access token, and the CSRF token.

- Bound to a loopback address, the server answers only requests whose ``Host`` is that address (or
  ``localhost``) with its port, which defeats DNS rebinding (a web page making the browser talk to it
  under another name).
- Bound to any other address it needs a token, given as ``--token`` or generated, on every request: the
  ``?token=`` of the printed URL (then kept in a same-site, http-only cookie), or an
  ``Authorization: Bearer`` header.
- Requests that change something (answer, fork) are POSTs that must carry the server's random CSRF token
  (in each form of its pages) and, when the browser sends an ``Origin``, come from the server's own origin.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from http.cookies import SimpleCookie

COOKIE = "rillflow_ui_token"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_hosts(port: int) -> frozenset[str]:
    return frozenset(f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]"))


def new_token() -> str:
    return secrets.token_urlsafe(24)


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def cookie_token(header: str | None) -> str | None:
    if not header:
        return None
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(header)
    except Exception:  # a malformed Cookie header: as if none was sent
        return None
    morsel = cookie.get(COOKIE)
    return None if morsel is None else morsel.value


def bearer_token(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def origin_ok(origin: str | None, host: str) -> bool:
    """A POST's ``Origin`` (when sent) must be this server's own."""
    return origin is None or origin in (f"http://{host}", f"https://{host}")
