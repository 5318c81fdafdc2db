"""RemoteTool: the HTTP call goes to allowed hosts only (a server the test starts on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from rillflow.agentspec import AgentSpecLoader, HostNotAllowedError, SpecFlow

CONFIG = """
component_type: Flow
id: f
name: remote flow
inputs: [{title: city, type: string}]
outputs: [{title: forecast, type: string}]
start_node: {$component_ref: start}
nodes: [{$component_ref: start}, {$component_ref: call}, {$component_ref: end}]
control_flow_connections:
- {component_type: ControlFlowEdge, id: e1, name: e1,
   from_node: {$component_ref: start}, to_node: {$component_ref: call}}
- {component_type: ControlFlowEdge, id: e2, name: e2,
   from_node: {$component_ref: call}, to_node: {$component_ref: end}}
data_flow_connections:
- {component_type: DataFlowEdge, id: d1, name: d1, source_node: {$component_ref: start}, source_output: city,
   destination_node: {$component_ref: call}, destination_input: city}
- {component_type: DataFlowEdge, id: d2, name: d2, source_node: {$component_ref: call},
   source_output: forecast,
   destination_node: {$component_ref: end}, destination_input: forecast}
$referenced_components:
  start: {component_type: StartNode, id: start, name: start, inputs: [{title: city, type: string}],
          outputs: [{title: city, type: string}]}
  end: {component_type: EndNode, id: end, name: end, inputs: [{title: forecast, type: string}],
        outputs: [{title: forecast, type: string}]}
  call:
    component_type: ToolNode
    id: call
    name: call
    inputs: [{title: city, type: string}]
    outputs: [{title: forecast, type: string}]
    tool:
      component_type: RemoteTool
      id: weather
      name: weather
      inputs: [{title: city, type: string}]
      outputs: [{title: forecast, type: string}]
      url: http://HOST/weather/{{city}}
      http_method: POST
      query_params: {units: metric}
      headers: {X-City: "{{city}}"}
      data: {city: "{{city}}"}
agentspec_version: 25.4.1
"""


class _Handler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.requests.append({"path": self.path, "body": body, "city": self.headers["X-City"]})
        reply = json.dumps({"forecast": f"sunny in {body['city']}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:  # a redirect to a host that is not allowed
        _Handler.requests.append({"path": self.path})
        self.send_response(302)
        self.send_header("Location", "http://example.invalid/steal")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.requests.clear()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_remote_tool_calls_an_allowed_host(server: str) -> None:
    flow = AgentSpecLoader(allowed_hosts=["127.0.0.1"]).load_yaml(CONFIG.replace("HOST", server))
    assert isinstance(flow, SpecFlow)
    shared = {"city": "São Paulo"}
    flow.run(shared)
    assert shared["forecast"] == "sunny in São Paulo"
    (request,) = _Handler.requests
    assert request["path"] == "/weather/S%C3%A3o%20Paulo?units=metric"
    assert request["body"] == {"city": "São Paulo"}


def test_a_host_not_allowed_is_refused_without_a_request(server: str) -> None:
    flow = AgentSpecLoader(allowed_hosts=["example.com"]).load_yaml(CONFIG.replace("HOST", server))
    with pytest.raises(HostNotAllowedError, match=f"RemoteTool host '{server}' is not allowed"):
        flow.run({"city": "Oslo"})
    assert _Handler.requests == []


def test_by_default_no_host_is_allowed(server: str) -> None:
    flow = AgentSpecLoader().load_yaml(CONFIG.replace("HOST", server))
    with pytest.raises(HostNotAllowedError):
        flow.run({"city": "Oslo"})
    assert _Handler.requests == []


def test_a_redirect_to_a_host_not_allowed_is_refused(server: str) -> None:
    config = CONFIG.replace("HOST", server).replace("http_method: POST", "http_method: GET")
    flow = AgentSpecLoader(allowed_hosts=["127.0.0.1"]).load_yaml(config)
    with pytest.raises(HostNotAllowedError, match=r"'example\.invalid' is not allowed"):
        flow.run({"city": "Oslo"})
    assert len(_Handler.requests) == 1  # the allowed host was called, the redirect target never
