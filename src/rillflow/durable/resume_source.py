"""How a resumed durable run is steered: the positions, finished items and answer its checkpoint holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.context import Path
from ..core.flow import Flow
from ..core.hooks import ResumePoint, ResumeSource
from ..core.node import BaseNode
from .serialize import Serializer
from .state import RunState, decode


class CheckpointResume(ResumeSource):
    """Answers the engine's steering questions from the checkpoint a run resumes, each once."""

    def __init__(self, run_id: str, serializer: Serializer, state: RunState) -> None:
        self.run_id, self.serializer, self.state = run_id, serializer, state
        self._resume = dict(state.positions)
        self._finished = {p: dict(items) for p, items in state.items.items()}
        self._prepped = dict(state.prepped)
        self._answered: set[Path] = set()  # each stored answer is given once per process

    def resume_point(self, *, path: Path, **_: Any) -> ResumePoint | None:
        pos = self._resume.pop(path, None) if self._resume else None
        return None if pos is None else ResumePoint(*pos)

    def finished_items(self, *, node: BaseNode, path: Path, **_: Any) -> Mapping[int, Any]:
        done = self._finished.pop(path, None) if self._finished else None
        if not done:
            return {}
        if isinstance(node, Flow):  # a batch flow's items leave their results in `shared`
            return dict.fromkeys(done)
        where = " > ".join(path)
        loads = self.serializer.loads
        return {
            i: decode(data, loads, f"the result of item {i} of {where}", self.run_id)
            for i, data in done.items()
        }

    def prep_result(self, *, path: Path, **_: Any) -> tuple[bool, Any]:
        data = self._prepped.pop(path, None) if self._prepped else None
        if data is None:
            return False, None
        what = f"the prep result of {' > '.join(path)}"
        return True, decode(data, self.serializer.loads, what, self.run_id)

    def take_answer(self, *, path: Path, **_: Any) -> tuple[bool, Any]:
        # The answers live in the run's state until the node that asked finishes (the recorder drops
        # them then), so a crash before that gives the answer again on the next resume.
        data = self.state.answers.get(path) if self.state.answers else None
        if data is None or path in self._answered:
            return False, None
        self._answered.add(path)
        return True, decode(data, self.serializer.loads, f"the answer for {' > '.join(path)}", self.run_id)
