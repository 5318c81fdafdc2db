"""The ``rillflow`` command (see :mod:`rillflow.cli.main`)."""

from .main import main

__all__ = ["main"]
