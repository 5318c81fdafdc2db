"""HTML pages of the UI, rendered on the server from the data of :mod:`rillflow.ui.views`.

Every value that comes from a run (ids, ``shared`` values, errors, node names) goes through
:func:`html.escape`; the pages load only ``/static/app.css`` and ``/static/app.js`` (no inline script,
which the Content-Security-Policy header forbids anyway).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from ..durable.timeline import duration_text

STATUSES = ("running", "paused", "done", "failed")
MAX_STEPS = 500


@dataclass
class PageContext:
    db: str
    csrf: str
    can_run: bool  # the flow was given (MODULE:FLOW): answers and forks can run
    message: str | None = None
    version: str = ""  # see rillflow.ui.views.version


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _json(value: Any) -> str:
    return _e(json.dumps(value, indent=2, ensure_ascii=False, default=repr))


def _short(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return _e(text if len(text) <= limit else text[: limit - 1] + "…")


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _run_url(run_id: str) -> str:
    return "/runs/" + quote(run_id, safe="")


def _page(title: str, body: str, ctx: PageContext, live: str | None = None) -> str:
    live_attr = f' data-live="{_e(live)}" data-version="{_e(ctx.version)}"' if live else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)} · rillflow</title>\n"
        '<link rel="stylesheet" href="/static/app.css">\n<script src="/static/app.js" defer></script>\n'
        f"</head>\n<body{live_attr}>\n"
        f'<header><a class="home" href="/">rillflow runs</a> <span class="db">{_e(ctx.db)}</span></header>\n'
        f'<main id="main">\n{body}\n</main>\n</body>\n</html>\n'
    )


def _status(status: str) -> str:
    return f'<span class="status status-{_e(status)}">{_e(status)}</span>'


def list_page(runs: list[dict[str, Any]], query: str, status: str, ctx: PageContext) -> str:
    options = "".join(
        f'<option value="{s}"{" selected" if s == status else ""}>{s or "any status"}</option>'
        for s in ("", *STATUSES)
    )
    rows = []
    for run in runs:
        detail = run["error"] or (" > ".join(run["pause_path"]) if run["pause_path"] else "")
        rows.append(
            f'<tr class="run" data-run-id="{_e(run["run_id"])}" data-status="{_e(run["status"])}">'
            f'<td><a href="{_e(_run_url(run["run_id"]))}">{_e(run["run_id"])}</a></td>'
            f"<td>{_status(run['status'])}</td><td>{_e(run['flow'])}</td>"
            f'<td class="num">{run["steps"]}</td>'
            f'<td title="{_e(_when(run["created"]))}">{_age(run["age"])}</td>'
            f'<td class="detail">{_e(detail)}</td></tr>'
        )
    table = (
        '<table class="runs"><thead><tr><th>Run</th><th>Status</th><th>Flow</th><th>Steps</th><th>Age</th>'
        f"<th>Detail</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else '<p class="empty">No runs match.</p>'
    )
    body = (
        "<h1>Runs</h1>\n"
        '<form class="filter" method="get" action="/">'
        f'<input type="search" name="q" value="{_e(query)}" placeholder="filter: run id, flow or error" '
        'aria-label="filter">'
        f'<select name="status" aria-label="status">{options}</select> <button type="submit">Filter</button>'
        f"</form>\n{table}"
    )
    return _page("Runs", body, ctx, live="/api/events")


def run_page(run: dict[str, Any], svg: str, ctx: PageContext) -> str:
    run_id = run["run_id"]
    parts = [
        '<section class="summary">',
        f'<h1>Run <code class="run-id">{_e(run_id)}</code> {_status(run["status"])}</h1>',
        f'<p>flow <b>{_e(run["flow"])}</b> · <span class="steps">{run["steps"]}</span> steps · started '
        f"{_e(_when(run['created']))} · updated {_e(_when(run['updated']))}</p>",
    ]
    if run["error"]:
        parts.append(f'<pre class="error">{_e(run["error"])}</pre>')
    parts.append("</section>")
    if ctx.message:
        parts.append(f'<p class="message">{_e(ctx.message)}</p>')
    if run["problem"]:
        parts.append(f'<p class="problem">{_e(run["problem"])}</p>')
    if svg:
        parts.append(f'<section class="diagram"><h2>Flow</h2>{_legend(run["marks"])}{svg}</section>')
    if run["status"] == "paused":
        parts.append(_question(run, ctx))
    parts.append(_timeline(run, ctx))
    parts.append(
        f'<section class="state"><h2>Current shared</h2><pre class="shared">{_json(run["shared"])}</pre>'
    )
    parts.append("</section>")
    live = f"/api/events?run={quote(run_id, safe='')}" if run["status"] == "running" else None
    return _page(f"Run {run_id}", "\n".join(parts), ctx, live=live)


def _legend(marks: dict[str, list[str]]) -> str:
    items = "".join(
        f'<li class="mark mark-{_e(mark)}">{_e(mark)}: <code>{_e(" > ".join(path))}</code></li>'
        for mark, path in marks.items()
    )
    return f'<ul class="legend">{items}</ul>' if items else ""


def _csrf(ctx: PageContext) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(ctx.csrf)}">'


def _question(run: dict[str, Any], ctx: PageContext) -> str:
    where = " > ".join(run["pause_path"] or [])
    out = [
        '<section class="question"><h2>Waiting for an answer</h2>',
        f'<p>at <code>{_e(where)}</code>:</p><pre class="payload">{_json(run["payload"])}</pre>',
    ]
    if ctx.can_run:
        out.append(
            f'<form class="answer" method="post" action="{_e(_run_url(run["run_id"]))}/answer">{_csrf(ctx)}'
            '<label>Answer (JSON, or plain text) <textarea name="answer" rows="2" required></textarea>'
            "</label>"
            '<button type="submit">Answer and resume</button></form>'
        )
    else:
        out.append(
            '<p class="hint">To answer, start the UI with this run&#x27;s flow '
            "(<code>rillflow ui MODULE:FLOW</code>).</p>"
        )
    out.append("</section>")
    return "".join(out)


def _timeline(run: dict[str, Any], ctx: PageContext) -> str:
    rows = []
    before: dict[str, Any] = {}
    shown = len(run["history"]) - MAX_STEPS  # the page shows the latest steps; the API has them all
    for i, step in enumerate(run["history"]):
        diff = _diff(step, before)
        if i < shown:
            continue
        duration = "" if step["duration"] is None else duration_text(step["duration"])
        error = f'<pre class="error">{_e(step["error"])}</pre>' if step["error"] else ""
        note = ""
        if step["note"].get("forked_from") is not None:
            origin = step["note"]["forked_from"]
            note = (
                f' <span class="note">forked from <a href="{_e(_run_url(origin))}">{_e(origin)}</a> step '
                f"{_e(step['note'].get('step'))}</span>"
            )
        rows.append(
            f'<tr class="step kind-{_e(step["kind"])}" data-step="{step["step"]}">'
            f'<td class="num">{step["step"]}</td><td>{_e(step["kind"])}{note}</td>'
            f"<td><code>{_e(' > '.join(step['path']))}</code></td><td>{_e(step['action'] or '')}</td>"
            f'<td class="num">{duration}</td><td class="num">{step["retries"] or ""}</td>'
            f"<td>{diff}{error}</td><td>{_fork_form(run, step, ctx)}</td></tr>"
        )
    if not rows:
        return '<section class="timeline"><h2>Steps</h2><p class="empty">No step history.</p></section>'
    older = f'<p class="hint">{shown} older steps not shown (see the JSON API).</p>' if shown > 0 else ""
    return (
        f'<section class="timeline"><h2>Steps</h2>{older}<table class="steps"><thead><tr>'
        "<th>#</th><th>Kind</th>"
        "<th>Node</th><th>Action</th><th>Duration</th><th>Retries</th><th>Changes</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _diff(step: dict[str, Any], before: dict[str, Any]) -> str:
    items = []
    for key, value in step["changed"].items():
        old = (
            f'<span class="old">{_short(before[key])}</span> → '
            if key in before and step["kind"] != "fork"
            else ""
        )
        items.append(
            f'<li><code class="key">{_e(key)}</code> {old}<span class="new">{_short(value)}</span></li>'
        )
        before[key] = value
    for key in step["removed"]:
        items.append(f'<li class="removed"><code class="key">{_e(key)}</code> removed</li>')
        before.pop(key, None)
    return f'<ul class="diff">{"".join(items)}</ul>' if items else ""


def _fork_form(run: dict[str, Any], step: dict[str, Any], ctx: PageContext) -> str:
    if step["kind"] == "done" or not ctx.can_run:
        return ""
    return (
        f'<details class="fork"><summary>Fork from this step</summary>'
        f'<form method="post" action="{_e(_run_url(run["run_id"]))}/fork">{_csrf(ctx)}'
        f'<input type="hidden" name="step" value="{step["step"]}">'
        '<label>Changes to shared (a JSON object) <textarea name="updates" rows="2">{}</textarea></label>'
        '<button type="submit">Fork and run</button></form></details>'
    )


def error_page(title: str, message: str, ctx: PageContext) -> str:
    return _page(title, f'<h1>{_e(title)}</h1><p class="problem">{_e(message)}</p>', ctx)
