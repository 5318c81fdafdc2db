"""Success rates of the seed's two LLM patterns on the default model (the embedded SmolLM2-135M).

1. The agent quick start of docs/agents.md (``Agent(default_model(), [get_weather], ...)``) over varied
   questions: a success calls ``get_weather`` with the question's city and answers with its result.
2. The tutorial's resume parser (PocketFlow's structured-output cookbook) with
   ``generate_structured(format="yaml", schema=...)`` over varied resumes: a success returns data that
   validates; names and emails are also checked for being copied exactly.

This is a measurement, not a test: it prints a table. ``python bench/quality.py [--llm SPEC] [--only
agent|resume] [--limit N]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from rillflow.agents import Agent, tool
from rillflow.llm import Model, StructuredOutputError, default_model, generate_structured

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from resume_parser import RESUME_SCHEMA, TARGET_SKILLS  # the tutorial's own schema

# --- 1. the agent quick start ------------------------------------------------------------------------
CITIES = [
    "Paris", "Tokyo", "Oslo", "Lima", "Cairo", "Berlin", "Madrid", "Toronto", "Sydney", "Nairobi",
    "Rome", "Seoul", "Dublin", "Vienna", "Lisbon", "Mumbai", "Chicago", "Denver", "Boston", "Prague",
    "New York", "Cape Town", "Mexico City", "Hong Kong",
]  # fmt: skip
QUESTIONS = [
    "What is the weather in {city}?",
    "How is the weather in {city} today?",
    "Is it sunny in {city}?",
    "Tell me the current weather in {city}.",
    "What's the temperature in {city} right now?",
    "I am travelling to {city}. What is the weather like there?",
]


@tool
def get_weather(city: Annotated[str, "the city name"]) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 21 degrees in {city}."


@dataclass
class Outcome:
    ok: bool
    detail: str
    names: bool = True  # the resume's name copied exactly (resume parser)
    emails: bool = True  # the resume's email copied exactly (resume parser)


def agent_case(model: Model, index: int) -> Outcome:
    city = CITIES[index % len(CITIES)]
    question = QUESTIONS[index % len(QUESTIONS)].format(city=city)
    agent = Agent(model, [get_weather], instructions="Answer using the tools.")  # the docs' quick start
    result = agent.ask(question)
    called = [step["arguments"].get("city") for step in result.steps if step["tool"] == "get_weather"]
    right_call = any(str(c).strip().lower() == city.lower() for c in called)
    answer = (result.answer or "").lower()
    reported = "sunny" in answer or "21" in answer
    return Outcome(right_call and reported, f"{question!r}: called {called}, answered {result.answer!r}")


# --- 2. the tutorial's resume parser -----------------------------------------------------------------
PEOPLE = [
    ("John Smith", "john.smith@email.com"), ("Maria Garcia", "maria.garcia@mail.com"),
    ("Wei Chen", "wei.chen@example.org"), ("Aisha Okafor", "aisha.okafor@gmail.com"),
    ("Liam O'Brien", "liam.obrien@outlook.com"), ("Sofia Rossi", "sofia.rossi@libero.it"),
    ("Kenji Tanaka", "k.tanaka@company.jp"), ("Emma Johnson", "emma.j@provider.net"),
    ("Noah Williams", "noah.williams@work.com"), ("Olivia Brown", "olivia.brown@mail.org"),
    ("Lucas Martin", "lucas.martin@free.fr"), ("Fatima Khan", "fatima.khan@inbox.com"),
    ("Carlos Silva", "carlos.silva@uol.com.br"), ("Anna Kowalska", "anna.kowalska@wp.pl"),
    ("David Cohen", "david.cohen@post.co.il"), ("Priya Patel", "priya.patel@yahoo.com"),
    ("Jonas Berg", "jonas.berg@telia.se"), ("Chloe Dubois", "chloe.dubois@orange.fr"),
    ("Mateo Fernandez", "mateo.f@correo.es"), ("Grace Kim", "grace.kim@naver.com"),
]  # fmt: skip
JOBS = [
    ("Sales Manager", "TechCorp"), ("Marketing Assistant", "Brandify"), ("Data Analyst", "Numbers Inc"),
    ("Software Engineer", "CodeWorks"), ("Project Coordinator", "BuildIt"), ("Account Executive", "SellMore"),
    ("Team Lead", "Acme Corp"), ("Office Manager", "Globex"),
]  # fmt: skip
SKILL_LINES = [
    "Led a team of 8 people and managed the sales pipeline in Salesforce CRM.",
    "Ran weekly project plans and presented results at company meetings.",
    "Built reports in Excel and Microsoft Office; analysed data with Python.",
    "Managed projects end to end and trained new staff.",
]


def resume_text(index: int) -> str:
    name, email = PEOPLE[index % len(PEOPLE)]
    jobs = [JOBS[(index + k) % len(JOBS)] for k in range(1 + index % 2)]
    lines = [name, f"Email: {email}", "", "EXPERIENCE"]
    for k, (title, company) in enumerate(jobs):
        lines += [f"{title}, {company} ({2015 + 3 * k}-{2018 + 3 * k})", SKILL_LINES[(index + k) % 4]]
    return "\n".join(lines)


def resume_prompt(text: str) -> str:
    skills = "\n".join(f"{i}: {skill}" for i, skill in enumerate(TARGET_SKILLS))
    return (
        "Analyze the resume below. Output ONLY the requested information in YAML format.\n\n"
        f"Resume:\n```\n{text}\n```\n\nTarget skills (use these indexes):\n```\n{skills}\n```\n\n"
        "Extract `name` (string), `email` (string), `experience` (list of objects with `title` and "
        "`company`) and `skill_indexes` (list of integers from the target skills list)."
    )


def resume_case(model: Model, index: int) -> Outcome:
    name, email = PEOPLE[index % len(PEOPLE)]
    try:
        data = generate_structured(
            model, resume_prompt(resume_text(index)), schema=RESUME_SCHEMA, format="yaml", max_tokens=300
        )
    except StructuredOutputError as exc:
        return Outcome(False, f"{name}: {exc}", names=False, emails=False)
    return Outcome(True, f"{name}: {data}", names=data["name"] == name, emails=data["email"] == email)


# --- running -----------------------------------------------------------------------------------------
def measure(label: str, case: Callable[[Model, int], Outcome], model: Model, count: int) -> list[str]:
    started = time.perf_counter()
    outcomes = []
    for index in range(count):
        outcome = case(model, index)
        outcomes.append(outcome)
        print(
            f"  [{label} {index + 1}/{count}] {'ok ' if outcome.ok else 'BAD'} {outcome.detail}", flush=True
        )
    seconds = time.perf_counter() - started
    ok = sum(o.ok for o in outcomes)
    names = sum(o.ok and o.names for o in outcomes)
    emails = sum(o.ok and o.emails for o in outcomes)
    both = sum(o.ok and o.names and o.emails for o in outcomes)
    exact = f"{names}/{count}, {emails}/{count}, {both}/{count}" if label.startswith("YAML") else "n/a"
    return [label, f"{ok}/{count} ({100 * ok / count:.0f} %)", exact, f"{seconds / count:.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default=None, help="model spec (default: $RILLFLOW_LLM, else local)")
    parser.add_argument("--only", choices=["agent", "resume"], default=None)
    parser.add_argument("--limit", type=int, default=24, help="inputs per pattern (default 24)")
    args = parser.parse_args()
    model = default_model(args.llm)
    rows = []
    if args.only in (None, "agent"):
        rows.append(measure("agent quick start", agent_case, model, args.limit))
    if args.only in (None, "resume"):
        rows.append(measure("YAML resume parser", resume_case, model, min(args.limit, len(PEOPLE))))
    header = [
        "pattern",
        "success (target: agent ≥ 90 %, resume ≥ 95 %)",
        "exact names, emails, both",
        "s/input",
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\nmodel: {model.name}; exact: the resume's name / email / both copied exactly into valid data")
    for row in [header, ["-" * w for w in widths], *rows]:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
