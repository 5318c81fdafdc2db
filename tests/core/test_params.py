"""Params isolation: each visit gets its own params dict."""

from __future__ import annotations

from typing import Any

import rillflow as rf


# --- params isolation -----------------------------------------------------------------------------
def test_node_writing_self_params_does_not_leak_to_later_nodes() -> None:
    class Writer(rf.Node):
        def prep(self, shared: Any) -> Any:
            self.params["leak"] = "oops"
            self.params["k"] = "changed"

    class Reader(rf.Node):
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["seen"] = dict(self.params)

    writer = Writer()
    writer >> Reader()
    flow = rf.Flow(writer)
    flow.set_params({"k": "v"})
    shared: dict[str, Any] = {}
    flow.run(shared)
    assert shared["seen"] == {"k": "v"}
    assert flow.params == {"k": "v"}
