"""``python -m rillflow.cli``: the ``rillflow`` command."""

from .main import main

raise SystemExit(main())
