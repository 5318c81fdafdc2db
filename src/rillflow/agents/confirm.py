"""Human confirmation of tool calls: a callback, or a pause of the run (``node.interrupt``)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.node import BaseNode
from ..llm.types import ToolCall

CONFIRM_KIND = "confirm_tool_calls"


@dataclass(frozen=True)
class ConfirmRequest:
    """One tool call waiting for a human decision; ``arguments`` is the raw JSON text from the model."""

    call_id: str
    tool: str
    arguments: str


Confirm = Callable[[ConfirmRequest], bool | Awaitable[bool]]
"""A confirmation callback, sync or async: True runs the call, False declines it."""


async def decide(node: BaseNode, calls: Sequence[ToolCall], confirm: Confirm | None) -> dict[str, bool]:
    """Ask about ``calls`` (those needing confirmation); returns ``call id -> approved``.

    With a ``confirm`` callback, it is asked once per call. Without one the node pauses the run with
    ``node.interrupt(payload)``, one pause for all the calls of the turn. Under a durable run that saves
    the run; ``flow.resume(run_id, answer)`` then answers with True/False for all, or a mapping
    ``{call_id: bool}`` (a call it leaves out is declined). With neither, the :class:`Interrupt` propagates.
    """
    if not calls:
        return {}
    requests = [ConfirmRequest(call.id, call.name, call.arguments) for call in calls]
    if confirm is not None:
        decisions = {}
        for request in requests:
            answer = confirm(request)
            decisions[request.call_id] = bool(await answer if inspect.isawaitable(answer) else answer)
        return decisions
    payload = {
        "kind": CONFIRM_KIND,
        "calls": [{"id": r.call_id, "tool": r.tool, "arguments": r.arguments} for r in requests],
    }
    return read_answer(node.interrupt(payload), requests)


def read_answer(answer: Any, requests: Sequence[ConfirmRequest]) -> dict[str, bool]:
    """The decisions in a resume answer: a bool for every call, or a mapping by call id."""
    if isinstance(answer, bool):
        return {request.call_id: answer for request in requests}
    if isinstance(answer, Mapping):
        return {request.call_id: bool(answer.get(request.call_id, False)) for request in requests}
    raise TypeError(
        "the answer to a tool confirmation must be True/False or a mapping {call_id: bool}, "
        f"got {type(answer).__name__}"
    )
