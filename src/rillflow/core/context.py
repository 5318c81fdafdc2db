"""Where a run is: the context variables the engine sets, and ``emit`` for code running inside a node.

The leaf of the kernel: it imports nothing from rillflow. The engine reads ``HOOKS`` once per flow run
(with none attached it runs its plain loop); ``RESUME`` is set only by runs that continue an earlier one.
Paths name where something happens: node keys from the top flow down, e.g. ``("ResearchFlow", "Decide")``;
a batch item adds ``"#3"`` (item index 3) after its node or flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .hooks import ResumeSource, RunHooks

Path = tuple[str, ...]

HOOKS: ContextVar[RunHooks | None] = ContextVar("rillflow_hooks", default=None)
RESUME: ContextVar[ResumeSource | None] = ContextVar("rillflow_resume", default=None)
PATH: ContextVar[Path] = ContextVar("rillflow_path", default=())


def current_hooks() -> RunHooks | None:
    """The hooks of the run this code is part of, or None."""
    return HOOKS.get()


def current_path() -> Path:
    """The path of the node (or item) being run, when hooks are active; ``()`` otherwise."""
    return PATH.get()


def emit(kind: str, data: object) -> None:
    """Report something from inside a node (``"text"`` chunks of a streamed LLM reply, progress...).

    Listeners and ``stream_async`` receive it with the node's path; with no hooks attached it is a no-op.
    """
    hooks = HOOKS.get()
    if hooks is not None:
        hooks.on_emit(path=PATH.get(), kind=kind, data=data)


@contextmanager
def at_path(path: Path) -> Iterator[None]:
    """Run the ``with`` body as if at ``path`` (for work a feature does on a node's behalf)."""
    token = PATH.set(path)
    try:
        yield
    finally:
        PATH.reset(token)
