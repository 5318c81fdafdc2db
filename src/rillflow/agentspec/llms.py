"""LLM configs <-> rillflow models. Models are built without contacting any server (clients start lazily)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..llm.base import Model
from ..llm.local import LocalModel
from ..llm.openai_backend import OpenAICompatibleModel
from ..llm.types import Options
from .errors import UnsupportedComponentError

OPENAI_COMPATIBLE = ("VllmConfig", "OllamaConfig", "OpenAiCompatibleConfig")
LLM_CONFIGS = (*OPENAI_COMPATIBLE, "OpenAiConfig")


def is_llm_config(component: dict[str, Any]) -> bool:
    return str(component.get("component_type", "")).endswith("Config") and "model_id" in component


def base_url(url: str | None) -> str | None:
    """Agent Spec gives the server (``http://host:8000``); the OpenAI SDK wants the API root (``.../v1``)."""
    if not url:
        return None
    if "://" not in url:
        url = f"http://{url}"
    path = urlsplit(url).path.rstrip("/")
    return url.rstrip("/") if path.endswith("/v1") or "/v1/" in path else f"{url.rstrip('/')}/v1"


def generation_options(config: dict[str, Any]) -> Options:
    params = config.get("default_generation_parameters") or {}
    options: Options = {}
    if params.get("temperature") is not None:
        options["temperature"] = float(params["temperature"])
    if params.get("max_tokens") is not None:
        options["max_tokens"] = int(params["max_tokens"])
    return options


def build_model(config: dict[str, Any], where: str) -> Model:
    """The rillflow model for an LLM config (``where`` names it in errors)."""
    kind = config.get("component_type")
    hint = (config.get("metadata") or {}).get("rillflow", {}).get("model")
    if hint == "local":
        return LocalModel()
    options = generation_options(config)
    if kind in OPENAI_COMPATIBLE:
        return OpenAICompatibleModel(
            str(config["model_id"]), base_url=base_url(config.get("url")), default_options=options
        )
    if kind == "OpenAiConfig":
        return OpenAICompatibleModel(str(config["model_id"]), default_options=options)
    raise UnsupportedComponentError(
        f"{where}: LLM config {kind} is not supported (use one of {', '.join(LLM_CONFIGS)}, "
        "or give AgentSpecLoader(llm=...) to run every LLM on one model)"
    )


def export_model(model: Model) -> dict[str, Any]:
    """The LLM config fields for ``model`` (without id/name bookkeeping)."""
    options = dict(model.default_options)
    params = {k: options[k] for k in ("temperature", "max_tokens") if k in options}
    common: dict[str, Any] = {"model_id": model.name, "default_generation_parameters": params or None}
    if isinstance(model, LocalModel):
        meta = {"rillflow": {"model": "local"}}
        return {
            "component_type": "OpenAiCompatibleConfig",
            "url": "http://127.0.0.1",
            **common,
            "metadata": meta,
        }
    if isinstance(model, OpenAICompatibleModel):
        if model.base_url is None:
            return {"component_type": "OpenAiConfig", **common, "metadata": {}}
        return {"component_type": "OpenAiCompatibleConfig", "url": model.base_url, **common, "metadata": {}}
    meta = {"rillflow": {"model": type(model).__name__}}
    return {"component_type": "OpenAiCompatibleConfig", "url": "http://127.0.0.1", **common, "metadata": meta}
