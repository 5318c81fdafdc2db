"""rillflow.agents needs nothing outside the standard library (checked in a child with no site-packages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rillflow


def test_importing_agents_loads_only_the_standard_library() -> None:
    src = str(Path(rillflow.__file__).resolve().parent.parent)
    code = (
        f"import sys; sys.path.insert(0, {src!r}); seen = set(sys.modules)\n"
        "import rillflow.agents\n"
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - seen} - set(sys.stdlib_module_names)))"
    )
    out = subprocess.run([sys.executable, "-S", "-I", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['rillflow']"
