"""The seed tutorial's resume parser (PocketFlow's structured-output cookbook) on rillflow.

One node asks the model for the resume's name, email, jobs and matching skills as YAML, validated against
a JSON schema. On the embedded SmolLM2 model the schema constrains generation (the reply is JSON, which is
also YAML), the model is shown an example built from the schema, and decoding is greedy, so the answer
always validates; invalid answers would be sent back with every error.

    [RILLFLOW_LLM=openai:<model>] python examples/resume_parser.py [--dry-run]
"""

from __future__ import annotations

import sys
from typing import Any

from rillflow import Flow, Node
from rillflow.llm import Model, ScriptedModel, default_model, generate_structured

RESUME = """John Smith
Email: john.smith@email.com

EXPERIENCE
Sales Manager, TechCorp (2015-2018)
Led a team of 8 people and managed the sales pipeline in Salesforce CRM.
Marketing Assistant, Brandify (2012-2015)
Ran weekly project plans and presented results at company meetings."""
TARGET_SKILLS = [
    "Team leadership & management", "CRM software", "Project management", "Public speaking",
    "Microsoft Office", "Python", "Data Analysis",
]  # fmt: skip
RESUME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string"},
        "experience": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "company": {"type": "string"}},
                "required": ["title", "company"],
            },
        },
        "skill_indexes": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["name", "email", "experience", "skill_indexes"],
}


class ParseResume(Node):
    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def prep(self, shared: dict[str, Any]) -> tuple[str, list[str]]:
        return shared["resume_text"], shared["target_skills"]

    def exec(self, prep_res: tuple[str, list[str]]) -> Any:
        text, skills = prep_res
        listed = "\n".join(f"{i}: {skill}" for i, skill in enumerate(skills))
        prompt = (
            "Analyze the resume below. Output ONLY the requested information in YAML format.\n\n"
            f"Resume:\n```\n{text}\n```\n\nTarget skills (use these indexes):\n```\n{listed}\n```\n\n"
            "Extract `name` (string), `email` (string), `experience` (list of objects with `title` and "
            "`company`) and `skill_indexes` (list of integers from the target skills list)."
        )
        return generate_structured(self.model, prompt, schema=RESUME_SCHEMA, format="yaml", max_tokens=300)

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        shared["structured_data"] = exec_res


def scripted_model() -> ScriptedModel:
    """Plays the model's part: a first answer with a wrong type, then a valid one."""
    return ScriptedModel(
        [
            "```yaml\nname: John Smith\nemail: john.smith@email.com\n"
            "experience: none\nskill_indexes: [0]\n```",
            "```yaml\nname: John Smith\nemail: john.smith@email.com\nexperience:\n"
            "  - title: Sales Manager\n    company: TechCorp\nskill_indexes: [0, 1]\n```",
        ]
    )


def main(model: Model | None = None) -> dict[str, Any]:
    shared: dict[str, Any] = {"resume_text": RESUME, "target_skills": TARGET_SKILLS}
    Flow(ParseResume(model or default_model())).run(shared)
    data = shared["structured_data"]
    print(f"name:   {data['name']}\nemail:  {data['email']}")
    for job in data["experience"]:
        print(f"job:    {job['title']} at {job['company']}")
    for index in data["skill_indexes"]:
        found = TARGET_SKILLS[index] if 0 <= index < len(TARGET_SKILLS) else f"(no skill {index})"
        print(f"skill:  {found}")
    return shared


if __name__ == "__main__":
    main(scripted_model() if "--dry-run" in sys.argv[1:] else None)
