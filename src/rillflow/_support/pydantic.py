"""Recognising pydantic models without importing pydantic (only users who already use it have it)."""

from __future__ import annotations


def is_pydantic_model(obj: object) -> bool:
    """True when ``obj`` is a pydantic model class (a subclass of ``pydantic.BaseModel``)."""
    return isinstance(obj, type) and any(
        base.__name__ == "BaseModel" and base.__module__.startswith("pydantic") for base in obj.__mro__
    )


def is_pydantic_instance(value: object) -> bool:
    """True when ``value`` is an instance of a pydantic model class."""
    return is_pydantic_model(type(value))
