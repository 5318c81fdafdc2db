"""What the `rillflow` command reads: a `module:flow` target and a JSON shared store, with clear errors."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..core.flow import Flow
from ..core.node import BaseNode


class CommandError(Exception):
    """A user error the command reports in one line (exit status 2), without a traceback."""


def load_target(spec: str, *, need_flow: bool = False) -> BaseNode:
    """The node named by ``spec``: ``package.module:name`` or ``path/to/file.py:name``.

    ``name`` may be a dotted attribute path, and may name a function taking no arguments that returns the
    flow. ``need_flow`` rejects single nodes (a diagram needs a flow).
    """
    module_name, sep, attr = spec.rpartition(":")
    if not sep or not module_name or not attr:
        raise CommandError(
            f"expected MODULE:FLOW (for example myapp.flows:flow or app.py:flow), got {spec!r}"
        )
    module = _import(module_name)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            flows = sorted(name for name, value in vars(module).items() if isinstance(value, BaseNode))
            hint = f"; flows and nodes it has: {', '.join(flows)}" if flows else ""
            raise CommandError(f"{module_name} has no attribute {attr!r}{hint}")
        obj = getattr(obj, part)
    if not isinstance(obj, BaseNode) and callable(obj) and not isinstance(obj, type):
        obj = obj()  # a factory function
    wanted = Flow if need_flow else BaseNode
    if not isinstance(obj, wanted):
        what = "a rillflow Flow" if need_flow else "a rillflow flow or node"
        raise CommandError(f"{spec} is {_a(type(obj).__name__)}, not {what}")
    return obj


def _import(module_name: str) -> Any:
    if module_name.endswith(".py") or os.sep in module_name or "/" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise CommandError(f"no such file: {module_name}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise CommandError(f"cannot load {module_name} as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        sys.path.insert(0, str(path.resolve().parent))  # so the file can import its neighbours
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise CommandError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
        return module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: modules in the current directory
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise CommandError(f"cannot import module {module_name!r}: {exc}") from exc
        raise CommandError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise CommandError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def read_shared(source: str | None) -> Any:
    """The shared store from a JSON file (``-`` for standard input); ``{}`` when none is given."""
    if source is None:
        return {}
    name = "standard input" if source == "-" else source
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read the shared store from {name}: {exc.strerror or exc}") from exc
    try:
        shared = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(shared, dict):
        raise CommandError(f"{name} must hold a JSON object (the shared store), not {type(shared).__name__}")
    return shared


def read_json_value(text: str, what: str) -> Any:
    """A JSON value given on the command line; plain text that is not JSON is taken as a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith(("{", "[", '"')):
            raise CommandError(f"{what} looks like JSON but does not parse: {exc.msg}") from exc
        return text


def to_json(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON (indented unless ``indent`` is None); what JSON cannot hold is shown by its repr."""
    return json.dumps(value, indent=indent, ensure_ascii=False, default=repr)
