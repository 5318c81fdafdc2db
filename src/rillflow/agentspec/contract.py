"""``IOContract``: strict run-time checks of declared node inputs and outputs, as run hooks.

``flow.run(shared, hooks=[IOContract()])``: before a node runs, every input it declares (without a
default) must be in ``shared``; after it ends, every output it declares must have been written, with a
value of the declared JSON type. A breach raises :class:`MissingInputError` / :class:`OutputContractError`
naming the node and the key. Nodes that declare nothing are skipped, and runs without the hook pay nothing.
"""

from __future__ import annotations

from typing import Any

from ..core.context import Path
from ..core.graph import label
from ..core.hooks import RunHooks
from ..core.node import BaseNode
from .declared import reads, writes
from .errors import MissingInputError, OutputContractError
from .nested import CURRENT_STORE
from .properties import type_problem

_MISSING = object()


class IOContract(RunHooks):
    """Run hooks that check declared inputs at node start and declared outputs at node end."""

    def __init__(self) -> None:
        self.shared: Any = None
        self.before: dict[tuple[Path, int], dict[str, Any]] = {}

    def on_run_start(self, *, shared: Any, **_: Any) -> None:
        if self.shared is None:
            self.shared = shared  # the top run's store; nested flows share it

    def store(self) -> Any:
        """The ``shared`` the node sees: a nested Agent Spec flow runs on its own."""
        nested = CURRENT_STORE.get()
        return self.shared if nested is None else nested

    def on_node_start(self, *, node: BaseNode, path: Path, **_: Any) -> None:
        shared = self.store()
        if not isinstance(shared, dict):
            return
        for key, schema in reads(node).items():
            if key not in shared and "default" not in schema:
                raise MissingInputError(
                    f"{label(node)} declares input {key!r} but shared has no such key "
                    f"(keys: {', '.join(map(str, shared)) or 'none'})"
                )
        declared = writes(node)
        if declared:  # what was there before, so that "not written" can be told apart from "unchanged"
            self.before[(path, id(node))] = {k: shared.get(k, _MISSING) for k in declared}

    def on_node_end(self, *, node: BaseNode, path: Path, error: BaseException | None, **_: Any) -> None:
        before = self.before.pop((path, id(node)), None)
        shared = self.store()
        if error is not None or before is None or not isinstance(shared, dict):
            return
        for key, schema in writes(node).items():
            value = shared.get(key, _MISSING)
            if value is _MISSING:
                raise OutputContractError(f"{label(node)} declares output {key!r} but did not write it")
            problem = type_problem(value, schema)
            if problem:
                raise OutputContractError(f"{label(node)} wrote output {key!r} of the wrong type: {problem}")
