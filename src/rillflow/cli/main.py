"""The ``rillflow`` command: run a flow, stream its events, draw it, list and resume durable runs.

    rillflow run myapp.flows:flow --shared input.json     # prints the final shared store as JSON
    rillflow run app.py:flow --shared - --stream          # prints events as they happen, then the store
    rillflow viz myapp.flows:flow [--html -o flow.html]   # Mermaid text (default) or an HTML page
    rillflow runs --db runs.db [--status paused]          # durable runs and their status
    rillflow runs show RUN_ID --db runs.db                # one run's steps and what each changed
    rillflow ui [myapp.flows:flow] --db runs.db           # a local web page of the runs
    rillflow resume myapp.flows:flow RUN_ID --db runs.db --answer '"yes"'

Exit status: 0 success (or a paused durable run), 1 the flow raised (traceback on stderr), 2 a usage error
(bad target, bad JSON...), reported in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

from .. import durable
from ..agentspec.run import is_config_path, run_config
from ..core.runner import new_run_id
from ..durable.timeline import timeline
from ..errors import Interrupt
from ..observe.progress import ProgressBars
from ..ui.command import add_ui_command
from ..usage import UsageMeter
from ..viz import to_html, to_mermaid
from .input import CommandError, load_target, read_json_value, read_shared, to_json

DEFAULT_DB = "rillflow-runs.db"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rillflow`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.command(args))
    except CommandError as exc:
        print(f"rillflow: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `rillflow run ... --stream | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rillflow", description="Run, watch and draw rillflow flows.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a flow and print the final shared store")
    run.add_argument(
        "target", metavar="MODULE:FLOW", help="e.g. myapp.flows:flow, app.py:flow or config.yaml"
    )
    run.add_argument(
        "--tools", metavar="MODULE:REGISTRY", help="Agent Spec configs: the ServerTool functions"
    )
    run.add_argument(
        "--llm", metavar="SPEC", help="Agent Spec configs: run every LLM on local or openai:MODEL"
    )
    run.add_argument(
        "--mcp-server",
        metavar="FROM=TO",
        action="append",
        help="Agent Spec configs: connect the MCP transport named or addressed FROM (its name, id or "
        "URL) to TO (a URL) instead; repeatable",
    )
    run.add_argument("--shared", metavar="FILE", help="JSON object to start from ('-': standard input)")
    run.add_argument("--stream", action="store_true", help="print events as they happen")
    run.add_argument("--json", action="store_true", help="with --stream: one JSON object per event")
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars for batches on stderr (default: when stderr is a terminal)",
    )
    _durable_options(run, "store the run durably in this SQLite file (then see `rillflow runs`)")
    run.set_defaults(command=_run)

    viz = sub.add_parser("viz", help="print a diagram of a flow (Mermaid, or a self-contained HTML page)")
    viz.add_argument("target", metavar="MODULE:FLOW")
    viz.add_argument("--html", action="store_true", help="an HTML page instead of Mermaid text")
    viz.add_argument("--direction", default="TD", choices=["TD", "LR", "BT", "RL"])
    viz.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    viz.set_defaults(command=_viz)

    runs = sub.add_parser("runs", help="list durable runs and their status")
    runs.add_argument("--db", default=DEFAULT_DB, help=f"the SQLite checkpoint file (default {DEFAULT_DB})")
    runs.add_argument("--status", choices=["running", "paused", "done", "failed"])
    runs.add_argument("show", nargs="?", choices=["show"], help="show one run's step timeline")
    runs.add_argument("run_id", nargs="?", metavar="RUN_ID")
    runs.set_defaults(command=_runs)

    resume = sub.add_parser("resume", help="continue a paused or failed durable run")
    resume.add_argument("target", metavar="MODULE:FLOW", help="the flow the run belongs to")
    resume.add_argument("run_id", metavar="RUN_ID")
    resume.add_argument("--answer", help="the answer for the paused node (JSON, or plain text)")
    resume.add_argument("--db", default=DEFAULT_DB, help=f"the SQLite checkpoint file (default {DEFAULT_DB})")
    resume.add_argument("--stream", action="store_true", help=argparse.SUPPRESS)
    resume.set_defaults(command=_resume)
    add_ui_command(sub, DEFAULT_DB)
    return parser


def _durable_options(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--db", metavar="FILE", help=help_text)
    parser.add_argument("--run-id", help="the durable run's id (default: a new one)")


# --- run ------------------------------------------------------------------------------------------
def _run(args: argparse.Namespace) -> int:
    flow = _load_config(args) if is_config_path(args.target) else load_target(args.target)
    shared = read_shared(args.shared)
    meter = UsageMeter()
    options: dict[str, Any] = {"hooks": [meter]}
    if args.db:
        options["run_id"] = args.run_id or new_run_id()
        options["checkpointer"] = _new_run_store(args.db, options["run_id"])
    if args.stream:
        failed = asyncio.run(_stream(flow, shared, options, as_json=args.json))
    else:
        bars = _progress_bars(args.progress)
        if bars is not None:
            options["listeners"] = [bars]
        try:
            result = flow.run(shared, **options)  # an async flow gets an event loop of its own
            failed = False
        except Exception:
            traceback.print_exc()
            failed = True
        finally:
            if bars is not None:
                bars.close()
        if not failed:
            _report_paused(result, args)
    meter.print_report(sys.stderr)
    print(to_json(shared))
    return 1 if failed else 0


def _load_config(args: argparse.Namespace) -> Any:
    """An Agent Spec config file (``rillflow run config.yaml --tools app:registry``)."""
    try:
        return run_config(args.target, tools=args.tools, llm=args.llm, mcp_servers=_mcp_servers(args))
    except (OSError, ValueError, ImportError) as exc:
        raise CommandError(f"{args.target}: {exc}") from exc


def _mcp_servers(args: argparse.Namespace) -> dict[str, str]:
    servers: dict[str, str] = {}
    for pair in args.mcp_server or ():
        given, sep, to = pair.partition("=")
        if not sep or not given or not to:
            raise CommandError(
                f"--mcp-server takes FROM=TO (a transport's name, id or URL = a URL), got {pair!r}"
            )
        servers[given] = to
    return servers


async def _stream(flow: Any, shared: Any, options: dict[str, Any], *, as_json: bool) -> bool:
    started = time.time()
    try:
        async for event in flow.stream_async(shared, **options):
            line = to_json(event.to_dict(), None) if as_json else format_event(event, started)
            print(line, flush=True)
    except BrokenPipeError:
        raise
    except Exception:
        traceback.print_exc()
        return True
    return False


def format_event(event: Any, started: float) -> str:
    """One readable line for an event: time since the start, kind, path and the kind's details."""
    skip = {"kind", "path", "run_id", "time", "node_type"}
    if isinstance(getattr(event, "error", None), Interrupt):
        skip.add("error")  # the pause event just before says it all
    details = " ".join(
        f"{name}={_short(value)}"
        for name, value in event.to_dict().items()
        if name not in skip and value is not None and not (name == "retries" and value == 0)
    )
    return f"{event.time - started:8.3f}s {event.kind:<10} {event.where:<30} {details}".rstrip()


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    if isinstance(value, float):
        text = f"{value:.4f}"
    return repr(text) if isinstance(value, str) and " " in text else text


def _progress_bars(wanted: bool | None) -> Any:
    if wanted is None:
        wanted = sys.stderr.isatty()
    if not wanted:
        return None
    try:
        return ProgressBars()
    except ImportError as exc:
        print(f"rillflow: no progress bars ({exc})", file=sys.stderr)
        return None


def _report_paused(result: Any, args: argparse.Namespace) -> None:
    """A durable run that paused returns a result saying so: tell the user how to resume it."""
    if getattr(result, "status", None) == "paused":
        run_id = result.run_id
        print(
            f"rillflow: run {run_id} paused at {' > '.join(result.path)}: {result.payload!r}\n"
            f"continue it with: rillflow resume {args.target} {run_id} --db {args.db} --answer JSON",
            file=sys.stderr,
        )


# --- viz ------------------------------------------------------------------------------------------
def _viz(args: argparse.Namespace) -> int:
    flow: Any = load_target(args.target, need_flow=True)
    text = to_html(flow) if args.html else to_mermaid(flow, direction=args.direction)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


# --- durable runs ---------------------------------------------------------------------------------
def _checkpointer(path: str, **options: Any) -> durable.SQLiteCheckpointer:
    return durable.SQLiteCheckpointer(path, **options)


def _new_run_store(path: str, run_id: str) -> durable.SQLiteCheckpointer:
    """The checkpoint file for a new run, checked before the run starts: a file that is not a checkpoint
    database, or a run id already stored there, is a usage error (exit 2), not a failed run."""
    store = _checkpointer(path)
    try:
        info = store.get(run_id)
    except durable.RunNotFoundError:
        return store
    except durable.DurableError as exc:
        store.close()
        raise CommandError(str(exc)) from exc
    store.close()
    raise CommandError(
        f"a run with id {run_id!r} already exists in {path} (status {info.status}): continue it with "
        f"`rillflow resume MODULE:FLOW {run_id} --db {path}`, or choose another --run-id"
    )


def _runs(args: argparse.Namespace) -> int:
    if not os.path.exists(args.db):
        raise CommandError(f"no checkpoint file {args.db!r} (give its path with --db)")
    if args.show:
        if not args.run_id:
            raise CommandError("rillflow runs show needs a RUN_ID")
        try:
            with _checkpointer(args.db, readonly=True) as store:
                print(timeline(store, args.run_id))
        except durable.DurableError as exc:
            raise CommandError(str(exc)) from exc
        return 0
    try:
        with _checkpointer(args.db, readonly=True) as store:  # listing needs no write access
            runs = store.list_runs(args.status)
    except durable.DurableError as exc:
        raise CommandError(str(exc)) from exc
    if not runs:
        print("no runs")
        return 0
    print(f"{'RUN ID':<34} {'STATUS':<8} {'FLOW':<20} {'STEPS':>5}  UPDATED              DETAIL")
    for run in runs:
        updated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.updated))
        detail = run.error or (" > ".join(run.pause_path) if run.pause_path else "")
        print(f"{run.run_id:<34} {run.status:<8} {run.flow:<20} {run.steps:>5}  {updated}  {detail}".rstrip())
    return 0


def _resume(args: argparse.Namespace) -> int:
    flow: Any = load_target(args.target)
    answer = None if args.answer is None else read_json_value(args.answer, "--answer")
    store = _checkpointer(args.db, create=False)  # a mistyped --db is an error, not a new empty file
    meter = UsageMeter()
    try:
        result = flow.resume(args.run_id, answer, checkpointer=store, hooks=[meter])
    except Exception as exc:
        if type(exc).__module__.startswith("rillflow.durable"):
            raise CommandError(str(exc)) from exc
        traceback.print_exc()
        return 1
    finally:
        store.close()
    _report_paused(result, args)
    meter.print_report(sys.stderr)
    shared = getattr(result, "shared", None)
    print(to_json(shared if shared is not None else result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
