"""Objects in `shared` are saved whole (every attribute, slots, nested objects, exact types and zones) or
refused when saved, with an error naming the key: never restored with parts missing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import zoneinfo
from typing import Any

import pydantic
import pytest

from rillflow import Flow, Node
from rillflow.durable import Checkpointer, JSONSerializer, SerializationError

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@dataclasses.dataclass
class Order:
    items: list[str]
    total: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.total = len(self.items)
        self.index = {name: i for i, name in enumerate(self.items)}  # not a field


@dataclasses.dataclass(slots=True)
class Point:
    x: int
    y: int


@dataclasses.dataclass(frozen=True, slots=True)
class Stamp:
    at: dt.datetime
    raw: bytes


@dataclasses.dataclass
class Shipment:
    order: Order
    path: list[Point]
    stamps: dict[str, Stamp]


@dataclasses.dataclass
class Locked:
    name: str

    def __post_init__(self) -> None:
        self.lock = threading.Lock()


class Address(pydantic.BaseModel):
    city: str
    since: dt.datetime


class Customer(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")
    name: str
    address: Address
    note: Any = None
    _secret: str = pydantic.PrivateAttr(default="")


class OtherZone(dt.tzinfo):
    def utcoffset(self, d: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=2)

    def dst(self, d: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, d: dt.datetime | None) -> str:
        return "OTHER"


def round_trip(value: Any) -> Any:
    s = JSONSerializer()
    return s.loads(s.dumps(value))


def test_a_dataclass_keeps_attributes_set_in_post_init_and_later() -> None:
    order = Order(["a", "b"])
    order.seen_by = "clerk"  # type: ignore[attr-defined]
    back = round_trip(order)
    assert type(back) is Order
    assert vars(back) == {"items": ["a", "b"], "total": 2, "index": {"a": 0, "b": 1}, "seen_by": "clerk"}


def test_slots_nested_dataclasses_bytes_and_zoned_datetimes_round_trip() -> None:
    at = dt.datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)  # the second 02:30 of the DST change
    value = Shipment(Order(["x"]), [Point(1, 2), Point(3, 4)], {"in": Stamp(at, b"\x00\xff")})
    back = round_trip(value)
    assert back == value
    assert back.order.index == {"x": 0}
    stamp = back.stamps["in"]
    assert stamp.at.tzinfo is PARIS and stamp.at.fold == 1 and stamp.at.utcoffset() == dt.timedelta(hours=1)
    assert type(back.path[0]) is Point and not hasattr(back.path[0], "__dict__")


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 1, 2, 3, 4, 5, 6),
        dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=-5), "EST")),
        dt.datetime(2026, 7, 1, 12, tzinfo=PARIS),
        dt.time(1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=3))),
        dt.date(2026, 2, 28),
        dt.timedelta(days=-1, microseconds=5),
        b"\x00binary\xff",
    ],
)
def test_dates_times_and_bytes_come_back_exactly(value: Any) -> None:
    back = round_trip(value)
    assert back == value and type(back) is type(value)
    if isinstance(value, dt.datetime | dt.time):
        assert back.tzinfo == value.tzinfo and back.fold == value.fold


def test_a_pydantic_model_keeps_nested_models_exact_types_extra_and_private_attributes() -> None:
    since = dt.datetime(2020, 5, 1, tzinfo=PARIS)
    customer = Customer(name="Ann", address=Address(city="Lyon", since=since), note=since, vip=True)  # type: ignore[call-arg]
    customer._secret = "s3"
    back = round_trip(customer)
    assert back == customer
    assert type(back.note) is dt.datetime and back.note.tzinfo is PARIS  # `Any` field: not turned into text
    assert back.model_extra == {"vip": True} and back._secret == "s3"
    assert back.model_fields_set == customer.model_fields_set


def test_what_cannot_be_restored_whole_is_refused_when_saved_naming_the_key_and_attribute(
    checkpointer: Checkpointer,
) -> None:
    class Keep(Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> None:
            shared["guard"] = Locked("a")

    with pytest.raises(SerializationError) as err:
        Flow(start=Keep()).run({}, run_id="lock", checkpointer=checkpointer)
    message = str(err.value)
    assert "shared['guard']" in message and "attribute 'lock'" in message and "\n" not in message

    class Zoned(Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> None:
            shared["when"] = dt.datetime(2026, 1, 1, tzinfo=OtherZone())

    with pytest.raises(SerializationError, match=r"shared\['when'\].*zoneinfo"):
        Flow(start=Zoned()).run({}, run_id="zone", checkpointer=checkpointer)


class Remember(Node):
    def prep(self, shared: Any) -> Order:
        return shared["order"]  # type: ignore[no-any-return]

    def exec(self, order: Order) -> Any:
        return self.interrupt({"total": order.total})

    def post(self, shared: Any, order: Order, answer: Any) -> None:
        shared["where"] = order.index["b"]  # set in __post_init__: must be there after the resume
        shared["answer"] = answer


def test_a_resumed_run_finds_the_attributes_post_init_set(checkpointer: Checkpointer) -> None:
    flow = Flow(start=Remember())
    paused = flow.run({"order": Order(["a", "b"])}, run_id="o", checkpointer=checkpointer)
    assert paused.status == "paused" and paused.payload == {"total": 2}
    done = Flow(start=Remember()).resume("o", "ok", checkpointer=checkpointer)
    assert done.shared["where"] == 1 and done.shared["answer"] == "ok"
