"""Helpers for the usage tests: a scripted model with fixed token counts, and a tool-calling script."""

from __future__ import annotations

import json
from collections.abc import Callable

from rillflow.llm import Reply, ScriptedModel, ToolCall, Usage


def fixed_reply(text: str, prompt: int = 10, completion: int = 5, cached: int = 0) -> Reply:
    return Reply(text, usage=Usage(prompt, completion, cached), model="m")


def counting_model(prompt: int = 10, completion: int = 5, cached: int = 0) -> ScriptedModel:
    """Every call costs ``prompt`` + ``completion`` tokens and answers "ok"."""
    return ScriptedModel(lambda _: fixed_reply("ok", prompt, completion, cached), name="m")


def tool_script(steps: int, tool: str = "lookup") -> Callable[[str], Reply]:
    """Ask for ``tool`` until ``steps`` results are in the conversation, then answer (10 + 5 tokens each)."""

    def reply(prompt: str) -> Reply:
        done = prompt.count("value-")
        if done < steps:
            call = ToolCall(f"c{done}", tool, json.dumps({"key": f"k{done}"}))
            return Reply("", "tool_calls", Usage(10, 5), (call,), model="m")
        return fixed_reply(f"answer after {done}")

    return reply
