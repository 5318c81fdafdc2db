"""Errors raised by the LLM layer; each names the model and, when known, the server's request id."""

from __future__ import annotations


class LLMError(Exception):
    """A model request failed.

    ``transient`` marks failures worth retrying (connection errors, 429, 5xx); ``retry_after`` is the
    server's hint in seconds, if it sent one. Messages never contain API keys.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        request_id: str | None = None,
        status_code: int | None = None,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.model = model
        self.request_id = request_id
        self.status_code = status_code
        self.transient = transient
        self.retry_after = retry_after

    def __str__(self) -> str:
        details = [f"model={self.model or '?'}"]
        if self.status_code is not None:
            details.append(f"status={self.status_code}")
        if self.request_id:
            details.append(f"request_id={self.request_id}")
        return f"{self.message} ({', '.join(details)})"


class StructuredOutputError(LLMError):
    """The model never produced output that parsed and validated; ``last_text`` is its final attempt and
    ``finish_reason`` why that attempt stopped (``"length"``: it was cut at ``max_tokens``)."""

    def __init__(
        self,
        message: str,
        *,
        model: str = "",
        last_text: str = "",
        attempts: int = 0,
        finish_reason: str = "stop",
    ) -> None:
        super().__init__(message, model=model)
        self.last_text = last_text
        self.attempts = attempts
        self.finish_reason = finish_reason


def missing_extra(package: str, extra: str) -> ImportError:
    """The ImportError raised when an optional dependency is absent, naming the extra that installs it."""
    return ImportError(
        f"rillflow.llm needs the '{package}' package for this feature: pip install 'rillflow[{extra}]'"
    )
