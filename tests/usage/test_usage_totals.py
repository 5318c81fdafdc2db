"""Usage accounting: every LLM and tool call is counted, nested under its node, summed over nested flows,
parallel batches and run_many; totals reach listeners, streams and the meter."""

from __future__ import annotations

import pytest
from usage_helpers import counting_model, tool_script

from rillflow import AsyncFlow, AsyncNode, AsyncParallelBatchNode, Flow, Node
from rillflow.agents import Agent, run_many, tool
from rillflow.llm import ScriptedModel
from rillflow.llm.calls import LLMCall, ToolRun
from rillflow.observe import Emit
from rillflow.usage import Price, Totals, UsageMeter


@tool
async def lookup(key: str) -> str:
    """Look a key up."""
    return f"value-{key}"


class Ask(AsyncNode):
    def __init__(self, model: ScriptedModel, name: str | None = None) -> None:
        super().__init__(name=name)
        self.model = model

    async def exec_async(self, prep_res: object) -> str:
        return (await self.model.generate_async("hello there")).text


class AskEach(AsyncParallelBatchNode):
    def __init__(self, model: ScriptedModel) -> None:
        super().__init__(max_concurrency=3)
        self.model = model

    async def prep_async(self, shared: dict[str, object]) -> list[int]:
        return list(range(5))

    async def exec_async(self, item: int) -> str:
        return (await self.model.generate_async(f"item {item}")).text


class AskSync(Node):
    def __init__(self, model: ScriptedModel) -> None:
        super().__init__()
        self.model = model

    def exec(self, prep_res: object) -> str:
        return self.model.generate("sync hello").text


async def test_totals_sum_nested_flows_parallel_batches_and_sync_nodes_in_threads() -> None:
    model = counting_model(prompt=10, completion=5, cached=4)
    inner = AsyncFlow(Ask(model, "Draft"), name="Writing")
    inner.start_node >> AskEach(model) >> AskSync(model)  # type: ignore[operator]
    flow = AsyncFlow(Ask(model, "Plan"), name="Pipeline")
    flow.start_node >> inner  # type: ignore[operator]
    meter = UsageMeter(prices={"m": Price(prompt=1.0, completion=2.0, cached=0.5)})
    await flow.run_async({}, hooks=[meter])
    t = meter.totals
    assert (t.llm_calls, t.prompt_tokens, t.completion_tokens, t.cached_tokens) == (8, 80, 40, 32)
    assert t.total_tokens == 120 and t.llm_errors == 0
    assert t.cost == pytest.approx(8 * (6 * 1.0 + 4 * 0.5 + 5 * 2.0) / 1e6)
    by_node = {" > ".join(p): n.llm_calls for p, n in meter.by_node.items()}
    assert by_node == {
        "Pipeline > Plan": 1,
        "Pipeline > Writing > Draft": 1,
        "Pipeline > Writing > AskEach": 5,
        "Pipeline > Writing > AskSync": 1,
    }


async def test_agent_run_counts_llm_and_tool_calls_and_run_many_sums_runs_each_with_its_own_totals() -> None:
    model = ScriptedModel(tool_script(2))
    agent = Agent(model, [lookup], protocol="native", max_iterations=5)
    meter = UsageMeter()
    ends: list[Totals] = []

    def listener(event: object) -> None:
        if isinstance(event, Emit) and event.kind == "usage":
            ends.append(event.data)

    results = await run_many(
        agent, [{"question": f"q{i}"} for i in range(4)], hooks=[meter], listeners=[listener]
    )
    assert all(r.ok for r in results)
    assert meter.totals.llm_calls == 4 * 3 and meter.totals.tool_calls == 4 * 2
    assert meter.totals.total_tokens == 4 * 3 * 15 and meter.runs == 4
    assert [(e.llm_calls, e.tool_calls) for e in ends] == [(3, 2)] * 4  # one usage event per run
    assert set(meter.by_node) == {("Agent", "Think"), ("Agent", "Act")}


async def test_run_many_inside_a_node_is_counted_under_that_node() -> None:
    model = ScriptedModel(tool_script(1))
    agent = Agent(model, [lookup], protocol="native")

    class Fan(AsyncNode):
        async def exec_async(self, prep_res: object) -> int:
            return len(await run_many(agent, [{"question": "a"}, {"question": "b"}]))

    meter = UsageMeter()
    await AsyncFlow(Fan(), name="Top").run_async({}, hooks=[meter])
    assert meter.totals.llm_calls == 4 and meter.totals.tool_calls == 2
    # A flow run from inside a node continues that node's path.
    assert set(meter.by_node) == {("Top", "Fan", "Think"), ("Top", "Fan", "Act")}


async def test_llm_and_tool_events_carry_model_tool_duration_tokens_and_node_path() -> None:
    model = ScriptedModel(tool_script(1))
    agent = Agent(model, [lookup], protocol="native", name="Helper")
    events: list[Emit] = []
    await agent.run_async(
        {"question": "q"}, listeners=[lambda e: events.append(e) if isinstance(e, Emit) else None]
    )
    kinds = [e.kind for e in events]
    assert kinds == ["llm_start", "llm_call", "tool_call", "llm_start", "llm_call", "usage"][: len(kinds)]
    llm = next(e for e in events if e.kind == "llm_call")
    assert isinstance(llm.data, LLMCall) and llm.path == ("Helper", "Think")
    assert llm.data.model == "scripted" and llm.data.usage.total_tokens == 15 and llm.data.duration >= 0
    run = next(e for e in events if e.kind == "tool_call")
    assert isinstance(run.data, ToolRun) and run.path[:2] == ("Helper", "Act")
    assert (run.data.tool, run.data.ok, run.data.output) == ("lookup", True, "value-k0")


async def test_failed_and_streamed_calls_are_counted() -> None:
    from rillflow.llm import NO_RETRY, LLMError

    model = ScriptedModel(["fine words here", LLMError("down", transient=False)], retry=NO_RETRY)

    class Stream(AsyncNode):
        async def exec_async(self, prep_res: object) -> str:
            return "".join([c async for c in model.stream_async("go")])

    meter = UsageMeter()
    flow = AsyncFlow(Stream())
    flow.start_node >> Ask(model)  # type: ignore[operator]
    with pytest.raises(LLMError):
        await flow.run_async({}, hooks=[meter])
    assert meter.totals.llm_calls == 2 and meter.totals.llm_errors == 1
    assert meter.totals.completion_tokens == 3  # the streamed reply's usage


def test_sync_flow_and_stream_async_usage_event() -> None:
    model = counting_model()
    meter = UsageMeter()
    Flow(AskSync(model)).run({}, hooks=[meter])
    assert meter.totals.llm_calls == 1 and meter.run_totals() is None  # the run's context var is reset


async def test_stream_async_yields_usage_before_run_end() -> None:
    model = counting_model()
    kinds = []
    last = None
    async for event in AsyncFlow(Ask(model)).stream_async({}, hooks=[UsageMeter()]):
        kinds.append(event.kind)
        if event.kind == "usage":
            last = event.data
    assert kinds[-2:] == ["usage", "run_end"]
    assert isinstance(last, Totals) and last.llm_calls == 1 and last.total_tokens == 15


def test_unpriced_models_are_reported_not_silently_free() -> None:
    meter = UsageMeter(prices={"other": Price(1.0, 1.0)})
    Flow(AskSync(counting_model())).run({}, hooks=[meter])
    assert meter.totals.unpriced_calls == 1 and meter.totals.cost == 0
    assert "unpriced" in meter.totals.summary()


def test_totals_round_trip_and_summary() -> None:
    t = Totals(llm_calls=2, prompt_tokens=1000, completion_tokens=204, tool_calls=1, cost=0.5)
    assert Totals.from_json(t.to_json()) == t
    assert t.summary() == "2 LLM calls, 1,204 tokens (1,000 prompt, 204 completion), 1 tool call, $0.500000"
