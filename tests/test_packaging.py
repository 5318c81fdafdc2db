"""The package's metadata comes from one place."""

from __future__ import annotations

from importlib.metadata import version

import rillflow


def test_the_installed_version_is_the_package_version() -> None:
    assert version("rillflow") == rillflow.__version__ == "0.2.1"
