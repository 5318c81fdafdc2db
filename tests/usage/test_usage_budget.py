"""Budgets: each limit ends a run before the LLM call that would go over it, naming the limit and the
node; a durable run stopped by a budget is saved as failed and resumes with a raised limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from usage_helpers import counting_model, tool_script

from rillflow import AsyncFlow, AsyncNode, FlowError
from rillflow.agents import Agent, run_many, tool
from rillflow.durable import Done, SQLiteCheckpointer
from rillflow.llm import ScriptedModel
from rillflow.usage import Budget, BudgetExceeded, Price, Totals, UsageMeter


@tool
async def lookup(key: str) -> str:
    """Look a key up."""
    return f"value-{key}"


def agent(model: ScriptedModel) -> AsyncFlow:
    helper = Agent(model, [lookup], protocol="native", max_iterations=10, name="Helper")
    return AsyncFlow(helper, name="Pipeline")


@pytest.mark.parametrize(
    ("limits", "limit", "calls_made"),
    [
        ({"max_llm_calls": 2}, "max_llm_calls", 2),
        ({"max_tokens": 40}, "max_tokens", 3),  # 15 tokens a call: 45 >= 40 after the third
        ({"max_cost": 30 / 1e6}, "max_cost", 2),  # $15 per million a call
    ],
)
async def test_each_limit_stops_the_run_before_the_next_llm_call(
    limits: dict[str, float], limit: str, calls_made: int
) -> None:
    model = ScriptedModel(tool_script(5))
    meter = UsageMeter(prices={"m": Price(1.0, 1.0)}, **limits)
    with pytest.raises(BudgetExceeded) as caught:
        await agent(model).run_async({"question": "q"}, hooks=[meter])
    error = caught.value
    assert isinstance(error, FlowError)
    assert error.limit == limit and error.path == ("Pipeline", "Helper", "Think")
    assert len(model.calls) == calls_made == error.used.llm_calls  # the call at the limit was not sent
    assert f"budget {limit}=" in str(error) and "Pipeline > Helper > Think" in str(error)
    assert meter.totals.tool_calls == calls_made  # every tool call that started finished


async def test_a_budget_never_interrupts_a_tool_call() -> None:
    started, finished = [], []

    @tool
    async def slow(key: str) -> str:
        """Takes a while."""
        started.append(key)
        await model.generate_async("inside a tool")  # a tool that itself calls the model
        finished.append(key)
        return f"value-{key}"

    model = ScriptedModel(tool_script(3, tool="slow"))
    meter = UsageMeter(max_llm_calls=1)
    with pytest.raises(BudgetExceeded) as caught:
        await Agent(model, [slow], protocol="native").run_async({"question": "q"}, hooks=[meter])
    # The tool's own LLM call is refused before it is sent: the tool reports an error like any tool
    # error, and the run ends at the agent's next model turn.
    assert started == ["k0"] and finished == []
    assert caught.value.path == ("Agent", "Think") and len(model.calls) == 1


async def test_limits_apply_to_each_run_of_run_many() -> None:
    model = ScriptedModel(tool_script(1))
    results = await run_many(
        Agent(model, [lookup], protocol="native"),
        [{"question": "a"}, {"question": "b"}, {"question": "c"}],
        hooks=[UsageMeter(max_llm_calls=2)],
    )
    assert all(r.ok for r in results)  # each run makes exactly 2 calls: under its own limit
    failing = await run_many(
        Agent(ScriptedModel(tool_script(2)), [lookup], protocol="native"),
        [{"question": "a"}, {"question": "b"}],
        hooks=[UsageMeter(max_llm_calls=2)],
    )
    assert all(isinstance(r.error, BudgetExceeded) for r in failing)


def test_bad_limits_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        Budget(max_tokens=-1)
    with pytest.raises(ValueError, match="prices"):
        UsageMeter(max_cost=1.0)
    with pytest.raises(ValueError, match="either"):
        UsageMeter(budget=Budget(max_tokens=1), max_llm_calls=2)


async def test_durable_run_stopped_by_a_budget_is_saved_failed_and_resumes_with_a_raised_limit(
    tmp_path: Path,
) -> None:
    db = SQLiteCheckpointer(str(tmp_path / "runs.db"))
    model = ScriptedModel(tool_script(3))
    flow = agent(model)
    with pytest.raises(BudgetExceeded):
        await flow.run_async(
            {"question": "q"}, run_id="r1", checkpointer=db, hooks=[UsageMeter(max_llm_calls=2)]
        )
    info = db.list_runs()[0]
    assert info.status == "failed" and "max_llm_calls" in (info.error or "")
    assert len(model.calls) == 2

    # The same limit again: the stored usage counts, so it stops at once, sending nothing.
    with pytest.raises(BudgetExceeded):
        await flow.resume_async("r1", checkpointer=db, hooks=[UsageMeter(max_llm_calls=2)])
    assert len(model.calls) == 2

    meter = UsageMeter(max_llm_calls=10)
    done = await flow.resume_async("r1", checkpointer=db, hooks=[meter])
    assert isinstance(done, Done) and done.shared["agent"]["answer"] == "answer after 3"
    assert len(model.calls) == 4 and meter.totals.llm_calls == 2  # this attempt's calls
    assert isinstance(done.usage, Totals)
    assert (done.usage.llm_calls, done.usage.tool_calls) == (4, 3)  # the whole run, across attempts
    db.close()


async def test_durable_done_and_paused_carry_the_runs_usage(tmp_path: Path) -> None:
    db = SQLiteCheckpointer(str(tmp_path / "runs.db"))

    class Ask(AsyncNode):
        async def exec_async(self, prep_res: object) -> str:
            return (await model.generate_async("hi")).text

    class Approve(AsyncNode):
        async def prep_async(self, shared: dict[str, object]) -> object:
            return self.interrupt({"question": "ok?"})

    model = counting_model()
    flow = AsyncFlow(Ask())
    flow.start_node >> Approve()  # type: ignore[operator]
    paused = await flow.run_async({}, run_id="p1", checkpointer=db, hooks=[UsageMeter()])
    assert paused.paused and paused.usage.llm_calls == 1
    done = await flow.resume_async("p1", "yes", checkpointer=db, hooks=[UsageMeter()])
    assert done.usage.llm_calls == 1 and done.usage.total_tokens == 15
    db.close()


def test_a_sync_flow_stops_at_its_budget_too() -> None:
    from rillflow import Flow, Node

    model = counting_model()

    class Ask(Node):
        def exec(self, prep_res: object) -> str:
            return model.generate("hi").text

    ask = Ask()
    ask >> Ask(name="Second") >> Ask(name="Third")
    with pytest.raises(BudgetExceeded) as caught:
        Flow(ask, name="Sync").run({}, hooks=[UsageMeter(max_tokens=30)])
    assert caught.value.path == ("Sync", "Third") and len(model.calls) == 2


async def test_the_durable_record_keeps_the_usage_as_an_ordinary_entry(tmp_path: Path) -> None:
    db = SQLiteCheckpointer(str(tmp_path / "runs.db"))
    await agent(ScriptedModel(tool_script(1))).run_async(
        {"question": "q"}, run_id="r", checkpointer=db, hooks=[UsageMeter()]
    )
    stored = Totals.from_json(db.load("r").entries[("x", "usage")])
    assert (stored.llm_calls, stored.tool_calls, stored.total_tokens) == (2, 1, 30)
    db.close()
