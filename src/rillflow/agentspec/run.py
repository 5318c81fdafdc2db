"""Loading a config file for the command line: ``rillflow run config.yaml --tools module:registry``."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Collection, Mapping
from typing import Any

from ..llm.choose import model_from_spec
from .loader import AgentSpecLoader

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


def is_config_path(target: str) -> bool:
    """True when a ``rillflow run`` target is an Agent Spec config file rather than ``module:flow``."""
    return target.lower().endswith(CONFIG_SUFFIXES)


def import_registry(spec: str) -> Mapping[str, Any]:
    """The mapping named by ``module:attribute`` (the module may be a ``.py`` path or a dotted name)."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise ValueError(f"--tools must look like module:registry or file.py:registry, got {spec!r}")
    if module_name.endswith(".py"):
        directory, file = os.path.split(os.path.abspath(module_name))
        sys.path.insert(0, directory)
        module_name = file[:-3]
    registry = getattr(importlib.import_module(module_name), attr, None)
    if not isinstance(registry, Mapping):
        raise ValueError(f"{spec}: {attr!r} is not a mapping of tool name -> function")
    return registry


def run_config(
    path: str,
    *,
    tools: str | None = None,
    llm: str | None = None,
    allowed_hosts: Collection[str] = (),
    mcp_servers: Mapping[str, Any] | None = None,
) -> Any:
    """Load the config at ``path`` with the registry ``tools`` names and, if given, every LLM on ``llm``
    (a model spec: ``local`` or ``openai:<model>``) and its MCP servers moved as ``mcp_servers`` says."""
    loader = AgentSpecLoader(
        import_registry(tools) if tools else {},
        llm=model_from_spec(llm) if llm else None,
        allowed_hosts=allowed_hosts,
        mcp_servers=mcp_servers,
    )
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return loader.load_json(text) if path.lower().endswith(".json") else loader.load_yaml(text)
