"""Random node graphs (branches, loops, nesting, batch) against a tiny reference interpreter.

Each generated graph is run by rillflow (sync, and async with a random mix of sync and async nodes) and
by PocketFlow; the visited path and the final ``shared`` must equal what the interpreter computes.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import warnings
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rillflow

ACTIONS = [None, "", "default", "a", "b"]
STEP_BUDGET = 25  # after this many node visits every node returns an unknown action, so runs end


@dataclass
class Spec:
    uid: int
    kind: str  # "node" | "batch" | "flow" | "batchflow"
    script: list[Any]
    successors: dict[str, int] = field(default_factory=dict)
    items: int = 0  # batch size
    children: list[Spec] = field(default_factory=list)  # for flows
    use_async: bool = False


_uids = itertools.count()


@st.composite
def graphs(draw: st.DrawFn, depth: int = 0) -> list[Spec]:
    size = draw(st.integers(1, 4))
    kinds = ["node", "batch"] + (["flow", "batchflow"] if depth < 2 else [])
    specs = []
    for _ in range(size):
        kind = draw(st.sampled_from(kinds))
        spec = Spec(
            uid=next(_uids),
            kind=kind,
            script=draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3)),
            items=draw(st.integers(0, 3)),
            use_async=draw(st.booleans()),
        )
        if kind in ("flow", "batchflow"):
            spec.children = draw(graphs(depth + 1))
        specs.append(spec)
    for spec in specs:
        for action in draw(st.lists(st.sampled_from(["default", "a", "b"]), unique=True, max_size=3)):
            spec.successors[action] = draw(st.integers(0, size - 1))
    return specs


# --- the reference interpreter --------------------------------------------------------------------
def node_action(spec: Spec, shared: dict[str, Any]) -> Any:
    visits = shared["visits"].get(spec.uid, 0)
    shared["visits"][spec.uid] = visits + 1
    shared["steps"] += 1
    return "__end__" if shared["steps"] > STEP_BUDGET else spec.script[visits % len(spec.script)]


def interpret_graph(specs: list[Spec], shared: dict[str, Any], params: dict[str, Any]) -> Any:
    spec: Spec | None = specs[0]
    last = None
    while spec is not None:
        last = interpret_node(spec, specs, shared, params)
        target = spec.successors.get(last or "default")
        spec = specs[target] if target is not None else None
    return last


def interpret_node(spec: Spec, siblings: list[Spec], shared: dict[str, Any], params: dict[str, Any]) -> Any:
    if spec.kind == "flow":
        shared["path"].append(("enter", spec.uid, sorted(params.items())))
        return interpret_graph(spec.children, shared, params)
    if spec.kind == "batchflow":
        for item in batch_params(spec):
            interpret_graph(spec.children, shared, {**params, **item})
        return batch_flow_action(shared)
    exec_res = [i * 10 for i in range(spec.items)] if spec.kind == "batch" else spec.uid
    shared["path"].append((spec.uid, sorted(params.items()), exec_res))
    return node_action(spec, shared)


def batch_flow_action(shared: dict[str, Any]) -> Any:
    """A batch flow's own step: counts toward the budget (an empty batch loop must end too)."""
    shared["steps"] += 1
    return "__end__" if shared["steps"] > STEP_BUDGET else None


def batch_params(spec: Spec) -> list[dict[str, Any]]:
    return [{f"b{spec.uid}": i, "shadow": (spec.uid, i)} for i in range(spec.items)]


# --- building real flows from a spec --------------------------------------------------------------
def build(pf: ModuleType, specs: list[Spec], async_mode: bool) -> Any:
    nodes = [build_node(pf, spec, async_mode) for spec in specs]
    for spec, node in zip(specs, nodes, strict=True):
        for action, target in spec.successors.items():
            node - action >> nodes[target]
    return nodes[0]


def build_node(pf: ModuleType, spec: Spec, async_mode: bool) -> Any:
    is_async = async_mode and spec.use_async
    if spec.kind in ("flow", "batchflow"):
        start = build(pf, spec.children, async_mode)
        if spec.kind == "flow":
            base = pf.AsyncFlow if is_async else pf.Flow
        else:
            base = pf.AsyncBatchFlow if is_async else pf.BatchFlow
        return make_flow_class(base, spec, is_async)(start)
    if spec.kind == "batch":
        base = pf.AsyncParallelBatchNode if is_async else pf.BatchNode
    else:
        base = pf.AsyncNode if is_async else pf.Node
    return make_node_class(base, spec, is_async)()


def make_node_class(base: type, spec: Spec, is_async: bool) -> type:
    def prep(self: Any, shared: dict[str, Any]) -> Any:
        return list(range(spec.items)) if spec.kind == "batch" else spec.uid

    def exec_(self: Any, prep_res: Any) -> Any:
        return prep_res * 10 if spec.kind == "batch" else prep_res

    def post(self: Any, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["path"].append((spec.uid, sorted(self.params.items()), exec_res))
        return node_action(spec, shared)

    async def prep_async(self: Any, shared: dict[str, Any]) -> Any:
        return prep(self, shared)

    async def exec_async(self: Any, prep_res: Any) -> Any:
        await asyncio.sleep(0)
        return exec_(self, prep_res)

    async def post_async(self: Any, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        return post(self, shared, prep_res, exec_res)

    methods = (
        {"prep_async": prep_async, "exec_async": exec_async, "post_async": post_async}
        if is_async
        else {"prep": prep, "exec": exec_, "post": post}
    )
    return type(f"N{spec.uid}", (base,), methods)


def make_flow_class(base: type, spec: Spec, is_async: bool) -> type:
    def prep(self: Any, shared: dict[str, Any]) -> Any:
        if spec.kind == "batchflow":
            return batch_params(spec)
        shared["path"].append(("enter", spec.uid, sorted(self.params.items())))
        return None

    def post(self: Any, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        return batch_flow_action(shared) if spec.kind == "batchflow" else exec_res

    async def prep_async(self: Any, shared: dict[str, Any]) -> Any:
        return prep(self, shared)

    async def post_async(self: Any, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        return post(self, shared, prep_res, exec_res)

    methods = (
        {"prep_async": prep_async, "post_async": post_async} if is_async else {"prep": prep, "post": post}
    )
    return type(f"F{spec.uid}", (base,), methods)


def fresh_shared() -> dict[str, Any]:
    return {"path": [], "visits": {}, "steps": 0}


def expected(specs: list[Spec]) -> tuple[Any, dict[str, Any]]:
    shared = fresh_shared()
    result = interpret_graph(specs, shared, {"top": 1})
    return result, shared


def run_sync(pf: ModuleType, specs: list[Spec]) -> tuple[Any, dict[str, Any]]:
    flow = pf.Flow(build(pf, specs, async_mode=False))
    flow.set_params({"top": 1})
    shared = fresh_shared()
    return flow.run(shared), shared


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(graphs())
def test_sync_flows_match_the_reference_interpreter(specs: list[Spec]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Flow ends" warnings are expected here
        assert run_sync(rillflow, specs) == expected(specs)


@SETTINGS
@given(graphs())
def test_async_flows_with_mixed_nodes_match_the_reference_interpreter(specs: list[Spec]) -> None:
    flow = rillflow.AsyncFlow(build(rillflow, specs, async_mode=True))
    flow.set_params({"top": 1})
    shared = fresh_shared()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = asyncio.run(flow.run_async(shared))
    assert (result, shared) == expected(specs)


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_pocketflow_agrees_with_the_reference_interpreter(specs: list[Spec]) -> None:
    """Checks the oracle itself: PocketFlow (where the graphs are sync) behaves as interpreted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert run_sync(importlib.import_module("pocketflow"), specs) == expected(specs)
