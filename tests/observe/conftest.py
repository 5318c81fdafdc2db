"""Helpers for the observability tests: a listener that records events, and small flows."""

from __future__ import annotations

import pytest
from observe_helpers import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
