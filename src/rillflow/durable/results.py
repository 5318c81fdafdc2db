"""What a durable run returns: :class:`Done` when its flow finished, :class:`Paused` when a node asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Done:
    """The run finished. ``result`` is what the flow returned (its last action); ``shared`` its state."""

    run_id: str
    result: Any
    shared: Any
    #: what features kept with the run, by name: ``extras["usage"]`` is a UsageMeter's totals of the run
    extras: dict[str, Any] = field(default_factory=dict)
    status: ClassVar[str] = "done"
    paused: ClassVar[bool] = False

    @property
    def usage(self) -> Any:
        """The run's usage totals (a ``rillflow.usage.Totals``) when a ``UsageMeter`` watched it."""
        return self.extras.get("usage")


@dataclass(frozen=True)
class Paused:
    """A node called ``self.interrupt(payload)``; the run is saved.

    Continue it with ``flow.resume(run_id, answer)`` (in this process or another): the node at ``path``
    runs again and ``self.interrupt(...)`` returns ``answer`` there.
    """

    run_id: str
    payload: Any
    path: tuple[str, ...]
    shared: Any
    extras: dict[str, Any] = field(default_factory=dict)
    status: ClassVar[str] = "paused"
    paused: ClassVar[bool] = True

    @property
    def usage(self) -> Any:
        """The run's usage totals so far (a ``rillflow.usage.Totals``) when a ``UsageMeter`` watched it."""
        return self.extras.get("usage")
