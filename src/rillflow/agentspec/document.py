"""Reading an Agent Spec document: parse YAML/JSON, check versions, resolve ``$component_ref``.

The result is a tree of plain dicts in which every reference is replaced by the component it names (the
same dict object for every reference to one component), plus the location of each component in the file
(``$.nodes[3]``) for error messages. Nothing named by the file is imported or run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import AgentSpecError

REF, REFS, VERSION = "$component_ref", "$referenced_components", "agentspec_version"
# The Agent Spec versions this loader reads (pyagentspec 26.3.1 reads the same range).
OLDEST, NEWEST = (25, 4), (26, 3)


@dataclass
class Document:
    """A resolved config: ``root`` is the top component; ``where(component)`` its location."""

    root: dict[str, Any]
    version: str | None
    locations: dict[int, str] = field(default_factory=dict)

    def where(self, component: dict[str, Any]) -> str:
        return self.locations.get(id(component), "$")


def parse_text(text: str, fmt: str) -> Any:
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise AgentSpecError(f"the config is not valid JSON: {exc}") from None
    try:
        import yaml
    except ImportError as exc:
        raise ImportError("loading YAML configs needs PyYAML: pip install 'rillflow[agentspec]'") from exc
    try:
        return yaml.safe_load(text)  # safe_load: no Python tags, nothing constructed but plain data
    except yaml.YAMLError as exc:
        raise AgentSpecError(f"the config is not valid YAML: {exc}") from None


def check_version(version: Any) -> str | None:
    if version is None:
        return None
    try:
        major, minor = (int(part) for part in str(version).split(".")[:2])
    except ValueError:
        raise AgentSpecError(f"agentspec_version {version!r} is not a version like 25.4.1") from None
    if not OLDEST <= (major, minor) <= NEWEST:
        raise AgentSpecError(
            f"agentspec_version {version} is not supported (rillflow reads "
            f"{OLDEST[0]}.{OLDEST[1]} to {NEWEST[0]}.{NEWEST[1]}.x)"
        )
    return str(version)


def newer(version: str, than: str) -> bool:
    """True when Agent Spec ``version`` is later than ``than`` (both like ``25.4.2``)."""

    def parts(text: str) -> tuple[int, ...]:
        return tuple(int(p) for p in text.split(".") if p.isdigit())

    return parts(version) > parts(than)


def read_document(data: Any) -> Document:
    """Resolve every reference of ``data`` (the parsed file)."""
    if not isinstance(data, dict):
        raise AgentSpecError(f"an Agent Spec config is a mapping, got {type(data).__name__}")
    version = check_version(data.get(VERSION))
    resolver = _Resolver()
    root = resolver.resolve({k: v for k, v in data.items() if k != VERSION}, (), "$", top=True)
    if not isinstance(root, dict) or "component_type" not in root:
        raise AgentSpecError("the config has no component_type at its top level")
    return Document(root, version, resolver.locations)


Scope = tuple[tuple[dict[str, Any], str], ...]  # (referenced components, where they are declared)


class _Resolver:
    def __init__(self) -> None:
        self.locations: dict[int, str] = {}
        self.done: dict[tuple[int, str], dict[str, Any]] = {}
        self.active: set[tuple[int, str]] = set()

    def resolve(self, value: Any, scope: Scope, where: str, *, top: bool = False) -> Any:
        if isinstance(value, list):
            return [self.resolve(item, scope, f"{where}[{i}]") for i, item in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if VERSION in value and not top:
            raise AgentSpecError(f"{where}: agentspec_version is allowed only at the top of the config")
        if REFS in value:
            refs = value[REFS]
            if not isinstance(refs, dict):
                raise AgentSpecError(f"{where}.{REFS} must be a mapping of id -> component")
            for key in refs:
                for outer, declared in scope:
                    if key in outer:
                        raise AgentSpecError(
                            f"{where}.{REFS}: the id {key!r} is already declared at {declared}"
                        )
            scope = (*scope, (refs, f"{where}.{REFS}"))
            value = {k: v for k, v in value.items() if k != REFS}
        if REF in value:
            return self.follow(str(value[REF]), scope, where)
        out = {key: self.resolve(item, scope, f"{where}.{key}") for key, item in value.items()}
        if "component_type" in out:
            self.locations.setdefault(id(out), where)
        return out

    def follow(self, ref: str, scope: Scope, where: str) -> dict[str, Any]:
        for depth in range(len(scope) - 1, -1, -1):
            refs, declared = scope[depth]
            if ref in refs:
                key = (id(refs), ref)
                if key in self.done:
                    return self.done[key]
                if key in self.active:
                    raise AgentSpecError(f"{where}: component {ref!r} refers to itself (a reference cycle)")
                self.active.add(key)
                target = self.resolve(refs[ref], scope[: depth + 1], f"{declared}.{ref}")
                self.active.discard(key)
                if not isinstance(target, dict):
                    raise AgentSpecError(f"{declared}.{ref} is not a component")
                self.done[key] = target
                return target
        raise AgentSpecError(f"{where}: $component_ref {ref!r} names no component in $referenced_components")
