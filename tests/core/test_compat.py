"""Behaviour that must match PocketFlow exactly: every test runs against PocketFlow 0.0.3 and rillflow."""

from __future__ import annotations

import asyncio
import importlib
import time
import warnings
from types import ModuleType
from typing import Any

import pytest


@pytest.fixture(params=["pocketflow", "rillflow"])
def pf(request: pytest.FixtureRequest) -> ModuleType:
    return importlib.import_module(request.param)


def recorder(pf: ModuleType, name: str, action: Any = None, base: str = "Node") -> Any:
    """A node that appends its name to shared['path'] and returns ``action``."""

    class Rec(getattr(pf, base)):  # type: ignore[misc]
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("path", []).append(name)
            return action

    return Rec()


# --- 1. actions and operators ---------------------------------------------------------------------
@pytest.mark.parametrize("falsy", [None, "", 0, False, []])
def test_falsy_actions_route_as_default_and_run_returns_raw_value(pf: ModuleType, falsy: Any) -> None:
    a, b = recorder(pf, "a", falsy), recorder(pf, "b", "end")
    a >> b
    shared: dict[str, Any] = {}
    assert pf.Flow(a).run(shared) == "end"
    assert shared["path"] == ["a", "b"]
    assert recorder(pf, "x", falsy).run({}) == falsy


def test_operators_return_target_so_chains_work(pf: ModuleType) -> None:
    a, b, c = recorder(pf, "a", "x"), recorder(pf, "b"), recorder(pf, "c")
    assert (a - "x" >> b >> c) is c
    assert a.next(b, "y") is b
    assert a.successors == {"x": b, "y": b}
    assert b.successors == {"default": c}
    shared: dict[str, Any] = {}
    pf.Flow(a).run(shared)
    assert shared["path"] == ["a", "b", "c"]


def test_non_string_action_raises(pf: ModuleType) -> None:
    a = pf.Node()
    with pytest.raises(TypeError, match=r"^Action must be a string$"):
        a - 3
    with pytest.raises(TypeError, match=r"^Action must be a string$"):
        a - None


def test_overwriting_successor_warns(pf: ModuleType) -> None:
    a, b, c = pf.Node(), pf.Node(), pf.Node()
    a - "go" >> b
    with pytest.warns(UserWarning, match=r"^Overwriting successor for action 'go'$"):
        a - "go" >> c
    assert a.successors["go"] is c


# --- 2. ends and warnings -------------------------------------------------------------------------
def test_missing_successor_warns_once_and_ends(pf: ModuleType) -> None:
    a, b, c = recorder(pf, "a", "nope"), recorder(pf, "b"), recorder(pf, "c")
    a - "yes" >> b
    a - "maybe" >> c
    shared: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pf.Flow(a).run(shared) == "nope"
    assert [str(w.message) for w in caught] == ["Flow ends: 'nope' not found in ['yes', 'maybe']"]
    assert shared["path"] == ["a"]


def test_node_without_successors_ends_silently(pf: ModuleType) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pf.Flow(recorder(pf, "a", "whatever")).run({}) == "whatever"


def test_node_run_with_successors_warns(pf: ModuleType) -> None:
    a = recorder(pf, "a")
    a >> pf.Node()
    with pytest.warns(UserWarning, match=r"^Node won't run successors\. Use Flow\.$"):
        a.run({})


async def test_async_node_run_with_successors_warns(pf: ModuleType) -> None:
    a = recorder(pf, "a", base="AsyncNode")
    a >> pf.Node()
    with pytest.warns(UserWarning, match=r"^Node won't run successors\. Use AsyncFlow\.$"):
        await a.run_async({})


# --- 3. flows as nodes ----------------------------------------------------------------------------
def test_flow_never_calls_exec_and_nested_flow_passes_last_action(pf: ModuleType) -> None:
    class Inner(pf.Flow):  # type: ignore[misc]
        def exec(self, prep_res: Any) -> Any:
            raise AssertionError("a flow's exec must never be called")

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["inner_post_got"] = exec_res
            return exec_res

    inner = Inner(recorder(pf, "i1", "left"))
    left, right = recorder(pf, "L"), recorder(pf, "R")
    inner - "left" >> left
    inner - "right" >> right
    shared: dict[str, Any] = {}
    pf.Flow(inner).run(shared)
    assert shared == {"path": ["i1", "L"], "inner_post_got": "left"}


def test_batch_flow_post_gets_none_exec_res(pf: ModuleType) -> None:
    class BF(pf.BatchFlow):  # type: ignore[misc]
        def prep(self, shared: Any) -> Any:
            return [{"k": 1}, {"k": 2}]

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["post"] = (prep_res, exec_res)
            return "done"

    shared: dict[str, Any] = {}
    assert BF(recorder(pf, "n", "ignored")).run(shared) == "done"
    assert shared["post"] == ([{"k": 1}, {"k": 2}], None)
    assert shared["path"] == ["n", "n"]


# --- 4. copies per visit --------------------------------------------------------------------------
def test_each_visit_runs_on_a_copy_with_instance_overrides(pf: ModuleType) -> None:
    class Counter(pf.Node):  # type: ignore[misc]
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            self.visits = getattr(self, "visits", 0) + 1
            shared.setdefault("seen", []).append((self.tag, self.visits, self))
            return "again" if len(shared["seen"]) < 3 else "stop"

    template = Counter()
    template.tag = "T"
    template.exec = lambda prep_res: "instance override"
    template - "again" >> template
    shared: dict[str, Any] = {}
    with pytest.warns(UserWarning, match="Flow ends: 'stop'"):
        pf.Flow(template).run(shared)
    assert [s[:2] for s in shared["seen"]] == [("T", 1), ("T", 1), ("T", 1)]
    assert len({id(s[2]) for s in shared["seen"]} | {id(template)}) == 4
    assert not hasattr(template, "visits")  # the original never ran

    class UsesExec(pf.Node):  # type: ignore[misc]
        def prep(self, shared: Any) -> Any:
            return None

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["exec_res"] = exec_res

    node = UsesExec()
    node.exec = lambda prep_res: "from instance"
    shared = {}
    pf.Flow(node).run(shared)
    assert shared["exec_res"] == "from instance"


async def test_parallel_branches_get_their_own_copies(pf: ModuleType) -> None:
    class Slow(pf.AsyncNode):  # type: ignore[misc]
        async def exec_async(self, prep_res: Any) -> Any:
            self.mine = self.params["i"]
            await asyncio.sleep(0.01 * (3 - self.params["i"]))
            return self.mine

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("got", []).append((self.params["i"], exec_res, self.mine))

    class Fan(pf.AsyncParallelBatchFlow):  # type: ignore[misc]
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": i} for i in range(3)]

    shared: dict[str, Any] = {}
    await Fan(Slow()).run_async(shared)
    assert sorted(shared["got"]) == [(0, 0, 0), (1, 1, 1), (2, 2, 2)]


# --- 5. params ------------------------------------------------------------------------------------
def test_params_reach_nodes_nested_flows_and_batch_items_win(pf: ModuleType) -> None:
    class Show(pf.Node):  # type: ignore[misc]
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("params", []).append(dict(self.params))

    class Outer(pf.BatchFlow):  # type: ignore[misc]
        def prep(self, shared: Any) -> Any:
            return [{"a": 1}, {"a": 2, "top": "item wins"}]

    class InnerBatch(pf.BatchFlow):  # type: ignore[misc]
        def prep(self, shared: Any) -> Any:
            return [{"b": "x"}, {"b": "y", "a": 99}]

    inner = pf.Flow(InnerBatch(Show()))
    outer = Outer(inner)
    outer.set_params({"top": "T"})
    shared: dict[str, Any] = {}
    outer.run(shared)
    assert shared["params"] == [
        {"top": "T", "a": 1, "b": "x"},
        {"top": "T", "a": 99, "b": "y"},
        {"top": "item wins", "a": 2, "b": "x"},
        {"top": "item wins", "a": 99, "b": "y"},
    ]


# --- 6. retries -----------------------------------------------------------------------------------
def test_retries_then_fallback_with_last_exception(pf: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)

    class Flaky(pf.Node):  # type: ignore[misc]
        def prep(self, shared: dict[str, Any]) -> Any:
            shared["preps"] = shared.get("preps", 0) + 1
            return "p"

        def exec(self, prep_res: Any) -> Any:
            self.seen = [*getattr(self, "seen", []), self.cur_retry]
            raise ValueError(f"attempt {self.cur_retry}")

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return (prep_res, str(exc), self.cur_retry, self.seen)

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    Flaky(max_retries=3, wait=0.5).run(shared)
    assert shared == {"preps": 1, "res": ("p", "attempt 2", 2, [0, 1, 2])}
    assert sleeps == [0.5, 0.5]  # between attempts only


def test_success_after_retry_and_default_fallback_reraises(pf: ModuleType) -> None:
    class Once(pf.Node):  # type: ignore[misc]
        def exec(self, prep_res: Any) -> Any:
            if self.cur_retry == 0:
                raise KeyError("first")
            return "ok"

    assert Once(max_retries=2).run({}) is None  # post returns None; exec succeeded on attempt 2

    class Always(pf.Node):  # type: ignore[misc]
        def exec(self, prep_res: Any) -> Any:
            raise KeyError("always")

    with pytest.raises(KeyError, match="always"):
        Always(max_retries=2).run({})


def test_only_exception_is_caught(pf: ModuleType) -> None:
    class Interrupt(pf.Node):  # type: ignore[misc]
        def exec(self, prep_res: Any) -> Any:
            self.calls = getattr(self, "calls", 0) + 1
            raise KeyboardInterrupt

        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            raise AssertionError("fallback must not see BaseException")

    node = Interrupt(max_retries=3)
    with pytest.raises(KeyboardInterrupt):
        node.run({})
    assert node.calls == 1


def test_only_exec_is_retried(pf: ModuleType) -> None:
    class BadPrep(pf.Node):  # type: ignore[misc]
        def prep(self, shared: dict[str, Any]) -> Any:
            shared["preps"] = shared.get("preps", 0) + 1
            raise OSError("prep")

    shared: dict[str, Any] = {}
    with pytest.raises(OSError):
        BadPrep(max_retries=5).run(shared)
    assert shared["preps"] == 1


async def test_async_retries_and_fallback(pf: ModuleType) -> None:
    class Flaky(pf.AsyncNode):  # type: ignore[misc]
        # PocketFlow's async retry loop does not set cur_retry (rillflow does: see test_fixes.py).
        async def exec_async(self, prep_res: Any) -> Any:
            self.attempts = getattr(self, "attempts", 0) + 1
            raise ValueError(self.attempts - 1)

        async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
            return f"fallback after {exc}"

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["res"] = exec_res

    shared: dict[str, Any] = {}
    await Flaky(max_retries=4).run_async(shared)
    assert shared["res"] == "fallback after 3"


# --- 7. batches -----------------------------------------------------------------------------------
def test_batch_node_in_order_and_none_prep(pf: ModuleType) -> None:
    class Double(pf.BatchNode):  # type: ignore[misc]
        def prep(self, shared: dict[str, Any]) -> Any:
            return shared.get("items")

        def exec(self, item: Any) -> Any:
            return item * 2

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    shared: dict[str, Any] = {"items": [3, 1, 2]}
    Double().run(shared)
    assert shared["out"] == [6, 2, 4]
    shared = {}
    Double().run(shared)
    assert shared["out"] == []


async def test_async_batch_node_sequential(pf: ModuleType) -> None:
    class Seq(pf.AsyncBatchNode):  # type: ignore[misc]
        async def prep_async(self, shared: Any) -> Any:
            return [3, 1, 2]

        async def exec_async(self, item: Any) -> Any:
            events.append(("start", item))
            await asyncio.sleep(0.001 * item)
            events.append(("end", item))
            return item

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    events: list[tuple[str, int]] = []
    shared: dict[str, Any] = {}
    await Seq().run_async(shared)
    assert shared["out"] == [3, 1, 2]
    assert events == [("start", 3), ("end", 3), ("start", 1), ("end", 1), ("start", 2), ("end", 2)]


async def test_parallel_batch_node_concurrent_ordered_results(pf: ModuleType) -> None:
    class Par(pf.AsyncParallelBatchNode):  # type: ignore[misc]
        async def prep_async(self, shared: Any) -> Any:
            return [3, 1, 2]

        async def exec_async(self, item: Any) -> Any:
            started.append(item)
            await asyncio.sleep(0.01 * item)
            finished.append(item)
            return item * 10

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"] = exec_res

    started: list[int] = []
    finished: list[int] = []
    shared: dict[str, Any] = {}
    await Par().run_async(shared)
    assert shared["out"] == [30, 10, 20]
    assert started == [3, 1, 2]
    assert finished == [1, 2, 3]  # they overlapped


async def test_parallel_batch_flow_concurrent(pf: ModuleType) -> None:
    class Work(pf.AsyncNode):  # type: ignore[misc]
        async def exec_async(self, prep_res: Any) -> Any:
            log.append(("start", self.params["i"]))
            await asyncio.sleep(0.01 * (3 - self.params["i"]))
            log.append(("end", self.params["i"]))

    class Fan(pf.AsyncParallelBatchFlow):  # type: ignore[misc]
        async def prep_async(self, shared: Any) -> Any:
            return [{"i": 0}, {"i": 1}, {"i": 2}]

    log: list[tuple[str, int]] = []
    await Fan(Work()).run_async({})
    assert [e for e in log if e[0] == "start"] == [("start", 0), ("start", 1), ("start", 2)]
    assert [e for e in log if e[0] == "end"] == [("end", 2), ("end", 1), ("end", 0)]


# --- 8. sync/async mixing -------------------------------------------------------------------------
def test_async_node_in_sync_flow_raises(pf: ModuleType) -> None:
    class A(pf.AsyncNode):  # type: ignore[misc]
        async def exec_async(self, prep_res: Any) -> Any:
            return 1

    with pytest.raises(RuntimeError, match="run_async"):
        pf.Flow(A()).run({})


async def test_sync_nodes_and_flows_inside_async_flow(pf: ModuleType) -> None:
    class AsyncStep(pf.AsyncNode):  # type: ignore[misc]
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("path", []).append("async")

    sync_flow = pf.Flow(recorder(pf, "s1"))
    sync_flow.start_node >> recorder(pf, "s2")
    head = recorder(pf, "head")
    head >> sync_flow >> AsyncStep()
    shared: dict[str, Any] = {}
    await pf.AsyncFlow(head).run_async(shared)
    assert shared["path"] == ["head", "s1", "s2", "async"]
