"""The LLM examples run with the scripted model and do what their docstrings say."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def load(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name), run_name="example")


def test_resume_parser_retries_with_the_errors_then_validates(capsys: pytest.CaptureFixture[str]) -> None:
    example = load("resume_parser.py")
    model = example["scripted_model"]()
    shared = example["main"](model)
    assert shared["structured_data"]["experience"] == [{"title": "Sales Manager", "company": "TechCorp"}]
    assert "at experience: 'none' is not of type 'array'" in model.calls[1].messages[-1]["content"]
    assert "job:    Sales Manager at TechCorp" in capsys.readouterr().out
