"""The events of a run: what listeners receive and ``stream_async`` yields.

Every event has ``kind`` (a string, handy for matching), ``path`` (node keys from the top flow down, as in
checkpoints and diagrams; a batch item adds ``"#3"``), ``run_id`` and ``time`` (``time.time()``). Each kind
is its own small class, so ``match event: case NodeEnd(action=a): ...`` works as well as
``event.kind == "node_end"``. Events are built for every node visit, so they are plain slotted dataclasses
constructed positionally: the cheapest Python object that still reads well.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from ..core.context import Path


@dataclass(slots=True)
class Event:
    """Base class of all events."""

    kind: ClassVar[str] = "event"
    path: Path
    run_id: str
    time: float

    @property
    def where(self) -> str:
        """The path as text: ``"Outer > Inner > Step"``."""
        return " > ".join(self.path)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: exceptions become ``"TypeName: message"``, other values their repr
        unless they are JSON scalars, lists or dicts."""
        return {"kind": self.kind} | {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


@dataclass(slots=True)
class RunStart(Event):
    """The run of the top flow (or node) began."""

    kind: ClassVar[str] = "run_start"


@dataclass(slots=True)
class RunEnd(Event):
    """The run finished: ``error`` is what it raised (None on success), ``duration`` in seconds."""

    kind: ClassVar[str] = "run_end"
    duration: float
    error: BaseException | None = None


@dataclass(slots=True)
class NodeStart(Event):
    """A node (or nested flow) at ``path`` starts a visit."""

    kind: ClassVar[str] = "node_start"
    node_type: str


@dataclass(slots=True)
class NodeEnd(Event):
    """A visit ended: the ``action`` returned, seconds taken, retries used (``cur_retry``), any error."""

    kind: ClassVar[str] = "node_end"
    node_type: str
    action: Any
    duration: float
    retries: int = 0
    error: BaseException | None = None


@dataclass(slots=True)
class Retry(Event):
    """``exec`` attempt number ``attempt`` (0-based) failed; the next starts after ``delay`` seconds."""

    kind: ClassVar[str] = "retry"
    attempt: int
    error: BaseException
    delay: float


@dataclass(slots=True)
class Fallback(Event):
    """The last attempt failed (or the error is not retried): ``exec_fallback`` is called."""

    kind: ClassVar[str] = "fallback"
    error: BaseException


@dataclass(slots=True)
class Error(Event):
    """An exception was raised at ``path`` (reported once, where it was first seen: the innermost node)."""

    kind: ClassVar[str] = "error"
    error: BaseException

    @property
    def message(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"


@dataclass(slots=True)
class Pause(Event):
    """A node called ``self.interrupt(payload)``: the run pauses for an answer (see durable runs)."""

    kind: ClassVar[str] = "pause"
    payload: Any


@dataclass(slots=True)
class Items(Event):
    """The batch node or batch flow at ``path`` is about to run ``total`` items."""

    kind: ClassVar[str] = "items"
    total: int


@dataclass(slots=True)
class ItemStart(Event):
    """Item ``index`` of the batch at ``path`` starts."""

    kind: ClassVar[str] = "item_start"
    index: int


@dataclass(slots=True)
class ItemEnd(Event):
    """Item ``index`` finished: its exec ``result`` (batch nodes; None for batch flows) or ``error``."""

    kind: ClassVar[str] = "item_end"
    index: int
    result: Any = None
    error: BaseException | None = None


@dataclass(slots=True)
class Emit(Event):
    """Something a node reported with :func:`rillflow.hooks.emit`; ``kind`` is what it passed.

    ``kind="text"`` carries a chunk of a streamed LLM reply in ``data``.
    """

    # An instance field here (the kind the node emitted), and the first positional argument.
    kind: str = field()  # type: ignore[misc]
    data: Any = None

    @property
    def text(self) -> str:
        """``data`` as text (the chunk, for ``kind == "text"``)."""
        return self.data if isinstance(self.data, str) else str(self.data)
