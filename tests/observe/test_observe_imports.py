"""The observability modules import without their extras: third-party packages load only when used."""

from __future__ import annotations

from isolated import run_isolated

CODE = """
import rillflow.observe, rillflow.viz, rillflow.observe.otel, rillflow.observe.progress, rillflow.cli
import rillflow as rf
from rillflow.viz import to_html, to_mermaid
flow = rf.Flow(rf.Node(), name="F")
to_mermaid(flow), to_html(flow)
flow.run({}, listeners=[lambda event: None])
try:
    rillflow.observe.otel.TracingHooks()
except ImportError as exc:
    print("otel:", exc)
"""


def test_modules_import_and_run_with_no_third_party_package() -> None:
    out = "\n".join(run_isolated(CODE))
    assert "outside: []" in out
    assert (
        "otel: rillflow.observe.otel needs the 'opentelemetry-api' package: pip install 'rillflow[otel]'"
        in out
    )
