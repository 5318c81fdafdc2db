"""JSON round-trips its types exactly and refuses the rest, naming the key; pickle is opt-in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic
import pytest

from rillflow import Flow, Node
from rillflow.durable import (
    CheckpointMismatchError,
    JSONSerializer,
    MemoryCheckpointer,
    PickleSerializer,
    SerializationError,
)
from rillflow.durable.diff import SharedTracker


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: tuple[int, ...] = ()


class Color(enum.Enum):
    RED = "red"


class User(pydantic.BaseModel):
    name: str
    born: dt.date


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.cents == self.cents


VALUES: list[Any] = [
    None, True, 3, 2.5, "x", [1, "a"], {"a": [1, {"b": None}]},
    (1, (2, 3)), {1, 2}, frozenset({"a"}), {1: "int key", (2, 3): "tuple key"}, {"__rf__": "user key"},
    b"\x00\xff", dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), dt.date(2026, 1, 2), dt.time(4, 5),
    dt.timedelta(days=1, seconds=2), Decimal("1.10"), uuid.UUID(int=7), Path("/tmp/x"), Color.RED,
    Point(1, (2,)), [Point(3)], User(name="ann", born=dt.date(2000, 1, 1)),
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_json_round_trips_each_supported_type_exactly(value: Any) -> None:
    s = JSONSerializer()
    back = s.loads(s.dumps(value))
    assert back == value
    assert type(back) is type(value)


def test_registered_type_round_trips_and_needs_the_registration_to_load() -> None:
    s = JSONSerializer()
    s.register(Money, lambda m: m.cents, Money, name="money")
    data = s.dumps({"price": Money(250)})
    assert s.loads(data) == {"price": Money(250)}
    with pytest.raises(CheckpointMismatchError, match="money"):
        JSONSerializer().loads(data)


@pytest.mark.parametrize(
    "value, named",
    [(object(), "object"), (Money(1), "Money"), ({"deep": [1, {2}, lambda: 0]}, "function")],
)
def test_unsupported_values_fail_naming_the_key_and_the_way_out(value: Any, named: str) -> None:
    tracker = SharedTracker(JSONSerializer())
    with pytest.raises(SerializationError) as info:
        tracker.changes({"ok": 1, "bad": value})
    assert "shared['bad']" in str(info.value)
    assert named in str(info.value)
    assert "PickleSerializer" in str(info.value)


def test_a_class_defined_in_a_function_is_refused_at_save_time() -> None:
    @dataclasses.dataclass
    class Local:
        a: int

    with pytest.raises(TypeError, match="cannot be imported"):
        JSONSerializer().dumps(Local(1))


def test_a_cycle_is_refused_with_a_clear_message() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(SerializationError, match=r"shared\['loop'\].*(cycle|itself)"):
        SharedTracker(JSONSerializer()).changes({"loop": loop})


class Stamp(Node):
    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> None:
        shared["handle"] = object()  # not savable: the run must fail naming the key


def test_a_durable_run_fails_at_the_step_that_stores_an_unsavable_value() -> None:
    cp = MemoryCheckpointer()
    with pytest.raises(SerializationError, match="shared\\['handle'\\]"):
        Flow(start=Stamp()).run({"a": 1}, run_id="r", checkpointer=cp)
    info = cp.get("r")
    assert info.status == "failed"
    assert "handle" in (info.error or "")


def test_a_start_with_an_unsavable_shared_fails_before_anything_runs() -> None:
    cp = MemoryCheckpointer()
    with pytest.raises(SerializationError, match="shared\\['conn'\\]"):
        Flow(start=Stamp()).run({"conn": object()}, run_id="r", checkpointer=cp)
    assert cp.list_runs() == []


def test_pickle_is_used_only_when_asked_for_and_must_be_named_to_resume() -> None:
    cp = MemoryCheckpointer()

    class Ask(Node):
        def exec(self, prep_res: Any) -> Any:
            return self.interrupt("sure?")

    flow = Flow(start=Ask())
    paused = flow.run({"money": Money(5)}, run_id="p", checkpointer=cp, serializer=PickleSerializer())
    assert paused.paused
    with pytest.raises(CheckpointMismatchError, match="PickleSerializer"):
        flow.resume("p", "yes", checkpointer=cp)
    done = flow.resume("p", "yes", checkpointer=cp, serializer=PickleSerializer())
    assert done.shared == {"money": Money(5)}
