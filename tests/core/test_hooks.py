"""The engine's hook contract, which events, progress, tracing and durable runs are built on."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

import rillflow as rf
from rillflow.core.context import HOOKS, PATH, RESUME
from rillflow.hooks import (
    HOOK_METHODS,
    MultiHooks,
    Path,
    ResumePoint,
    ResumeSource,
    RunHooks,
    current_hooks,
    current_path,
    emit,
    graph_nodes,
    label,
)


class Recorder(RunHooks):
    def __init__(self) -> None:
        self.log: list[tuple[Any, ...]] = []

    def on_run_start(self, *, path: Path, **_: Any) -> None:
        self.log.append(("run_start", path))

    def on_run_end(self, *, path: Path, result: Any, error: BaseException | None, **_: Any) -> None:
        self.log.append(("run_end", path, result, type(error).__name__ if error else None))

    def on_node_start(self, *, path: Path, **_: Any) -> None:
        self.log.append(("start", path))

    def on_node_end(
        self, *, path: Path, action: Any, error: BaseException | None, duration: float, **_: Any
    ) -> None:
        assert duration >= 0
        self.log.append(("end", path, action, type(error).__name__ if error else None))

    def on_step(self, *, path: Path, next_key: str | None, steps: int, **_: Any) -> None:
        self.log.append(("step", path, next_key, steps))

    def on_retry(self, *, path: Path, attempt: int, delay: float, **_: Any) -> None:
        self.log.append(("retry", path, attempt, delay))

    def on_fallback(self, *, path: Path, error: BaseException, **_: Any) -> None:
        self.log.append(("fallback", path, str(error)))

    def on_items(self, *, path: Path, total: int, **_: Any) -> None:
        self.log.append(("items", path, total))

    def on_item_start(self, *, path: Path, index: int, **_: Any) -> None:
        self.log.append(("item_start", path, index))

    def on_item_end(
        self, *, path: Path, index: int, result: Any, error: BaseException | None, **_: Any
    ) -> None:
        self.log.append(("item_end", path, index, result, type(error).__name__ if error else None))

    def on_emit(self, *, path: Path, kind: str, data: Any, **_: Any) -> None:
        self.log.append(("emit", path, kind, data))


class Route(rf.Node):
    def __init__(self, *actions: str, name: str | None = None) -> None:
        super().__init__(name=name)
        self.actions = list(actions)

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        n = shared.setdefault("visits", {}).setdefault(self.name, 0)
        shared["visits"][self.name] = n + 1
        return self.actions[n % len(self.actions)] if self.actions else None


def test_exact_sequence_for_branch_loop_and_nested_flow() -> None:
    decide = Route("again", "done", name="Decide")
    inner_step = Route(name="Step")
    inner = rf.Flow(inner_step, name="Inner")
    decide - "again" >> decide
    decide - "done" >> inner
    top = rf.Flow(decide, name="Top")
    rec = Recorder()
    assert top.run({}, hooks=rec) is None
    assert rec.log == [
        ("run_start", ("Top",)),
        ("start", ("Top", "Decide")),
        ("end", ("Top", "Decide"), "again", None),
        ("step", ("Top",), "Decide", 1),
        ("start", ("Top", "Decide")),
        ("end", ("Top", "Decide"), "done", None),
        ("step", ("Top",), "Inner", 2),
        ("start", ("Top", "Inner")),
        ("start", ("Top", "Inner", "Step")),
        ("end", ("Top", "Inner", "Step"), None, None),
        ("step", ("Top", "Inner"), None, 1),
        ("end", ("Top", "Inner"), None, None),
        ("step", ("Top",), None, 3),
        ("run_end", ("Top",), None, None),
    ]
    assert current_hooks() is None and current_path() == ()


async def test_same_sequence_in_async_flow() -> None:
    decide = Route("again", "done", name="Decide")
    decide - "again" >> decide
    decide - "done" >> Route(name="End")
    rec_sync, rec_async = Recorder(), Recorder()
    rf.Flow(decide, name="Top").run({}, hooks=rec_sync)
    await rf.AsyncFlow(decide, name="Top").run_async({}, hooks=[rec_async])
    assert rec_async.log == rec_sync.log


def test_error_is_reported_and_still_annotated() -> None:
    class Broken(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            raise ValueError("bad")

    rec = Recorder()
    with pytest.raises(ValueError) as info:
        rf.Flow(Broken(), name="Top").run({}, hooks=rec)
    assert ("end", ("Top", "Broken"), None, "ValueError") in rec.log
    assert rec.log[-1] == ("run_end", ("Top",), None, "ValueError")
    assert info.value.__notes__ == ["rillflow: raised in Top > Broken"]


def test_retry_and_fallback_are_reported_with_the_node_path() -> None:
    class Flaky(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            raise OSError(f"attempt {self.cur_retry}")

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return "fallback"

    rec = Recorder()
    rf.Flow(Flaky(max_retries=3, wait=0.001, backoff=2), name="Top").run({}, hooks=rec)
    failures = [e for e in rec.log if e[0] in ("retry", "fallback")]
    assert failures == [
        ("retry", ("Top", "Flaky"), 0, 0.001),
        ("retry", ("Top", "Flaky"), 1, 0.002),
        ("fallback", ("Top", "Flaky"), "attempt 2"),
    ]


def test_batch_node_items_and_item_path() -> None:
    class Batch(rf.BatchNode):
        def prep(self, shared: Any) -> Any:
            return ["a", "b"]

        def exec(self, item: str) -> Any:
            emit("text", item)
            return (item, current_path())

    rec = Recorder()
    rf.Flow(Batch(), name="Top").run({}, hooks=rec)
    items = [e for e in rec.log if e[0] in ("items", "item_start", "item_end", "emit")]
    assert items == [
        ("items", ("Top", "Batch"), 2),
        ("item_start", ("Top", "Batch"), 0),
        ("emit", ("Top", "Batch", "#0"), "text", "a"),
        ("item_end", ("Top", "Batch"), 0, ("a", ("Top", "Batch", "#0")), None),
        ("item_start", ("Top", "Batch"), 1),
        ("emit", ("Top", "Batch", "#1"), "text", "b"),
        ("item_end", ("Top", "Batch"), 1, ("b", ("Top", "Batch", "#1")), None),
    ]


async def test_parallel_batch_node_items_each_see_their_own_path() -> None:
    class Par(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return [0, 1, 2, 3]

        async def exec_async(self, item: int) -> Any:
            await asyncio.sleep(0.001 * (4 - item))
            return current_path()

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    for limit in (None, 2):
        rec, shared = Recorder(), {}
        await rf.AsyncFlow(Par(max_concurrency=limit), name="Top").run_async(shared, hooks=rec)
        assert shared["out"] == [("Top", "Par", f"#{i}") for i in range(4)]
        ends = {e[2] for e in rec.log if e[0] == "item_end"}
        assert ends == {0, 1, 2, 3}


@pytest.mark.parametrize("fail", [False, True])
async def test_a_one_item_parallel_batch_is_reported_as_an_item_without_a_task(fail: bool) -> None:
    class One(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return [0]

        async def exec_async(self, item: int) -> Any:
            if fail:
                raise ValueError("bad item")
            return current_path(), asyncio.current_task()

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res[0]

    rec, shared = Recorder(), {}
    flow = rf.AsyncFlow(One(name="One"), name="Top")
    if fail:
        with pytest.raises(ValueError) as info:
            await flow.run_async(shared, hooks=rec)
        assert rf.node_path(info.value) == ["Top", "One", "item 0 of 1"]
    else:
        await flow.run_async(shared, hooks=rec)
        assert shared["out"] == (("Top", "One", "#0"), asyncio.current_task())  # run inline, own path
    items = [e for e in rec.log if e[0].startswith("item")]
    error = "ValueError" if fail else None
    result = None if fail else shared["out"]
    assert items == [("items", ("Top", "One"), 1), ("item_start", ("Top", "One"), 0),
                     ("item_end", ("Top", "One"), 0, result, error)]  # fmt: skip
    assert current_path() == ()


async def test_parallel_batch_flow_items_reported_and_nested_paths() -> None:
    class Step(rf.AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("paths", []).append(current_path())

    class Fan(rf.AsyncParallelBatchFlow):
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": 0}, {"i": 1}]

    rec, shared = Recorder(), {}
    await Fan(Step(), name="Fan").run_async(shared, hooks=rec)
    assert sorted(shared["paths"]) == [("Fan", "#0", "Step"), ("Fan", "#1", "Step")]
    assert ("items", ("Fan",), 2) in rec.log
    assert {e[2] for e in rec.log if e[0] == "item_end"} == {0, 1}


class Resumer(ResumeSource):
    def __init__(
        self,
        points: dict[Path, ResumePoint],
        done: dict[Path, Mapping[int, Any]],
        answers: dict[Path, Any] | None = None,
    ) -> None:
        self.points, self.done, self.answers = points, done, answers or {}

    def resume_point(self, *, path: Path, **_: Any) -> ResumePoint | None:
        return self.points.pop(path, None)

    def finished_items(self, *, path: Path, **_: Any) -> Mapping[int, Any]:
        return self.done.get(path, {})

    def take_answer(self, *, path: Path, **_: Any) -> tuple[bool, Any]:
        return (True, self.answers.pop(path)) if path in self.answers else (False, None)


def steered(flow: rf.BaseNode, source: ResumeSource, hooks: RunHooks | None = None) -> Any:
    """Enter a run as the kernel's runner does for a resume (a durable run's steering without the store)."""
    tokens = HOOKS.set(hooks or Recorder()), RESUME.set(source), PATH.set((label(flow),))

    def leave() -> None:
        PATH.reset(tokens[2])
        RESUME.reset(tokens[1])
        HOOKS.reset(tokens[0])

    return leave


def test_resume_point_starts_nested_flows_at_the_saved_node() -> None:
    a, b = Route(name="A"), Route(name="B")
    a >> b
    inner = rf.Flow(a, name="Inner")
    first = Route(name="First")
    first >> inner >> Route(name="Last")
    top = rf.Flow(first, name="Top", max_steps=10)
    shared: dict[str, Any] = {}
    hooks = Recorder()
    leave = steered(
        top, Resumer({("Top",): ResumePoint("Inner", 1), ("Top", "Inner"): ResumePoint("B", 1)}, {}), hooks
    )
    try:
        top._run_top(shared)
    finally:
        leave()
    assert shared["visits"] == {"B": 1, "Last": 1}
    steps = [e for e in hooks.log if e[0] == "step"]
    assert steps[-1] == ("step", ("Top",), None, 3)


def test_resume_at_unknown_node_is_a_clear_error() -> None:
    flow = rf.Flow(Route(name="A"), name="Top")
    leave = steered(flow, Resumer({("Top",): ResumePoint("Gone", 0)}, {}))
    try:
        with pytest.raises(rf.FlowError, match="at node 'Gone': the flow has no such node"):
            flow._run_top({})
    finally:
        leave()


@pytest.mark.parametrize("kind", ["sync", "async", "parallel"])
async def test_finished_items_are_not_run_again(kind: str) -> None:
    ran: list[int] = []

    def work(item: int) -> int:
        ran.append(item)
        return item * 10

    class SyncBatch(rf.BatchNode):
        def prep(self, shared: Any) -> Any:
            return [0, 1, 2, 3]

        def exec(self, item: int) -> Any:
            return work(item)

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    class ParBatch(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> Any:
            return [0, 1, 2, 3]

        async def exec_async(self, item: int) -> Any:
            return work(item)

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    node = ParBatch(name="B") if kind == "parallel" else SyncBatch(name="B")
    flow = rf.Flow(node, name="Top") if kind == "sync" else rf.AsyncFlow(node, name="Top")
    shared: dict[str, Any] = {}
    leave = steered(flow, Resumer({}, {("Top", "B"): {1: "stored 1", 3: "stored 3"}}))
    try:
        if kind == "sync":
            flow._run_top(shared)
        else:
            await flow._run_top_async(shared)
    finally:
        leave()
    assert shared["out"] == [0, "stored 1", 20, "stored 3"]
    assert sorted(ran) == [0, 2]


@pytest.mark.parametrize("parallel", [False, True])
async def test_finished_batch_flow_items_are_skipped(parallel: bool) -> None:
    class Step(rf.AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("ran", []).append(self.params["i"])

    base = rf.AsyncParallelBatchFlow if parallel else rf.AsyncBatchFlow

    class Fan(base):  # type: ignore[valid-type,misc]
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": i} for i in range(4)]

    shared: dict[str, Any] = {}
    fan = Fan(Step(), name="Fan")
    leave = steered(fan, Resumer({}, {("Fan",): {0: None, 2: None}}))
    try:
        await fan._run_top_async(shared)
    finally:
        leave()
    assert sorted(shared["ran"]) == [1, 3]


def test_interrupt_raises_without_an_answer_and_returns_it_on_resume() -> None:
    class Ask(rf.Node):
        def prep(self, shared: dict[str, Any]) -> Any:
            shared["answer"] = self.interrupt({"question": "ship it?"})

    with pytest.raises(rf.Interrupt) as info:
        rf.Flow(Ask(), name="Top").run({}, hooks=Recorder())
    assert info.value.payload == {"question": "ship it?"}
    assert info.value.path == ("Top", "Ask")
    assert not isinstance(info.value, Exception)

    shared: dict[str, Any] = {}
    flow = rf.Flow(Ask(), name="Top")
    leave = steered(flow, Resumer({}, {}, {("Top", "Ask"): "yes"}))
    try:
        flow._run_top(shared)
    finally:
        leave()
    assert shared["answer"] == "yes"


def test_interrupt_is_not_retried_or_caught_by_fallback() -> None:
    class Ask(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            self.attempts = getattr(self, "attempts", 0) + 1
            return self.interrupt("confirm")

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            raise AssertionError("must not be called")

    node = Ask(max_retries=3)
    with pytest.raises(rf.Interrupt):
        node.run({})
    assert node.attempts == 1


def test_emit_without_hooks_is_a_no_op() -> None:
    class Talker(rf.Node):
        def exec(self, prep_res: Any) -> Any:
            emit("text", "hello")
            return "ok"

    assert Talker().run({}) is None


def test_unknown_run_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown run option"):
        rf.Flow(rf.Node()).run({}, hookz=Recorder())


def test_graph_nodes_keys_are_stable_and_unique() -> None:
    a, b1, b2 = Route(name="A"), Route(name="B"), Route(name="B")
    a - "x" >> b1
    a - "y" >> b2
    b2 >> a
    assert list(graph_nodes(rf.Flow(a))) == ["A", "B", "B#2"]


def test_graph_nodes_numbering_survives_explicit_numbered_names() -> None:
    a, b, named, c = Route(name="B"), Route(name="B"), Route(name="B#2"), Route(name="B")
    a >> b >> named >> c
    assert list(graph_nodes(rf.Flow(a))) == ["B", "B#2", "B#2#2", "B#3"]


def test_fan_out_forwards_every_hook_method_with_its_keywords() -> None:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def recording(tag: str) -> RunHooks:
        hooks = RunHooks()
        for name in HOOK_METHODS:
            setattr(hooks, name, lambda name=name, **fields: calls.append((tag, name, fields)))
        return hooks

    quiet = RunHooks()  # overrides nothing: never called
    fan = MultiHooks([recording("a"), quiet, recording("b")])
    for name in HOOK_METHODS:
        getattr(fan, name)(path=("F",), future_field=1)
    assert [(t, n) for t, n, _ in calls] == [(t, n) for n in HOOK_METHODS for t in "ab"]
    assert all(fields == {"path": ("F",), "future_field": 1} for _, _, fields in calls)
    assert set(HOOK_METHODS) == {n for n in vars(RunHooks) if n.startswith("on_")}


def test_a_hook_taking_only_some_fields_keeps_working_when_more_are_passed() -> None:
    class Ends(RunHooks):
        def __init__(self) -> None:
            self.actions: list[Any] = []

        def on_node_end(self, *, action: Any, **_: Any) -> None:
            self.actions.append(action)

    hooks = Ends()
    rf.Flow(Route("go", name="A"), name="Top").run({}, hooks=[hooks, Recorder()])
    assert hooks.actions == ["go"]


def test_fan_out_awaits_settle_of_each_hook_that_settles() -> None:
    settled: list[str] = []

    class Settling(RunHooks):
        def __init__(self, tag: str) -> None:
            self.tag = tag

        async def settle(self) -> None:
            await asyncio.sleep(0)
            settled.append(self.tag)

    fan = MultiHooks([Settling("a"), RunHooks(), Settling("b")])
    asyncio.run(fan.settle())
    assert settled == ["a", "b"]
    assert "settle" not in HOOK_METHODS  # awaited, not called like the observing methods
    quiet = MultiHooks([RunHooks(), RunHooks()])
    assert getattr(quiet.settle, "__rillflow_noop__", False)  # the loops skip it


def test_async_runs_await_settle_after_each_step_and_item_sync_runs_never() -> None:
    log: list[str] = []

    class Settling(RunHooks):
        def on_node_end(self, *, path: Path, **_: Any) -> None:
            log.append("end " + path[-1])

        def on_item_end(self, *, index: int, **_: Any) -> None:
            log.append(f"item {index}")

        async def settle(self) -> None:
            await asyncio.sleep(0)  # a real suspension: the run waits here
            log.append("settled")

    class Items(rf.AsyncParallelBatchNode):
        async def prep_async(self, shared: Any) -> list[int]:
            return [0, 1]

        async def exec_async(self, item: int) -> int:
            return item

    first = rf.AsyncNode(name="First")
    first >> Items(max_concurrency=1)
    asyncio.run(rf.AsyncFlow(first).run_async({}, hooks=Settling()))
    # Not after the flow's last step: its end is its parent's (here: the run's end).
    assert log == ["end First", "settled", "item 0", "settled", "item 1", "settled", "end Items"]

    log.clear()

    class SyncItems(rf.BatchNode):
        def prep(self, shared: Any) -> list[int]:
            return [0, 1]

    sync_first = rf.Node(name="First")
    sync_first >> SyncItems()
    rf.Flow(sync_first).run({}, hooks=Settling())
    assert log == ["end First", "item 0", "item 1", "end SyncItems"]
