"""End-to-end in a real browser: Playwright driving Debian's Chromium (installed by `make test`'s set-up;
never a browser downloaded by Playwright). No network: the pages load only the server's own assets."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from rillflow import Flow, Node
from rillflow.durable import SQLiteCheckpointer
from rillflow.ui import UIServer

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "ui-run-page.png"
WAIT = 20_000  # ms: how long expect() polls before failing (it returns as soon as the page matches)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = context.new_page()
    dialogs: list[str] = []
    seen.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    outside: list[str] = []
    seen.on("request", lambda r: outside.append(r.url) if not r.url.startswith("http://127.0.0.1:") else None)
    yield seen
    context.close()
    assert dialogs == [], "a script from the data ran"
    assert outside == [], "the page reached beyond the server"


def test_answer_a_paused_run_and_see_it_finish(server: UIServer, page: Page) -> None:
    page.goto(server.url)
    rows = page.locator("tr.run")
    expect(rows).to_have_count(3)
    expect(page.locator('tr.run[data-run-id="paused-1"] .status')).to_have_text("paused")
    page.get_by_role("link", name="paused-1").click()
    expect(page.locator(".question pre.payload")).to_contain_text("Publish this draft?")
    expect(page.locator("g.node.paused")).to_have_text("Review")
    # The docs' picture is taken here; it is rewritten only when asked (RILLFLOW_SCREENSHOT=1) or missing,
    # so a test run leaves the work tree as it was.
    shot = page.screenshot(full_page=True)
    assert shot.startswith(b"\x89PNG")
    if os.environ.get("RILLFLOW_SCREENSHOT") == "1" or not SCREENSHOT.exists():
        SCREENSHOT.write_bytes(shot)
    page.locator("textarea[name=answer]").fill("yes")
    page.get_by_role("button", name="Answer and resume").click()
    expect(page.locator(".summary .status")).to_have_text("done", timeout=WAIT)
    expect(page.locator("tr.step.kind-done")).to_contain_text("Publish")
    expect(page.locator("pre.shared")).to_contain_text("published on blog")


def test_a_failed_run_marks_the_failed_node(server: UIServer, page: Page) -> None:
    page.goto(server.url)
    page.locator("select[name=status]").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr.run")).to_have_count(1)
    page.get_by_role("link", name="failed-1").click()
    expect(page.locator("g.node.failed")).to_have_text("Publish")
    expect(page.locator("tr.step.kind-failed")).to_contain_text(
        "ConnectionError: cannot reach the 'offline' channel"
    )
    expect(page.locator(".summary pre.error")).to_contain_text("ConnectionError")


def test_a_script_value_is_shown_as_text(server: UIServer, page: Page) -> None:
    page.goto(server.url.rstrip("/") + "/runs/paused-1")
    expect(page.locator("pre.shared")).to_contain_text("<script>alert('hi')</script> release notes")
    assert page.evaluate("document.querySelectorAll('main script').length") == 0


def test_fork_from_a_step_with_an_edit(server: UIServer, page: Page) -> None:
    page.goto(server.url.rstrip("/") + "/runs/failed-1")
    row = page.locator('tr.step[data-step="3"]')
    row.get_by_text("Fork from this step").click()
    row.locator("textarea[name=updates]").fill('{"channel": "newsletter"}')
    row.get_by_role("button", name="Fork and run").click()
    expect(page.locator(".summary .status")).to_have_text("done", timeout=WAIT)
    expect(page.locator("tr.step.kind-fork")).to_contain_text("forked from failed-1")
    expect(page.locator("pre.shared")).to_contain_text("published on newsletter")


class Gate(Node):
    """Each step waits until the test lets it through, so the test decides when the run advances."""

    def __init__(self, gate: threading.Semaphore) -> None:
        super().__init__()
        self.gate = gate

    def exec(self, prep_res: Any) -> None:
        assert self.gate.acquire(timeout=60), "the test never opened the gate"

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str | None:
        shared["n"] += 1
        return "again" if shared["n"] < 4 else None


def test_watch_a_live_run_advance(server: UIServer, page: Page) -> None:
    gate = threading.Semaphore(0)
    node = Gate(gate)
    node - "again" >> node
    cp = SQLiteCheckpointer(server.db)
    thread = threading.Thread(
        target=lambda: Flow(start=node, name="Live").run({"n": 0}, run_id="live-1", checkpointer=cp)
    )
    thread.start()
    try:
        page.goto(server.url)
        expect(page.locator('tr.run[data-run-id="live-1"] .status')).to_have_text("running", timeout=WAIT)
        page.get_by_role("link", name="live-1").click()
        expect(page.locator("g.node.current")).to_have_text("Gate")
        for step in (1, 2, 3):
            gate.release()
            expect(page.locator(f'tr.step[data-step="{step}"]')).to_contain_text(f"{step}", timeout=WAIT)
            expect(page.locator("pre.shared")).to_contain_text(f'"n": {step}', timeout=WAIT)
        gate.release()
        expect(page.locator(".summary .status")).to_have_text("done", timeout=WAIT)
    finally:
        for _ in range(4):
            gate.release()
        thread.join()
