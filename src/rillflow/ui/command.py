"""``rillflow ui [MODULE:FLOW] --db runs.db``: serve the UI until Ctrl-C."""

from __future__ import annotations

import argparse
import os
import sys

from ..cli.input import CommandError, load_target
from .server import UIServer


def add_ui_command(sub: argparse._SubParsersAction[argparse.ArgumentParser], default_db: str) -> None:
    ui = sub.add_parser("ui", help="a local web page of durable runs: steps, diffs, answers, forks")
    ui.add_argument(
        "target", nargs="?", metavar="MODULE:FLOW", help="the runs' flow (needed to answer and to fork)"
    )
    ui.add_argument("--db", default=default_db, help=f"the SQLite checkpoint file (default {default_db})")
    ui.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    ui.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: any free port)")
    ui.add_argument("--token", help="access token (required off loopback; generated when not given)")
    ui.set_defaults(command=run_ui)


def run_ui(args: argparse.Namespace) -> int:
    if not os.path.exists(args.db):
        raise CommandError(f"no checkpoint file {args.db!r} (give its path with --db)")
    flow = load_target(args.target) if args.target else None
    try:
        server = UIServer(args.db, flow=flow, host=args.host, port=args.port, token=args.token)
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from exc
    print(f"rillflow ui: serving {args.db} at {server.url}  (Ctrl-C stops)", file=sys.stderr, flush=True)
    if not server.loopback:
        print(
            "rillflow ui: listening beyond this machine; every request needs the token above", file=sys.stderr
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
