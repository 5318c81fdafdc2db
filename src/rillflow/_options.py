"""Run options: attach hooks to a run, and hand durable runs, listeners and streams to their features.

The core never imports a feature at import time: a feature module is imported here, by name, only when
a run asks for it, and a missing one gives an error saying what to install.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable, Coroutine, Mapping
from types import ModuleType
from typing import Any

from ._node import BaseNode, label
from ._walk import run_inline
from .hooks import _HOOKS, _PATH, RunHooks, combine

DURABLE_OPTIONS = frozenset({"run_id", "checkpointer", "durability", "serializer"})
KNOWN_OPTIONS = DURABLE_OPTIONS | {"hooks", "listeners"}


def feature(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise ImportError(f"{what} needs the {module} module, which is not available") from exc
        raise


def split_options(
    options: Mapping[str, Any], run_id: str | None = None
) -> tuple[RunHooks | None, dict[str, Any]]:
    """The hooks a run asks for (``hooks=`` plus ``listeners=``) and its durable-run options.

    A durable run without a ``run_id`` gets one here, so its events and its checkpoints name it alike.
    """
    unknown = sorted(set(options) - KNOWN_OPTIONS)
    if unknown:
        raise TypeError(f"unknown run option(s) {unknown}; known options: {sorted(KNOWN_OPTIONS)}")
    durable = {k: v for k, v in options.items() if k in DURABLE_OPTIONS}
    if durable and run_id is None and not durable.get("run_id"):
        durable["run_id"] = uuid.uuid4().hex
    run_id = run_id or durable.get("run_id")
    hooks: list[RunHooks] = []
    given = options.get("hooks")
    if given is not None:
        hooks.extend([given] if isinstance(given, RunHooks) else given)
    listeners = options.get("listeners")
    if listeners:
        hooks.append(feature("rillflow.events", "listeners=").listener_hooks(listeners, run_id=run_id))
    return combine(hooks), durable


def run_with_options(node: BaseNode, shared: Any, options: Mapping[str, Any]) -> Any:
    hooks, durable = split_options(options)
    if durable:
        return feature("rillflow.durable", "a durable run").run(node, shared, hooks=hooks, **durable)
    return run_hooked(node, shared, hooks)


async def run_with_options_async(node: BaseNode, shared: Any, options: Mapping[str, Any]) -> Any:
    hooks, durable = split_options(options)
    if durable:
        module = feature("rillflow.durable", "a durable run")
        return await module.run_async(node, shared, hooks=hooks, **durable)
    return await run_hooked_async(node, shared, hooks)


def resume_with_options(node: BaseNode, run_id: str, answer: Any, options: Mapping[str, Any]) -> Any:
    hooks, durable = split_options(options, run_id)
    return feature("rillflow.durable", "resume").resume(node, run_id, answer, hooks=hooks, **durable)


async def resume_with_options_async(
    node: BaseNode, run_id: str, answer: Any, options: Mapping[str, Any]
) -> Any:
    hooks, durable = split_options(options, run_id)
    module = feature("rillflow.durable", "resume_async")
    return await module.resume_async(node, run_id, answer, hooks=hooks, **durable)


def run_hooked(node: BaseNode, shared: Any, hooks: RunHooks | None) -> Any:
    """Run ``node`` (usually a flow) with ``hooks`` active: the entry point for feature modules."""
    if hooks is None:
        return node._run_top(shared)

    async def body() -> Any:
        return node._run_top(shared)

    return run_inline(_hooked(node, shared, hooks, body))


async def run_hooked_async(node: BaseNode, shared: Any, hooks: RunHooks | None) -> Any:
    """The async twin of :func:`run_hooked`."""
    if hooks is None:
        return await node._run_top_async(shared)
    try:
        return await _hooked(node, shared, hooks, lambda: node._run_top_async(shared))
    finally:
        await hooks.aclose()  # async listeners finish before the run returns: no task outlives it


async def _hooked(
    node: BaseNode, shared: Any, hooks: RunHooks, body: Callable[[], Coroutine[Any, Any, Any]]
) -> Any:
    path = (label(node),)
    hooks_token, path_token = _HOOKS.set(hooks), _PATH.set(path)
    try:
        hooks.on_run_start(node, path, shared)
        try:
            result = await body()
        except BaseException as exc:
            hooks.on_run_end(node, path, None, exc)
            raise
        hooks.on_run_end(node, path, result, None)
        return result
    finally:
        _PATH.reset(path_token)
        _HOOKS.reset(hooks_token)
