"""Run Python code in a child interpreter that sees only the standard library and rillflow's sources.

``-S`` skips the site module (so no site-packages at all) and ``-I`` ignores PYTHON* variables and the
user site. After the code runs, the child prints ``outside: [...]``: the top-level modules it loaded that
are neither standard library nor rillflow (an empty list is the point of these tests).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rillflow

SRC = Path(rillflow.__file__).resolve().parent.parent

_REPORT = """
_loaded = {_m.split(".")[0] for _m in set(sys.modules) - _before}
print("outside:", sorted(_m for _m in _loaded if _m not in set(sys.stdlib_module_names) | {"rillflow"}))
"""


def run_isolated(code: str) -> list[str]:
    """Run ``code`` as described above and return the lines it printed, the ``outside:`` report last."""
    program = f"import sys\nsys.path.insert(0, {str(SRC)!r})\n_before = set(sys.modules)\n{code}\n{_REPORT}"
    result = subprocess.run([sys.executable, "-S", "-I", "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()
