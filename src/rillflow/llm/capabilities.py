"""What a model can do, so that callers (structured output, agents) pick their defaults from it instead of
testing for backend classes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """What a model and its server support.

    - ``supports_tools``: native OpenAI tool calling (``tools`` / ``tool_calls``); true unless a backend
      says otherwise, as for OpenAI-compatible servers;
    - ``supports_json_schema``: the ``json_schema`` option constrains generation to the schema;
    - ``supports_grammar``: the ``grammar`` option (a llama.cpp GBNF grammar) constrains generation;
    - ``context_tokens``: prompt plus reply tokens one request may use (None: unknown, assumed large);
    - ``needs_guidance``: a small model that answers from memory, repeats itself or misspells unless
      guided: an :class:`~rillflow.agents.Agent` turns its guards on by default, and agents and
      structured output decode greedily (``temperature=0``) unless the call or the model's
      ``default_options`` set a temperature.
    """

    supports_tools: bool = True
    supports_json_schema: bool = False
    supports_grammar: bool = False
    context_tokens: int | None = None
    needs_guidance: bool = False
