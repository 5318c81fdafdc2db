"""The UI's HTTP API and its guards, driven directly over HTTP (no browser)."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rillflow.durable import SQLiteCheckpointer, state_at
from rillflow.ui import UIServer
from rillflow.ui.security import is_loopback


def request(
    ui: UIServer,
    method: str,
    path: str,
    body: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", ui.port, timeout=30)
    sent = {"Host": f"127.0.0.1:{ui.port}", **(headers or {})}
    data = None
    if body is not None:
        data = urlencode(body)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=sent)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text


def get_json(ui: UIServer, path: str) -> Any:
    status, headers, text = request(ui, "GET", path)
    assert status == 200, text
    assert headers["content-type"] == "application/json"
    return json.loads(text)


def test_runs_run_history_and_state(server: UIServer) -> None:
    runs = get_json(server, "/api/runs")["runs"]
    assert {r["run_id"]: r["status"] for r in runs} == {
        "paused-1": "paused",
        "failed-1": "failed",
        "done-1": "done",
    }
    assert [r["run_id"] for r in get_json(server, "/api/runs?status=failed")["runs"]] == ["failed-1"]
    assert [r["run_id"] for r in get_json(server, "/api/runs?q=OFFLINE")["runs"]] == ["failed-1"]

    failed = get_json(server, "/api/runs/failed-1")
    assert failed["marks"] == {"failed": ["Publishing", "Publish"]}
    assert failed["error"] == "ConnectionError: cannot reach the 'offline' channel"
    paused = get_json(server, "/api/runs/paused-1")
    assert paused["marks"] == {"paused": ["Publishing", "Review"]}
    assert paused["payload"]["question"] == "Publish this draft?"

    steps = get_json(server, "/api/runs/done-1/history")["steps"]
    assert [s["kind"] for s in steps] == ["start", "step", "step", "step", "step", "done"]
    assert steps[4] | {"ended": 0, "duration": 0} == {
        "step": 4, "kind": "step", "path": ["Publishing", "Review"], "action": "publish", "ended": 0,
        "duration": 0, "retries": 0, "error": None, "note": {}, "changed": {"approved": True}, "removed": [],
    }  # fmt: skip
    state = get_json(server, "/api/runs/done-1/state?step=2")
    expected = state_at(SQLiteCheckpointer(server.db), "done-1", 2)
    assert state == {"run_id": "done-1", "step": 2, "shared": expected}
    assert state["shared"]["drafts"] == ["weekly digest: draft 1", "weekly digest: draft 2"]


def test_api_errors_are_json(server: UIServer) -> None:
    status, _, text = request(server, "GET", "/api/runs/nope")
    assert status == 404 and "no stored run" in json.loads(text)["error"]
    status, _, text = request(server, "GET", "/api/runs/done-1/state?step=99")
    assert status == 400 and "has steps 0 to 5" in json.loads(text)["error"]
    status, _, text = request(server, "GET", "/api/runs/done-1/state")
    assert status == 400 and "give the step" in json.loads(text)["error"]


def test_pages_escape_every_value(server: UIServer) -> None:
    status, headers, page = request(server, "GET", "/runs/paused-1")
    assert status == 200
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt;" in page
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="/static/app.js" defer>']
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    status, _, page = request(server, "GET", "/?q=%3Cb%3Ex")
    assert status == 200 and 'value="&lt;b&gt;x"' in page


def test_assets_ship_in_the_package(server: UIServer) -> None:
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        status, headers, body = request(server, "GET", f"/static/{name}")
        assert status == 200 and headers["content-type"].startswith(kind) and body
    assert request(server, "GET", "/static/../server.py")[0] == 404


def csrf_of(ui: UIServer, run_id: str) -> str:
    page = request(ui, "GET", f"/runs/{run_id}")[2]
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_answer_resumes_the_paused_run(server: UIServer) -> None:
    token = csrf_of(server, "paused-1")
    status, headers, _ = request(server, "POST", "/runs/paused-1/answer", {"csrf": token, "answer": "yes"})
    assert status == 303 and headers["location"] == "/runs/paused-1"
    server.actions.join()
    run = get_json(server, "/api/runs/paused-1")
    assert run["status"] == "done"
    assert run["shared"]["receipt"].startswith("published on blog")
    assert run["history"][-1]["kind"] == "done"


def test_fork_from_a_step_runs_a_new_run(server: UIServer) -> None:
    token = csrf_of(server, "failed-1")
    form = {"csrf": token, "step": "3", "updates": '{"channel": "newsletter"}'}
    status, headers, _ = request(server, "POST", "/runs/failed-1/fork", form)
    assert status == 303
    new_id = headers["location"].rsplit("/", 1)[1]
    server.actions.join()
    run = get_json(server, f"/api/runs/{new_id}")
    assert run["status"] == "done" and run["shared"]["receipt"].startswith("published on newsletter")
    assert run["history"][0]["note"]["forked_from"] == "failed-1"
    assert get_json(server, "/api/runs/failed-1")["status"] == "failed"  # the original stays as it was
    bad = request(server, "POST", "/runs/failed-1/fork", {"csrf": token, "step": "3", "updates": "[1]"})
    assert bad[0] == 400 and "JSON object" in bad[2]


def test_state_changes_need_the_csrf_token_and_the_same_origin(server: UIServer) -> None:
    token = csrf_of(server, "paused-1")
    assert request(server, "POST", "/runs/paused-1/answer", {"answer": "yes"})[0] == 403
    assert request(server, "POST", "/runs/paused-1/answer", {"csrf": "guess", "answer": "yes"})[0] == 403
    evil = {"Origin": "http://evil.example"}
    assert request(server, "POST", "/runs/paused-1/answer", {"csrf": token, "answer": "yes"}, evil)[0] == 403
    assert request(server, "GET", "/runs/paused-1/answer")[0] == 404  # GET changes nothing
    assert get_json(server, "/api/runs/paused-1")["status"] == "paused"


def test_other_host_names_are_refused(server: UIServer) -> None:
    """DNS rebinding: a page of another site that resolves its name to 127.0.0.1 gets nothing."""
    status, _, text = request(server, "GET", "/api/runs", headers={"Host": f"evil.example:{server.port}"})
    assert status == 403 and "Host" in text
    assert request(server, "GET", "/api/runs", headers={"Host": f"localhost:{server.port}"})[0] == 200


def test_a_token_is_checked_on_every_request(demo_db: Path) -> None:
    ui = UIServer(demo_db, port=0, token="s3cret").start()
    try:
        assert ui.url.endswith("/?token=s3cret")
        assert request(ui, "GET", "/api/runs")[0] == 401
        assert request(ui, "GET", "/static/app.css")[0] == 401
        assert request(ui, "GET", "/api/runs", headers={"Authorization": "Bearer nope"})[0] == 401
        assert request(ui, "GET", "/api/runs", headers={"Authorization": "Bearer s3cret"})[0] == 200
        status, headers, _ = request(ui, "GET", "/runs/done-1?token=s3cret")
        assert status == 303 and headers["location"] == "/runs/done-1"
        assert "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
        cookie = headers["set-cookie"].split(";")[0]
        assert request(ui, "GET", "/runs/done-1", headers={"Cookie": cookie})[0] == 200
    finally:
        ui.stop()


def test_only_loopback_runs_without_a_token() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_without_the_flow_answers_are_explained(demo_db: Path) -> None:
    ui = UIServer(demo_db, port=0).start()
    try:
        page = request(ui, "GET", "/runs/paused-1")[2]
        assert "rillflow ui MODULE:FLOW" in page and 'name="answer"' not in page
        assert '<g class="node paused"' in page  # the diagram comes from the stored shape
        answer = {"csrf": ui.csrf, "answer": "yes"}
        status, _, text = request(ui, "POST", "/runs/paused-1/answer", answer)
        assert status == 400 and "needs the flow" in text
    finally:
        ui.stop()


def test_events_stream_an_update(server: UIServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/api/events?run=done-1", headers={"Host": f"127.0.0.1:{server.port}"})
    response = conn.getresponse()
    assert response.getheader("Content-Type", "").startswith("text/event-stream")
    assert response.readline() == b"event: update\n"
    assert json.loads(response.readline().decode()[len("data: ") :])[0] == "done"
    conn.close()


def test_rillflow_ui_command_needs_an_existing_db(tmp_path: Path) -> None:
    target = "examples/ui_demo.py:flow"
    cmd = [sys.executable, "-m", "rillflow.cli", "ui", target, "--db", str(tmp_path / "missing.db")]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 2 and "no checkpoint file" in out.stderr
