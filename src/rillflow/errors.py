"""Exceptions raised by the engine, and the note that names where a node failed."""

from __future__ import annotations

from typing import Any

_NOTE_PREFIX = "rillflow: raised in "


class FlowError(RuntimeError):
    """Base class for errors the engine itself raises about a flow's structure or run."""


class MaxStepsExceeded(FlowError):
    """A flow ran more steps than its ``max_steps`` guard allows (usually a runaway loop)."""


class MissingSuccessorError(FlowError):
    """A strict flow reached a node whose successors have no entry for the returned action."""


class AsyncNodeInSyncFlowError(FlowError):
    """A node that needs the event loop was reached by a synchronous ``Flow.run``."""


class Interrupt(BaseException):
    """Raised by ``node.interrupt(payload)`` to pause a run for a human decision.

    A BaseException, so retries and ``except Exception`` never swallow it. A durable run catches it,
    saves the run and returns a paused result; ``flow.resume(run_id, answer)`` re-enters the node, where
    ``self.interrupt(...)`` then returns the answer.
    """

    def __init__(self, payload: Any = None, path: tuple[str, ...] = ()) -> None:
        super().__init__(payload)
        self.payload = payload
        self.path = path

    def __str__(self) -> str:
        where = " > ".join(self.path) or "a node"
        return f"{where} asked for input: {self.payload!r} (run with a checkpointer to pause and resume)"


def add_path_segment(exc: BaseException, segment: str) -> None:
    """Prepend ``segment`` to the node path carried by ``exc`` and refresh its note.

    The innermost frame adds the failing node; each enclosing flow adds itself on the way out, so the
    user sees one note such as ``rillflow: raised in ResearchFlow > Decide``.
    """
    path: list[str] | None = getattr(exc, "_rillflow_path", None)
    if path is None:
        try:
            exc._rillflow_path = [segment]  # type: ignore[attr-defined]
        except AttributeError:  # an exception type with __slots__ cannot carry the path
            return
        exc.add_note(_NOTE_PREFIX + segment)
        return
    path.insert(0, segment)
    notes: list[str] = getattr(exc, "__notes__", [])
    for i in range(len(notes) - 1, -1, -1):
        if notes[i].startswith(_NOTE_PREFIX):
            notes[i] = _NOTE_PREFIX + " > ".join(path)
            return


def node_path(exc: BaseException) -> list[str]:
    """The node path (outermost first) recorded on an exception raised inside a flow, or ``[]``."""
    return list(getattr(exc, "_rillflow_path", []))


def describe_item(index: int, total: int | None, item: Any = None) -> str:
    """The path segment for one batch item: ``item 3 of 10`` plus a short repr of BatchFlow params."""
    text = f"item {index}" if total is None else f"item {index} of {total}"
    if item is not None:
        shown = repr(item)
        text += f" {shown if len(shown) <= 80 else shown[:77] + '...'}"
    return text
