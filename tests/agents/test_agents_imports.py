"""rillflow.agents needs nothing outside the standard library (checked in a child with no site-packages)."""

from __future__ import annotations

from isolated import run_isolated


def test_importing_agents_loads_only_the_standard_library() -> None:
    assert run_isolated("import rillflow.agents") == ["outside: []"]
