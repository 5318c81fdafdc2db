"""Toolbox: sync tools in threads, async tools awaited, timeouts, and failures returned as messages."""

from __future__ import annotations

import asyncio
import threading
import time

import pydantic
import pytest
from agents_helpers import overlap

from rillflow.agents import Toolbox, tool
from rillflow.llm import ToolCall


def call(name: str, arguments: str = "{}", call_id: str = "c1") -> ToolCall:
    return ToolCall(call_id, name, arguments)


async def test_a_blocking_sync_tool_runs_off_the_loop_while_the_loop_keeps_ticking() -> None:
    ticked = threading.Event()
    seen: dict[str, str] = {}

    @tool
    def blocking() -> bool:
        """Block this thread until the loop has ticked three times."""
        seen["thread"] = threading.current_thread().name
        return ticked.wait(timeout=10)  # would never be set if this ran on the loop's thread

    async def ticker() -> None:
        for _ in range(3):
            await asyncio.sleep(0.01)
        ticked.set()

    tick = asyncio.create_task(ticker())
    result = await Toolbox([blocking]).run(call("blocking"))
    await tick
    assert result.ok and result.value is True
    assert seen["thread"] != threading.current_thread().name


async def test_two_slow_tools_of_one_turn_overlap() -> None:
    spans: dict[str, tuple[float, float]] = {}

    @tool
    def slow_sync(label: str) -> str:
        """Sleep in a thread."""
        start = time.perf_counter()
        time.sleep(0.2)
        spans[label] = (start, time.perf_counter())
        return label

    @tool
    async def slow_async(label: str) -> str:
        """Sleep on the loop."""
        start = time.perf_counter()
        await asyncio.sleep(0.2)
        spans[label] = (start, time.perf_counter())
        return label

    box = Toolbox([slow_sync, slow_async])
    results = await box.run_all(
        [call("slow_sync", '{"label": "a"}', "1"), call("slow_async", '{"label": "b"}', "2")]
    )
    assert [r.output for r in results] == ["a", "b"]
    assert overlap(spans["a"], spans["b"])


async def test_run_all_respects_its_bound_and_keeps_call_order() -> None:
    active = peak = 0

    @tool
    async def work(n: int) -> int:
        """Count concurrent calls."""
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01 * (5 - n))
        active -= 1
        return n

    calls = [call("work", f'{{"n": {n}}}', str(n)) for n in range(5)]
    results = await Toolbox([work]).run_all(calls, max_concurrency=2)
    assert [r.value for r in results] == [0, 1, 2, 3, 4]
    assert [r.call_id for r in results] == ["0", "1", "2", "3", "4"]
    assert peak == 2


@pytest.mark.parametrize("is_async", [False, True])
async def test_a_tool_over_its_timeout_returns_an_error(is_async: bool) -> None:
    release = threading.Event()

    def wait_sync() -> str:
        release.wait(timeout=10)
        return "late"

    async def wait_async() -> str:
        await asyncio.sleep(10)
        return "late"

    slow = tool(name="slow", timeout=0.05)(wait_async if is_async else wait_sync)
    result = await Toolbox([slow]).run(call("slow"))
    release.set()  # lets the abandoned thread finish
    assert not result.ok
    assert result.output == "Error: slow timed out after 0.05s"
    assert isinstance(result.exception, TimeoutError)


async def test_the_toolbox_timeout_applies_to_tools_without_their_own() -> None:
    @tool
    async def hang() -> None:
        """Never returns in time."""
        await asyncio.sleep(10)

    result = await Toolbox([hang], timeout=0.02).run(call("hang"))
    assert result.output == "Error: hang timed out after 0.02s"


async def test_a_timeout_error_raised_by_the_tool_itself_is_reported_as_its_failure() -> None:
    @tool
    async def upstream() -> None:
        """Raises its own TimeoutError."""
        raise TimeoutError("upstream took too long")

    result = await Toolbox([upstream], timeout=5).run(call("upstream"))
    assert result.output == "Error: TimeoutError: upstream took too long"


async def test_an_exception_in_a_tool_becomes_an_error_result() -> None:
    @tool
    def divide(a: float, b: float) -> float:
        """Divide."""
        return a / b

    result = await Toolbox([divide]).run(call("divide", '{"a": 1, "b": 0}'))
    assert not result.ok
    assert result.output.startswith("Error: divide failed: ZeroDivisionError: ")
    assert isinstance(result.exception, ZeroDivisionError)
    assert result.arguments == {"a": 1, "b": 0}


async def test_unknown_tools_and_bad_arguments_are_never_called() -> None:
    calls: list[int] = []

    @tool
    def record(n: int) -> None:
        """Record."""
        calls.append(n)

    box = Toolbox([record])
    unknown = await box.run(call("recrod", '{"n": 1}'))
    assert unknown.output == "Error: there is no tool named 'recrod' (available: record)"
    invalid = await box.run(call("record", '{"n": "one"}'))
    assert invalid.output == "Error: invalid arguments for record: n: expected integer, got string 'one'"
    assert invalid.record()["arguments"] == {"n": "one"}
    assert calls == []


async def test_results_are_shown_to_the_model_as_text_or_json() -> None:
    class City(pydantic.BaseModel):
        name: str
        people: int

    @tool
    def text() -> str:
        """Text."""
        return "plain"

    @tool
    def data() -> dict[str, object]:
        """Data."""
        return {"city": City(name="Oslo", people=700000), "ok": True}

    box = Toolbox([text, data])
    assert (await box.run(call("text"))).output == "plain"
    assert (await box.run(call("data"))).output == '{"city": {"name": "Oslo", "people": 700000}, "ok": true}'


def test_plain_functions_become_tools_and_names_must_be_unique() -> None:
    def echo(text: str) -> str:
        """Echo."""
        return text

    box = Toolbox([echo])
    assert "echo" in box and len(box) == 1
    assert box.specs()[0]["function"]["name"] == "echo"
    with pytest.raises(ValueError, match="two tools are named 'echo'"):
        Toolbox([echo, tool(echo)])


async def test_a_record_keeps_the_arguments_as_sent_even_when_the_tool_changes_them() -> None:
    @tool
    def grab(items: list[str], key: str = "k") -> str:
        items.append("added by the tool")
        return key

    box = Toolbox([grab])
    listed = (await box.run(call("grab", '{"items": ["a"]}'))).record()
    scalars = (await box.run(call("grab", '{"items": [], "key": "x"}'))).record()
    assert listed["arguments"] == {"items": ["a"]}
    assert scalars["arguments"] == {"items": [], "key": "x"}

    @tool
    def echo(key: str) -> str:
        return key

    flat = (await Toolbox([echo]).run(call("echo", '{"key": "v"}'))).record()
    assert flat == {"id": "c1", "tool": "echo", "arguments": {"key": "v"}, "ok": True, "output": "v"}


def test_the_specs_follow_a_tool_added_after_they_were_built() -> None:
    @tool
    def first() -> str:
        return "1"

    @tool
    def second() -> str:
        return "2"

    box = Toolbox([first])
    assert [s["function"]["name"] for s in box.specs()] == ["first"]
    box.tools["second"] = second  # as multi-agent specs do after building an agent
    assert [s["function"]["name"] for s in box.specs()] == ["first", "second"]
    assert box.specs() is not box.specs()  # a new list each time: a caller may extend it
