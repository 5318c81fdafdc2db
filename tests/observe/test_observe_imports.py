"""The observability modules import without their extras: third-party packages load only when used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rillflow

SRC = Path(rillflow.__file__).resolve().parent.parent

PROBE = """
import sys
sys.path.insert(0, {src!r})
before = set(sys.modules)
import rillflow.events, rillflow.viz, rillflow.otel, rillflow.progress, rillflow.cli
import rillflow as rf
from rillflow.viz import to_html, to_mermaid
flow = rf.Flow(rf.Node(), name="F")
to_mermaid(flow), to_html(flow)
flow.run({{}}, listeners=[lambda event: None])
loaded = {{m.split(".")[0] for m in set(sys.modules) - before}}
print("outside:", sorted(m for m in loaded if m not in set(sys.stdlib_module_names) | {{"rillflow"}}))
try:
    rillflow.otel.TracingHooks()
except ImportError as exc:
    print("otel:", exc)
"""


def test_modules_import_and_run_with_no_third_party_package() -> None:
    out = subprocess.run(
        [sys.executable, "-S", "-I", "-c", PROBE.format(src=str(SRC))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "outside: []" in out
    assert "otel: rillflow.otel needs the 'opentelemetry-api' package: pip install 'rillflow[otel]'" in out
