"""The Agent Spec MCP examples, run against a real MCP server (SSE, streamable HTTP on 127.0.0.1, stdio):
the loader builds MCPTool and MCPToolBox on rillflow.mcp, the scripted model's calls reach the server and
its results come back; errors name the component; connections close; agents export back losslessly."""

from __future__ import annotations

import asyncio
import json
import runpy
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from agentspec_helpers import EXAMPLES, MCP_CONFIGS, REPO, read, stub_registry, validate_with_pyagentspec
from agentspec_mcp import SERVER, gone, logged, serving, stdio_transport

from rillflow.agents import Agent
from rillflow.agentspec import AgentSpecError, AgentSpecExporter, AgentSpecLoader, SpecFlow
from rillflow.agentspec.document import read_document
from rillflow.cli import main
from rillflow.durable import MemoryCheckpointer, Paused
from rillflow.hooks import graph_nodes
from rillflow.llm import Reply, ScriptedModel, ToolCall
from rillflow.mcp import HTTPServer, MCPError, MCPToolset

pytest.importorskip("mcp")
pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="the shared Agent Spec examples are not here")

TOOLBOXES = "pyagentspec-tests/example_serialized_agent_with_tools_and_toolboxes_{}.yaml"


@pytest.fixture(scope="module")
def sse_url() -> Iterator[str]:
    with serving("--sse") as url:
        yield url


@pytest.fixture(scope="module")
def http_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp") / "calls.jsonl"


@pytest.fixture(scope="module")
def http_url(http_log: Path) -> Iterator[str]:
    with serving("--http", http_log) as url:
        yield url


def call(name: str, **arguments: Any) -> Reply:
    return Reply("", "tool_calls", tool_calls=(ToolCall(f"call-{name}", name, json.dumps(arguments)),))


def offered(model: ScriptedModel, turn: int = 0) -> dict[str, Any]:
    """The tools the model was offered on a turn, by name."""
    return {t["function"]["name"]: t["function"] for t in model.calls[turn].options.get("tools", [])}


# --- loading ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MCP_CONFIGS)
def test_mcp_configs_load_without_connecting_to_any_server(name: str) -> None:
    loaded = AgentSpecLoader(stub_registry(name), llm=ScriptedModel(["ok"])).load_yaml(read(name))
    assert isinstance(loaded, SpecFlow | Agent)
    twin = (EXAMPLES / name).with_suffix(".json")
    if twin.exists():
        again = AgentSpecLoader(stub_registry(name), llm=ScriptedModel(["ok"])).load_json(twin.read_text())
        assert type(again) is type(loaded)


def test_before_a_run_a_filtered_toolbox_offers_the_tools_its_filter_names() -> None:
    agent = AgentSpecLoader(llm=ScriptedModel(["ok"])).load_yaml(
        read("configs/ext_code_assistant_tutorial.yaml")
    )
    assert list(agent.toolbox.tools) == ["list_pull_requests", "pull_request_read", "get_file_contents"]
    assert all(t.source == "mcp:https://api.githubcopilot.com/mcp/" for t in agent.toolbox)


# --- running against the server -------------------------------------------------------------------------


def test_flow_tool_node_calls_its_mcp_tool_over_sse(sse_url: str) -> None:
    loader = AgentSpecLoader(mcp_servers={"http://localhost:8080/sse": sse_url})  # keyed by the config's URL
    for flow in (
        loader.load_yaml(read("configs/howto_mcp_flow.yaml")),
        loader.load_json((EXAMPLES / "configs/howto_mcp_flow.json").read_text()),
    ):
        shared: dict[str, Any] = {}
        flow.run(shared)
        assert shared["user_info"] == "user ada (id 42), session s-7"


def test_agent_takes_its_toolbox_tools_from_the_server_when_a_run_starts(sse_url: str) -> None:
    model = ScriptedModel([call("get_user_session"), call("get_payslips", user_id=42), "You got 5100 EUR."])
    loader = AgentSpecLoader(llm=model, mcp_servers={"MCP Client": sse_url})  # keyed by the transport's name
    agent = loader.load_yaml(read("configs/howto_mcp_agent.yaml"))
    assert len(agent.toolbox) == 0  # no tool_filter: the server's listing gives the tools, at run time
    result = agent.ask("What was my last pay?")
    assert result.answer == "You got 5100 EUR."
    assert [(s["tool"], s["ok"], s["output"]) for s in result.steps] == [
        ("get_user_session", True, "user ada (id 42), session s-7"),
        ("get_payslips", True, "payslips of user 42: 2026-10 5000 EUR, 2026-11 5100 EUR"),
    ]
    tools = offered(model)
    assert {"get_user_session", "get_payslips", "report_findings"} <= set(tools)
    assert tools["get_payslips"]["parameters"]["required"] == ["user_id"]  # the server's own schema
    assert tools["get_payslips"]["description"] == "The payslips of a user."


def test_code_assistant_offers_only_its_filter_and_sends_the_configs_headers(http_url: str) -> None:
    model = ScriptedModel(
        [
            call("list_pull_requests", owner="oracle", repo="agent-spec"),
            call("delete_repository", owner="oracle", repo="agent-spec"),
            "PR #7 fixes the parser.",
            call("pull_request_read", owner="oracle", repo="agent-spec", pullNumber=7),
            "It changes parser.py.",
        ]
    )
    loader = AgentSpecLoader(llm=model, mcp_servers={"https://api.githubcopilot.com/mcp/": http_url})
    agent = loader.load_yaml(read("configs/ext_code_assistant_tutorial.yaml"))
    result = agent.ask("What is open on oracle/agent-spec?")
    assert result.answer == "PR #7 fixes the parser."
    first, second = result.steps
    assert first["ok"] and first["output"].endswith("authorization seen: Bearer GITHUB_PERSONAL_ACCESS_TOKEN")
    assert not second["ok"] and "no tool named 'delete_repository'" in second["output"]
    tools = offered(model)
    assert list(tools) == ["list_pull_requests", "pull_request_read", "get_file_contents"]
    assert tools["pull_request_read"]["parameters"]["required"] == ["owner", "repo", "pullNumber"]
    again = agent.ask("What does #7 change?", {})  # another sync run: another event loop, connected again
    assert again.steps[0]["output"] == "oracle/agent-spec#7: changes parser.py"


def triage_model() -> ScriptedModel:
    findings = [{"id": "net-1", "issue": "port 22 open on vcn-1", "verified": "true"}]

    def reply(prompt: str) -> Reply | str:
        if "summarize security vulnerability findings" in prompt:
            return json.dumps({"findings": [{**findings[0], "summary": "SSH is exposed"}]})
        if "ada can reach vcn-1" not in prompt:  # the triaging agent's first turn
            graph = {"tenancy": "ocid1.tenancy.demo", "vcn": "vcn-1", "user": "ada"}
            return call("find_lateral_movement_from_user", tenancy_graph=graph, findings=findings)
        return json.dumps({"findings": [{**findings[0], "severity": "HIGH"}]})

    return ScriptedModel(reply)


def test_cybersecurity_flow_runs_its_mcp_tools_across_pauses(http_url: str, http_log: Path) -> None:
    model = triage_model()
    loader = AgentSpecLoader(llm=model, mcp_servers={"http://localhost:8081/mcp": http_url})
    flow = loader.load_yaml(read("configs/ext_tutorial_cybersecurity_flow.yaml"))
    store = MemoryCheckpointer()
    paused = flow.run({}, run_id="sec", checkpointer=store)
    assert paused.payload["kind"] == "input_message"  # the tenancy id
    paused = flow.resume("sec", "ocid1.tenancy.demo", checkpointer=store)
    assert paused.payload["kind"] == "input_message"  # report the findings?
    shared = paused.shared
    assert shared["tenancy_graph"] == {"tenancy": "ocid1.tenancy.demo", "vcn": "vcn-1", "user": "ada"}
    assert [f["id"] for f in shared["evaluate_exploits Node.findings"]] == ["net-1", "file-1"]
    assert shared["has_findings"] == "yes"
    done = flow.resume("sec", "yes", checkpointer=store)
    assert done.shared["findings"][0]["severity"] == "HIGH"  # the triaging agent's answer
    reported = [c for c in logged(http_log) if c["tool"] == "report_findings"]
    assert reported == [{"tool": "report_findings", "arguments": {"findings": done.shared["findings"]}}]
    triage = [c for c in model.calls if "lateral" in json.dumps(c.options.get("tools", []))]
    assert triage and "ada can reach vcn-1" in triage[-1].prompt  # the agent's MCP tool result


# 26.1.2 has requires_confirmation on the unfiltered toolbox: it asks for all its tools (my_mcp_tool too:
# it offers it besides the MCPTool); 25.4.2 has no such field, and its MCPTool does not ask.
@pytest.mark.parametrize(
    ("version", "asking"), [("25_4_2", []), ("26_1_2", ["tool_name1", "my_mcp_tool", "pid"])]
)
def test_toolboxes_over_stdio_ask_for_confirmation_as_the_config_says(
    tmp_path: Path, version: str, asking: list[str]
) -> None:
    log = tmp_path / "calls.jsonl"
    model = ScriptedModel([call("tool_name1", text="hi"), call("my_mcp_tool"), call("pid"), "done"])
    loader = AgentSpecLoader(llm=model, mcp_servers={"mcp_transport": stdio_transport(log)})
    agent = loader.load_yaml(read(TOOLBOXES.format(version)))
    store = MemoryCheckpointer()
    asked: list[str] = []
    outcome = agent.run({"question": "go"}, run_id="c", checkpointer=store)
    while isinstance(outcome, Paused):  # each sync run (and resume) connects, and closes at its end
        asked += [c["tool"] for c in outcome.payload["calls"]]
        outcome = agent.resume("c", True, checkpointer=store)
    steps = outcome.shared["agent"]["steps"]
    assert [(s["tool"], s["ok"]) for s in steps] == [
        ("tool_name1", True),
        ("my_mcp_tool", True),
        ("pid", True),
    ]
    assert logged(log) == [{"tool": "tool_name1", "arguments": {"text": "hi"}}]
    assert asked == asking
    assert gone(int(steps[2]["output"]))  # the run's end stopped the stdio server


# --- errors ----------------------------------------------------------------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/sse"  # nothing listens there once closed


def test_an_unreachable_server_is_one_error_naming_the_component_and_what_to_do() -> None:
    loader = AgentSpecLoader(llm=ScriptedModel(["ok"]), mcp_servers={"MCP Client": closed_port_url()})
    agent = loader.load_yaml(read("configs/howto_mcp_agent.yaml"))  # loading needs no server
    with pytest.raises(MCPError) as info:
        agent.ask("hi")
    message = str(info.value)
    assert message.startswith("$.toolboxes[0]: MCPToolBox 'Payslip MCP ToolBox' (id '37ac0458-")
    assert (
        "cannot connect" in message
        and "AgentSpecLoader(mcp_servers={'http://localhost:8080/sse': ...})" in message
    )
    assert "\n" not in message
    with pytest.raises(MCPError, match=r"MCPTool 'get_user_session' \(id 'a94d225e-.*cannot connect"):
        AgentSpecLoader(mcp_servers={"other": closed_port_url()}).load_yaml(
            read("configs/howto_mcp_flow.yaml").replace("MCP Client", "other")
        ).run({})


def test_a_tool_the_server_does_not_have_is_named(sse_url: str, http_url: str) -> None:
    text = read("configs/howto_mcp_flow.yaml").replace("name: get_user_session", "name: get_user_sessions")
    flow = AgentSpecLoader(mcp_servers={"MCP Client": sse_url}).load_yaml(text)
    with pytest.raises(MCPError) as info:
        flow.run({})
    assert "MCPTool 'get_user_sessions' (id 'a94d225e-" in str(info.value)
    assert "has no tool named 'get_user_sessions' (it has: get_user_session, get_payslips," in str(info.value)
    text = read("configs/ext_code_assistant_tutorial.yaml").replace("- get_file_contents", "- get_files")
    loader = AgentSpecLoader(llm=ScriptedModel(["ok"]), mcp_servers={"mcp_client": http_url})
    with pytest.raises(MCPError, match=r"MCPToolBox 'mcp_toolbox' .*has no tool named 'get_files'"):
        loader.load_yaml(text).ask("hi")


def test_without_the_mcp_extra_loading_names_the_component_and_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # `import mcp` now fails as if it were not installed
    with pytest.raises(ImportError) as info:
        AgentSpecLoader(llm=ScriptedModel(["ok"])).load_yaml(read("configs/howto_mcp_flow.yaml"))
    assert str(info.value) == (
        "$.$referenced_components.4d5d3dd3-e826-41ec-bd19-1f41f61e07dc.tool: MCPTool 'get_user_session' "
        "(id 'a94d225e-b15f-4fd5-988f-3587f0e31aab') needs the MCP SDK: pip install 'rillflow[mcp]'"
    )


def test_transport_fields_rillflow_cannot_honour_are_refused_by_name() -> None:
    data = yaml.safe_load(read("configs/howto_mcp_flow.yaml"))
    transport = data["$referenced_components"]["4d5d3dd3-e826-41ec-bd19-1f41f61e07dc"]["tool"][
        "client_transport"
    ]
    transport["auth"] = {"component_type": "OAuthConfig", "name": "oauth"}
    with pytest.raises(AgentSpecError, match=r"'auth' \(OAuth\) is not supported"):
        AgentSpecLoader().load_dict(data)
    transport.pop("auth")
    transport.update(component_type="SSEmTLSTransport", cert_file="client.pem")
    with pytest.raises(AgentSpecError, match=r"SSEmTLSTransport needs 'key_file' for mutual TLS"):
        AgentSpecLoader().load_dict(data)
    transport.update(component_type="WebSocketTransport")
    with pytest.raises(AgentSpecError, match=r"client transport 'WebSocketTransport' .* is not supported"):
        AgentSpecLoader().load_dict(data)


# --- connections ------------------------------------------------------------------------------------------


async def test_async_runs_share_one_connection_until_the_loader_closes() -> None:
    model = ScriptedModel([call("pid"), "ok", call("pid"), "ok"])
    async with AgentSpecLoader(llm=model, mcp_servers={"MCP Client": stdio_transport()}) as loader:
        agent = loader.load_yaml(read("configs/howto_mcp_agent.yaml"))
        first = await agent.ask_async("q1")
        second = await agent.ask_async("q2", {})
        pids = {int(r.steps[0]["output"]) for r in (first, second)}
        assert len(pids) == 1 and not gone(next(iter(pids)))  # one server process for both runs
    assert gone(next(iter(pids)))  # leaving the loader stopped it


# --- export ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "configs/howto_mcp_agent.yaml",
        "configs/ext_code_assistant_tutorial.yaml",
        TOOLBOXES.format("25_4_2"),
        TOOLBOXES.format("26_1_2"),
    ],
)
def test_a_loaded_agent_exports_its_mcp_components_as_they_were(name: str) -> None:
    loader = AgentSpecLoader(llm=ScriptedModel(["ok"]))
    agent = loader.load_yaml(read(name))
    text = AgentSpecExporter().to_yaml(agent)
    validate_with_pyagentspec(text)
    original = read_document(yaml.safe_load(read(name))).root
    exported = read_document(yaml.safe_load(text)).root
    mcp = [t for t in original["tools"] if t["component_type"] == "MCPTool"]
    assert [t for t in exported["tools"] if t["component_type"] == "MCPTool"] == mcp
    assert exported["toolboxes"] == original["toolboxes"]
    again = loader.load_yaml(text)
    assert AgentSpecExporter().to_yaml(again) == text  # a second round trip changes nothing


def test_an_agent_on_an_mcp_toolset_exports_a_toolbox_that_loads_and_runs(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"

    async def build() -> Agent:
        toolset = MCPToolset.stdio(
            sys.executable,
            [str(SERVER)],
            env={"MCP_EXAMPLE_LOG": str(log)},
            allowed_tools=["tool_name1", "pid"],
            confirm={"pid"},
        )
        async with toolset:
            return Agent(ScriptedModel(["ok"]), toolset, name="Helper")

    agent = asyncio.run(build())
    data = AgentSpecExporter().to_dict(agent)
    (box,) = data["toolboxes"]
    assert box["tool_filter"][0] == "tool_name1"
    assert box["tool_filter"][1]["name"] == "pid" and box["tool_filter"][1]["requires_confirmation"] is True
    transport = box["client_transport"]
    assert (transport["component_type"], transport["command"], transport["args"]) == (
        "StdioTransport",
        sys.executable,
        [str(SERVER)],
    )
    validate_with_pyagentspec(json.dumps(data), "json")
    model = ScriptedModel([call("tool_name1", text="back"), "done"])
    again = AgentSpecLoader(llm=model).load_dict(data)
    result = again.ask("go")
    assert result.steps[0]["output"] == "tool_name1 got back"
    assert logged(log) == [{"tool": "tool_name1", "arguments": {"text": "back"}}]
    assert set(offered(model)) == {"tool_name1", "pid"}


def test_a_manager_keeps_its_mcp_toolbox_beside_its_workers(sse_url: str) -> None:
    data = yaml.safe_load(read("configs/howto_managerworkers.yaml"))
    toolbox = yaml.safe_load(read("configs/howto_mcp_agent.yaml"))["toolboxes"][0]
    toolbox["tool_filter"] = ["get_user_session"]
    data["group_manager"]["toolboxes"] = [toolbox]
    model = ScriptedModel([call("get_user_session"), "You are ada."])
    registry = stub_registry("configs/howto_managerworkers.yaml")
    manager = AgentSpecLoader(registry, llm=model, mcp_servers={"MCP Client": sse_url}).load_dict(data)
    result = manager.ask("Who am I?")
    assert result.steps[0]["output"] == "user ada (id 42), session s-7" and result.answer == "You are ada."
    assert {"get_user_session", "RefundSpecialist"} <= set(offered(model))


def test_the_example_runs_its_agent_on_the_docs_server_and_exports_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    example = runpy.run_path(str(REPO / "examples" / "agentspec_mcp.py"), run_name="example")
    results = example["main"](example["scripted_model"]())
    assert [(s["tool"], s["ok"]) for s in results["steps"]] == [
        ("list_documents", True),
        ("read_document", True),
    ]
    assert results["answer"] == "According to the document 'Tardigrades': see its first lines above."
    validate_with_pyagentspec(results["yaml"])
    out = capsys.readouterr().out
    assert "before the run, the toolbox offers: list_documents, read_document" in out
    assert "exported, loaded and exported again: the same config: True" in out


def test_mtls_transports_carry_their_files_and_a_url_override_keeps_them() -> None:
    data = yaml.safe_load(read("configs/howto_mcp_flow.yaml"))
    node = data["$referenced_components"]["4d5d3dd3-e826-41ec-bd19-1f41f61e07dc"]
    files = {"cert_file": "c.pem", "key_file": "k.pem", "ca_file": "ca.pem"}
    node["tool"]["client_transport"].update(component_type="StreamableHTTPmTLSTransport", **files)
    loader = AgentSpecLoader(mcp_servers={"MCP Client": "https://127.0.0.1:8443/mcp"})
    flow = loader.load_dict(data)
    tool = next(n for n in graph_nodes(flow).values() if getattr(n, "tool", None) is not None).tool
    server = tool.func.toolset.server
    assert server == HTTPServer(
        "https://127.0.0.1:8443/mcp", "streamable-http", None, "c.pem", "k.pem", "ca.pem"
    )


@pytest.mark.parametrize("answer", [False, True])
def test_a_run_resumed_by_another_loader_honours_the_confirmation(tmp_path: Path, answer: bool) -> None:
    log = tmp_path / "calls.jsonl"
    store = MemoryCheckpointer()

    def load() -> Agent:  # as a new process would: a new loader, nothing listed yet
        model = ScriptedModel(
            lambda p: "done" if "tool_name1" in p.split("go", 1)[-1] else call("tool_name1", text="hi")
        )
        loader = AgentSpecLoader(llm=model, mcp_servers={"mcp_transport": stdio_transport(log)})
        agent: Agent = loader.load_yaml(read(TOOLBOXES.format("26_1_2")))
        return agent

    paused = load().run({"question": "go"}, run_id="r", checkpointer=store)
    assert isinstance(paused, Paused) and paused.payload["calls"][0]["tool"] == "tool_name1"
    done = load().resume("r", answer, checkpointer=store)
    (step,) = done.shared["agent"]["steps"]
    assert step["ok"] is answer
    assert logged(log) == ([{"tool": "tool_name1", "arguments": {"text": "hi"}}] if answer else [])


def test_the_command_line_moves_a_configs_mcp_server(
    sse_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(EXAMPLES / "configs/howto_mcp_flow.yaml")
    assert main(["run", config, "--mcp-server", f"MCP Client={sse_url}"]) == 0
    assert json.loads(capsys.readouterr().out)["user_info"] == "user ada (id 42), session s-7"
    assert main(["run", config, "--mcp-server", "MCP Client"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "--mcp-server takes FROM=TO" in captured.err
