"""Helpers shared by the observability tests (a module of its own: test files import it by name)."""

from __future__ import annotations

from typing import Any

from rillflow.observe import Event


class Recorder:
    """A sync listener keeping every event; ``brief()`` gives ``(kind, path text)`` pairs to compare."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def brief(self, *, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        return [(e.kind, e.where) for e in self.events if e.kind not in skip]

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.kind == kind]
