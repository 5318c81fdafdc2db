"""rillflow.llm: an optional LLM layer that works offline out of the box.

One model interface with twin faces (``generate`` / ``generate_async`` / ``stream_async``), backends for
any OpenAI-compatible server, an embedded SmolLM2 model and a scripted model, structured output with
retries, a shared limiter and retries with backoff. Third-party packages (``openai``, ``xllamacpp``,
``pyyaml``, ``jsonschema``, ``pydantic``) are imported only when a feature needs them.
"""

from .base import Model, Request
from .capabilities import Capabilities
from .choose import default_model, model_from_spec
from .errors import LLMError, StructuredOutputError
from .example import example_of
from .limiter import Lease, Limiter
from .local import LocalModel, LocalServer, bundled_gguf_path, shared_local_server
from .openai_backend import OpenAICompatibleModel
from .retry import NO_RETRY, RetryPolicy
from .scripted import Call, ScriptedModel
from .structured import (
    StructuredOptions,
    extract_block,
    generate_structured,
    generate_structured_async,
    parse_block,
)
from .types import Message, Options, Prompt, Reply, ToolCall, Usage

__all__ = [
    "NO_RETRY",
    "Call",
    "Capabilities",
    "LLMError",
    "Lease",
    "Limiter",
    "LocalModel",
    "LocalServer",
    "Message",
    "Model",
    "OpenAICompatibleModel",
    "Options",
    "Prompt",
    "Reply",
    "Request",
    "RetryPolicy",
    "ScriptedModel",
    "StructuredOptions",
    "StructuredOutputError",
    "ToolCall",
    "Usage",
    "bundled_gguf_path",
    "default_model",
    "example_of",
    "extract_block",
    "generate_structured",
    "generate_structured_async",
    "model_from_spec",
    "parse_block",
    "shared_local_server",
]
