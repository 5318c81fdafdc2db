"""A chat loop as a flow: read a line -> the agent answers (with a tool when useful) -> show it -> again.

The conversation lives in ``shared["agent"]["messages"]``, so every turn sees the earlier ones. Reading
the keyboard is a plain sync node: inside the AsyncFlow its blocking ``input()`` runs in a worker thread
and never stalls the event loop. Type ``quit`` (or an empty line) to stop.

    python examples/chat_loop.py [--llm SPEC] [--dry-run]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

from rillflow import AsyncFlow, Node
from rillflow.agents import Agent, tool
from rillflow.llm import Model, Reply, ScriptedModel, ToolCall, default_model

FACTORS = {("km", "mi"): 0.621371, ("mi", "km"): 1.609344, ("kg", "lb"): 2.204623, ("lb", "kg"): 0.453592}


@tool
def convert(
    value: Annotated[float, "the quantity to convert"],
    from_unit: Literal["km", "mi", "kg", "lb"],
    to_unit: Literal["km", "mi", "kg", "lb"],
) -> str:
    """Convert a distance (km, mi) or a weight (kg, lb) to another unit."""
    factor = FACTORS.get((from_unit, to_unit))
    if factor is None:
        raise ValueError(f"cannot convert {from_unit} to {to_unit}")
    return f"{value} {from_unit} = {value * factor:.2f} {to_unit}"


class ReadLine(Node):
    """Ask the user for a line (a blocking call: run in a worker thread by the AsyncFlow)."""

    def __init__(self, read: Callable[[str], str]) -> None:
        super().__init__()
        self.read = read

    def exec(self, prep_res: Any) -> str:
        try:
            return self.read("you> ").strip()
        except EOFError:
            return ""

    def post(self, shared: dict[str, Any], prep_res: Any, line: str) -> str:
        if line.lower() in {"", "quit", "exit"}:
            return "quit"
        shared["question"] = line
        return "chat"


class Show(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        state = shared["agent"]
        print(f"bot> {state['answer'] if state['outcome'] == 'answer' else '(no answer, sorry)'}")


class Bye(Node):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        print(f"bye ({sum(m['role'] == 'user' for m in shared.get('agent', {}).get('messages', []))} turns)")


def build_flow(model: Model, read: Callable[[str], str] = input) -> AsyncFlow:
    agent = Agent(
        model,
        [convert],
        instructions="You are a friendly assistant. Use the convert tool for unit conversions.",
        max_iterations=3,
        answer_on_last_turn=True,
        model_options={"max_tokens": 200, "temperature": 0.0, "seed": 7},
    )
    read_line, show = ReadLine(read), Show()
    read_line - "chat" >> agent >> show >> read_line
    agent - "max_iterations" >> show
    read_line - "quit" >> Bye()
    return AsyncFlow(start=read_line)


def scripted_model() -> ScriptedModel:
    """Plays the model: converts when asked to, else echoes politely."""

    def reply(prompt: str) -> Reply | str:
        last = prompt.splitlines()[-1]
        if last.startswith("Convert 5 km") or last.startswith("convert 5 km"):
            args = '{"value": 5, "from_unit": "km", "to_unit": "mi"}'
            return Reply("", "tool_calls", tool_calls=(ToolCall("t1", "convert", args),))
        if " = " in last:
            return f"That is {last.split(' = ')[1]}."
        return f"You said: {last}"

    return ScriptedModel(reply)


async def main(model: Model | None = None, lines: Iterable[str] | None = None) -> dict[str, Any]:
    read: Callable[[str], str] = input
    if lines is not None:
        feed = iter(lines)

        def read(prompt: str) -> str:
            line = next(feed, "quit")
            print(f"{prompt}{line}")
            return line

    shared: dict[str, Any] = {}
    await build_flow(model or default_model(), read).run_async(shared)
    return shared


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--llm", help="model spec: 'local' (default) or 'openai:<model>'")
    parser.add_argument("--dry-run", action="store_true", help="use a scripted model and scripted input")
    args = parser.parse_args()
    if args.dry_run:
        asyncio.run(main(scripted_model(), ["Hello!", "Convert 5 km to miles", "quit"]))
    else:
        asyncio.run(main(default_model(args.llm)))
