"""Fixtures shared by the test folders: a throwaway PostgreSQL server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_cluster import Cluster


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a PostgreSQL server started on 127.0.0.1 for this test session, removed after."""
    with Cluster() as cluster:
        yield cluster.url
