"""Fixtures for the LLM layer: the embedded model server, started once per session on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from rillflow import AsyncFlow, AsyncParallelBatchNode, Node
from rillflow.llm import LocalModel, LocalServer, Model


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    server = LocalServer(slots=4, context_per_slot=1024)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def local_model(local_server: LocalServer) -> LocalModel:
    return LocalModel(local_server, default_options={"max_tokens": 16, "temperature": 0.0, "seed": 1})


@dataclass
class MixedFlowResult:
    first: str
    items: list[str]
    sync_thread: str


MixedFlow = Callable[[Model, str, list[str], "int | None"], Awaitable[MixedFlowResult]]


async def run_mixed_flow(
    model: Model, first_prompt: str, item_prompts: list[str], max_concurrency: int | None
) -> MixedFlowResult:
    """An AsyncFlow of a sync Node (sync face, run in a worker thread) >> an AsyncParallelBatchNode that
    calls the async face once per item prompt; returns the texts and the sync node's thread name."""
    seen: dict[str, str] = {}

    class First(Node):
        def exec(self, prep_res: Any) -> str:
            seen["thread"] = threading.current_thread().name
            return model.generate(first_prompt).text

        def post(self, shared: dict[str, Any], prep_res: Any, text: str) -> None:
            shared["first"] = text

    class EachItem(AsyncParallelBatchNode):
        async def prep_async(self, shared: dict[str, Any]) -> list[str]:
            return item_prompts

        async def exec_async(self, prompt: str) -> str:
            return (await model.generate_async(prompt)).text

        async def post_async(self, shared: dict[str, Any], prep_res: Any, texts: list[str]) -> None:
            shared["items"] = texts

    first = First()
    first >> EachItem(max_concurrency=max_concurrency)
    shared: dict[str, Any] = {}
    await AsyncFlow(start=first).run_async(shared)
    return MixedFlowResult(shared["first"], shared["items"], seen["thread"])


@pytest.fixture
def mixed_flow() -> MixedFlow:
    return run_mixed_flow
