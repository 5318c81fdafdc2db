"""Choose a model without changing code: ``RILLFLOW_LLM=local`` (the default) or ``openai:<model>``."""

from __future__ import annotations

import os
import threading

from .base import Model
from .local import LocalModel
from .openai_backend import OpenAICompatibleModel

MODEL_ENV = "RILLFLOW_LLM"
DEFAULT_SPEC = "local"

_cache_lock = threading.Lock()
_cache: dict[str, Model] = {}


def model_from_spec(spec: str) -> Model:
    """Build a new model from a spec string.

    - ``local``: the embedded SmolLM2 model (:class:`LocalModel`);
    - ``openai:<model>``: an OpenAI-compatible server at ``OPENAI_BASE_URL`` (default: OpenAI's API) with
      key ``OPENAI_API_KEY``, e.g. ``openai:gpt-4o-mini`` or ``openai:llama3.2`` for Ollama.
    """
    kind, _, name = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "local" and not name:
        return LocalModel()
    if kind == "openai" and name:
        return OpenAICompatibleModel(name)
    raise ValueError(f"unknown model spec {spec!r}: use 'local' or 'openai:<model>'")


def default_model(spec: str | None = None) -> Model:
    """The shared model for ``spec`` (default: ``$RILLFLOW_LLM``, else ``local``).

    The same spec always returns the same object, so every node that calls it shares its limiter.
    """
    resolved = (spec or os.environ.get(MODEL_ENV) or DEFAULT_SPEC).strip()
    with _cache_lock:
        if resolved not in _cache:
            _cache[resolved] = model_from_spec(resolved)
        return _cache[resolved]
