"""Fitting an agent's conversation into the model's context: the oldest parts are left out of a request
(``shared`` keeps the whole history)."""

from __future__ import annotations

from collections.abc import Sequence

from ..llm.types import Message, prompt_text

# Few characters per token on purpose (JSON tokenizes densely): the estimate errs towards leaving out.
CHARS_PER_TOKEN = 3


def estimated_tokens(messages: Sequence[Message]) -> int:
    """A deliberately high estimate of the tokens ``messages`` take."""
    return len(prompt_text(messages)) // CHARS_PER_TOKEN + 4 * len(messages)


def fit_history(messages: list[Message], run_start: int, budget: int) -> list[Message]:
    """``messages`` without their oldest parts, so that they fit ``budget`` tokens if possible.

    Kept always: the system prompt, this run's question (``messages[run_start]``) and the latest model
    turn with its results. Left out first: earlier runs of the conversation, oldest first; then this
    run's oldest turns (a model message with the tool results or feedback that follow it).
    """
    if estimated_tokens(messages) <= budget:
        return messages
    head = messages[:1] if messages and messages[0].get("role") == "system" else []
    earlier = messages[len(head) : run_start]
    question = messages[run_start : run_start + 1]
    turns = _turns(messages[run_start + 1 :])
    while earlier and estimated_tokens(head + earlier + question + _flat(turns)) > budget:
        earlier = earlier[1:]
        while earlier and earlier[0].get("role") != "user":  # never start inside a tool round
            earlier = earlier[1:]
    while len(turns) > 1 and estimated_tokens(head + earlier + question + _flat(turns)) > budget:
        turns = turns[1:]
    return head + earlier + question + _flat(turns)


def _turns(messages: list[Message]) -> list[list[Message]]:
    """Model turns: each assistant message with the messages that follow it up to the next one."""
    turns: list[list[Message]] = []
    for message in messages:
        if message.get("role") == "assistant" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def _flat(turns: list[list[Message]]) -> list[Message]:
    return [message for turn in turns for message in turn]
