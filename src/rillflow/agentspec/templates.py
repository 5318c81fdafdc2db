"""Agent Spec prompt templates: ``{{name}}`` placeholders filled from a node's inputs."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def variables(template: str | None) -> list[str]:
    """The placeholder names of ``template``, in order of first appearance."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(template or "")))


def render(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``values[name]`` (non-strings as JSON);
    a name with no value is left as it is."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

    return _PLACEHOLDER.sub(fill, template)
