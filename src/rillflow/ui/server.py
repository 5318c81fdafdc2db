"""The UI's HTTP server: the standard library's ``ThreadingHTTPServer``, one thread per request.

Routes (GET unless said)::

    /                          the run list (?q= filter, ?status=)
    /runs/RUN_ID               one run: diagram, question, steps with their diffs, current shared
    POST /runs/RUN_ID/answer   answer a paused run (form: csrf, answer) -> the run page
    POST /runs/RUN_ID/fork     fork from a step (form: csrf, step, updates) -> the new run's page
    /api/runs                  JSON: the run list (?q=, ?status=)
    /api/runs/RUN_ID           JSON: one run, with its history and where it is
    /api/runs/RUN_ID/history   JSON: its steps
    /api/runs/RUN_ID/state?step=N   JSON: shared as it was after step N
    /api/events[?run=RUN_ID]   server-sent events: "update" whenever the runs (or that run) change
    /static/app.css, app.js    the page's only assets, shipped in the package
"""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..cli.input import CommandError, read_json_value
from ..core.node import BaseNode
from ..durable import DurableError, RunNotFoundError, SQLiteCheckpointer
from ..durable.shape import fingerprint, shape_of
from .actions import ActionError, Actions
from .diagram import diagram_svg
from .pages import PageContext, error_page, list_page, run_page
from .security import (
    COOKIE,
    bearer_token,
    cookie_token,
    is_loopback,
    loopback_hosts,
    new_token,
    origin_ok,
    same,
)
from .views import run_detail, run_list, state_detail, version

STATIC = Path(__file__).with_name("static")
_TYPES = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_FORM = 256 * 1024
SSE_SECONDS = 300.0  # a stream ends after this; the browser's EventSource reconnects by itself


class UIServer:
    """``rillflow ui``: serves the runs stored in the SQLite file ``db``.

    ``flow`` (optional) is the flow the runs belong to, needed to answer and fork. Bound to a loopback
    address by default; any other ``host`` needs ``token`` (one is generated when not given: see
    :attr:`url`). ``port=0`` picks a free port.
    """

    def __init__(
        self,
        db: str | Path,
        *,
        flow: BaseNode | None = None,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str | None = None,
    ) -> None:
        self.db = str(db)
        self.loopback = is_loopback(host)
        self.token = token if token or self.loopback else new_token()
        self.csrf = new_token()
        self.checkpointer = SQLiteCheckpointer(db)
        self.actions = Actions(self.checkpointer, flow)
        self.flow = flow
        self._fingerprint = fingerprint(shape_of(flow)) if flow is not None else None
        self.closing = threading.Event()
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.ui = self  # type: ignore[attr-defined]
        self.host, self.port = host, int(self.httpd.server_address[1])
        self.allowed_hosts = loopback_hosts(self.port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address to open (with ``?token=`` when the server needs one)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/" + (f"?token={quote(self.token)}" if self.token else "")

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> UIServer:
        """Serve from a background thread (tests, notebooks); :meth:`stop` ends it."""
        self._thread = threading.Thread(target=self.serve_forever, name="rillflow-ui", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self.actions.join(timeout=30)
        self.checkpointer.close()

    def owns(self, fingerprint: str) -> bool:
        """Whether the runs with this shape fingerprint belong to this server's flow (so it can answer
        and fork them)."""
        return self.flow is not None and fingerprint == self._fingerprint

    def context(self, message: str | None = None, version: str = "") -> PageContext:
        return PageContext(self.db, self.csrf, self.flow is not None, message, version)


class _Handler(BaseHTTPRequestHandler):
    server_version = "rillflow-ui"
    sys_version = ""
    ui: UIServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the command prints its own lines
        return None

    # --- entry points ----------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self.ui = self.server.ui  # type: ignore[attr-defined]
        if not self._allowed():
            return
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            self._get(parts, query)
        except RunNotFoundError as exc:
            self._fail(HTTPStatus.NOT_FOUND, "No such run", str(exc), parts)
        except (DurableError, ValueError) as exc:
            self._fail(HTTPStatus.BAD_REQUEST, "Cannot show this", str(exc), parts)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self) -> None:
        self.ui = self.server.ui  # type: ignore[attr-defined]
        if not self._allowed():
            return
        parts = [unquote(p) for p in urlsplit(self.path).path.split("/") if p]
        if not origin_ok(self.headers.get("Origin"), self.headers.get("Host", "")):
            self._fail(HTTPStatus.FORBIDDEN, "Forbidden", "cross-site request refused", parts)
            return
        form = self._form()
        if form is None or not same(form.get("csrf"), self.ui.csrf):
            self._fail(
                HTTPStatus.FORBIDDEN, "Forbidden", "missing or wrong CSRF token: reload the page", parts
            )
            return
        if len(parts) != 3 or parts[0] != "runs" or parts[2] not in ("answer", "fork"):
            self._fail(HTTPStatus.NOT_FOUND, "Not found", f"no action at {self.path}", parts)
            return
        run_id = parts[1]
        try:
            if parts[2] == "answer":
                self.ui.actions.answer(run_id, read_json_value(form.get("answer", ""), "the answer"))
                target = run_id
            else:
                updates = json.loads(form.get("updates") or "{}")
                if not isinstance(updates, dict):
                    raise ActionError('the changes must be a JSON object, like {"key": "value"}')
                target = self.ui.actions.fork(run_id, int(form.get("step", "")), updates)
        except RunNotFoundError as exc:
            self._fail(HTTPStatus.NOT_FOUND, "No such run", str(exc), parts)
            return
        except (ActionError, CommandError, DurableError, ValueError) as exc:
            self._fail(HTTPStatus.BAD_REQUEST, "Cannot do this", str(exc), parts)
            return
        self._redirect("/runs/" + quote(target, safe=""))

    # --- guards --------------------------------------------------------------------------------------
    def _allowed(self) -> bool:
        ui = self.ui
        if ui.loopback and self.headers.get("Host", "") not in ui.allowed_hosts:
            self._send(HTTPStatus.FORBIDDEN, b"unexpected Host header\n", "text/plain; charset=utf-8")
            return False
        if not ui.token:
            return True
        if same(cookie_token(self.headers.get("Cookie")), ui.token):
            return True
        if same(bearer_token(self.headers.get("Authorization")), ui.token):
            return True
        url = urlsplit(self.path)
        given = parse_qs(url.query).get("token", [None])[-1]
        if same(given, ui.token) and self.command == "GET":
            # Keep the token in a cookie and drop it from the address bar (and from Referer headers).
            cookie = f"{COOKIE}={ui.token}; HttpOnly; SameSite=Strict; Path=/"
            rest = "&".join(p for p in url.query.split("&") if not p.startswith("token="))
            self._redirect(url.path + (f"?{rest}" if rest else ""), {"Set-Cookie": cookie})
            return False
        self._send(
            HTTPStatus.UNAUTHORIZED,
            b"this rillflow ui needs its token: open the address it printed (?token=...)\n",
            "text/plain; charset=utf-8",
        )
        return False

    def _form(self) -> dict[str, str] | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if length < 0 or length > MAX_FORM:
            return None
        body = self.rfile.read(length).decode("utf-8", "replace")
        return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}

    # --- GET routes ----------------------------------------------------------------------------------
    def _get(self, parts: list[str], query: dict[str, str]) -> None:
        ui = self.ui
        cp = ui.checkpointer
        if not parts:
            seen = version(cp)
            runs = run_list(cp, query.get("status", ""), query.get("q", ""))
            self._html(list_page(runs, query.get("q", ""), query.get("status", ""), ui.context(version=seen)))
        elif parts[0] == "runs" and len(parts) == 2:
            seen = version(cp, parts[1])
            run = run_detail(cp, parts[1])
            ours = ui.owns(run["fingerprint"])
            svg = diagram_svg(ui.flow if ours else None, run["shape"], run["marks"])
            context = ui.context(ui.actions.errors.get(parts[1]), seen)
            context.can_run = ours
            self._html(run_page(run, svg, context))
        elif parts[0] == "static" and len(parts) == 2 and parts[1] in _TYPES:
            self._send(HTTPStatus.OK, (STATIC / parts[1]).read_bytes(), _TYPES[parts[1]])
        elif parts[:2] == ["api", "runs"] and len(parts) == 2:
            self._json({"runs": run_list(cp, query.get("status", ""), query.get("q", ""))})
        elif parts[:2] == ["api", "runs"] and len(parts) == 3:
            self._json(run_detail(cp, parts[2]))
        elif parts[:2] == ["api", "runs"] and len(parts) == 4 and parts[3] == "history":
            self._json({"run_id": parts[2], "steps": run_detail(cp, parts[2])["history"]})
        elif parts[:2] == ["api", "runs"] and len(parts) == 4 and parts[3] == "state":
            if "step" not in query:
                raise ValueError("give the step: /api/runs/RUN_ID/state?step=N")
            self._json(state_detail(cp, parts[2], int(query["step"])))
        elif parts == ["api", "events"]:
            self._events(query.get("run"))
        else:
            self._fail(HTTPStatus.NOT_FOUND, "Not found", f"nothing at {self.path}", parts)

    def _events(self, run_id: str | None) -> None:
        """Server-sent events: an ``update`` (with the runs' version) now and whenever it changes."""
        ui = self.ui
        cp = ui.checkpointer
        version(cp, run_id)  # an unknown run fails here, before the stream starts
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        last: Any = None
        started = quiet = time.monotonic()
        while not ui.closing.is_set() and time.monotonic() - started < SSE_SECONDS:
            now = version(cp, run_id)
            if now != last:
                last = now
                self.wfile.write(f"event: update\ndata: {now}\n\n".encode())
                self.wfile.flush()
                quiet = time.monotonic()
            elif time.monotonic() - quiet > 15:
                self.wfile.write(b": still here\n\n")
                self.wfile.flush()
                quiet = time.monotonic()
            ui.closing.wait(0.2)

    # --- responses -----------------------------------------------------------------------------------
    def _fail(self, status: HTTPStatus, title: str, message: str, parts: list[str]) -> None:
        if parts[:1] == ["api"]:
            self._json({"error": message}, status)
        else:
            self._html(error_page(title, message, self.ui.context()), status)

    def _html(self, page: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, page.encode(), "text/html; charset=utf-8")

    def _json(self, data: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")

    def _redirect(self, location: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        for name, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
