"""An MCP server with the tools the Agent Spec MCP examples call, by their names.

stdio by default; ``--sse HOST:PORT`` (HTTP+SSE at /sse) or ``--http HOST:PORT`` (streamable HTTP at /mcp).
Every tool answers from its arguments, so a test can tell that the call really went through.
"""

from __future__ import annotations

import json
import os
import sys

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("agentspec-examples")
Finding = dict[str, str]


def log(tool: str, **arguments: object) -> None:
    """Append the call to the file $MCP_EXAMPLE_LOG names (the tests read it: the call reached us)."""
    path = os.environ.get("MCP_EXAMPLE_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(json.dumps({"tool": tool, "arguments": arguments}) + "\n")


# configs/howto_mcp_flow.yaml, configs/howto_mcp_agent.yaml ("Payslip MCP ToolBox")
@server.tool()
def get_user_session() -> str:
    """Return session details for the current user."""
    return "user ada (id 42), session s-7"


@server.tool()
def get_payslips(user_id: int) -> str:
    """The payslips of a user."""
    return f"payslips of user {user_id}: 2026-10 5000 EUR, 2026-11 5100 EUR"


# configs/ext_code_assistant_tutorial.yaml (its tool_filter keeps the first three)
@server.tool()
def list_pull_requests(owner: str, repo: str, ctx: Context) -> str:
    """List the pull requests of a repository."""
    auth = (ctx.headers or {}).get("authorization", "none")
    return f"{owner}/{repo}: #7 'Fix the parser' (open); authorization seen: {auth}"


@server.tool()
def pull_request_read(owner: str, repo: str, pullNumber: int) -> str:
    """Read a pull request."""
    return f"{owner}/{repo}#{pullNumber}: changes parser.py"


@server.tool()
def get_file_contents(owner: str, repo: str, path: str) -> str:
    """Read a file of a repository."""
    return f"{owner}/{repo}/{path}: def parse(): ..."


@server.tool()
def delete_repository(owner: str, repo: str) -> str:
    """Not in the code assistant's tool_filter: it must never be offered."""
    return f"deleted {owner}/{repo}"


# configs/ext_tutorial_cybersecurity_flow.yaml
@server.tool()
def retrieve_tenancy_graph(tenancy_id: str) -> dict[str, str]:
    """Tool to retrieve tenancy graph."""
    return {"tenancy": tenancy_id, "vcn": "vcn-1", "user": "ada"}


@server.tool()
def find_networking_vulnerabilities(tenancy_graph: dict[str, str]) -> list[Finding]:
    """Tool to find networking vulnerabilities."""
    return [{"id": "net-1", "issue": f"port 22 open on {tenancy_graph['vcn']}"}]


@server.tool()
def find_sensitive_files(tenancy_graph: dict[str, str], findings: list[Finding]) -> list[Finding]:
    """Tool to find sensitive files in NFS and OS."""
    return [*findings, {"id": "file-1", "issue": f"world-readable keys of {tenancy_graph['user']}"}]


@server.tool()
def evaluate_exploits(tenancy_graph: dict[str, str], findings: list[Finding]) -> list[Finding]:
    """Tool to safely try exploits."""
    return [{**f, "verified": "true" if f["id"].startswith("net") else "false"} for f in findings]


@server.tool()
def has_findings(findings: list[Finding]) -> str:
    """Tool to evaluate whether there are findings."""
    return "yes" if findings else "no"


@server.tool()
def find_lateral_movement_from_user(tenancy_graph: dict[str, str], findings: list[Finding]) -> list[Finding]:
    """Tool to evaluate where a compromised user has rights."""
    return [{**f, "lateral": f"{tenancy_graph['user']} can reach {tenancy_graph['vcn']}"} for f in findings]


@server.tool()
def find_networking_lateral_movement(tenancy_graph: dict[str, str], findings: list[Finding]) -> list[Finding]:
    """Tool to evaluate where an attacker could reach from a compromised IP."""
    return findings


@server.tool()
def report_findings(findings: list[Finding]) -> str:
    """Sends mail to the finding's tenancy owner."""
    log("report_findings", findings=findings)
    return f"reported {len(findings)} findings: {', '.join(f.get('id', '?') for f in findings)}"


# pyagentspec-tests/example_serialized_agent_with_tools_and_toolboxes_*.yaml
@server.tool()
def my_mcp_tool() -> str:
    """The MCPTool of the example."""
    return "my_mcp_tool ran"


@server.tool()
def tool_name1(text: str) -> str:
    """The first tool of the filtered toolbox."""
    log("tool_name1", text=text)
    return f"tool_name1 got {text}"


@server.tool()
def tool_name2() -> str:
    """The second tool of the filtered toolbox."""
    return "tool_name2 ran"


@server.tool()
def pid() -> int:
    """The server's process id (tests check the process is stopped)."""
    return os.getpid()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--sse", "--http"):
        host, port = sys.argv[2].rsplit(":", 1)
        transport = "sse" if sys.argv[1] == "--sse" else "streamable-http"
        server.run(transport, host=host, port=int(port))  # type: ignore[call-overload]
    else:
        server.run()
