"""Self-test fixtures: conversations with the worker and role a coordinator should pick.

The reference fixture (``qwen_router_prompt_eval_cases.json``, 37 cases, from the public
port nshkrdotcom/trinity_coordinator) is a JSON object whose ``cases`` each hold ``id``,
``messages`` ([{role, content}]), ``expected`` {``agent_id``, ``role_id``} and optional
``tags`` and ``notes``. :func:`load_fixture` reads that format; :func:`save_fixture`
writes it, so the tiny fixture is read by the same code as the reference one.

The tiny fixture (:func:`tiny_fixture`) is synthetic, with a planted rule: the question's
topic decides the worker, the state of the exchange decides the role (no reply yet →
solver; a reply that is stuck → thinker; a reply with a final answer → verifier). A
randomly initialised backbone knows no language, so this only checks that a vector loaded
through the public loader routes as it was planted to: mechanics, not routing quality.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from fugu.types import Message

SPLIT_TAGS = ("train", "held_out")


class FixtureError(ValueError):
    """A fixture file that is not in the reference format; the message names the file."""


@dataclass(frozen=True)
class FixtureCase:
    id: str
    messages: list[Message]
    agent_id: int
    role_id: int
    tags: tuple[str, ...] = ()
    notes: str = ""

    def to_json(self) -> dict:
        return {"id": self.id, "tags": list(self.tags), "notes": self.notes,
                "expected": {"agent_id": self.agent_id, "role_id": self.role_id}, "messages": self.messages}


@dataclass(frozen=True)
class Fixture:
    cases: list[FixtureCase]
    workers: list[str] = field(default_factory=list)  # names of agent ids, where the file records them
    roles: list[str] = field(default_factory=list)

    def split(self, tag: str) -> list[FixtureCase]:
        return [c for c in self.cases if tag in c.tags]


def load_fixture(path: str | Path) -> Fixture:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("cases"), list) or not doc["cases"]:
        raise FixtureError(f"{path}: expected an object with a non-empty 'cases' list")
    cases = []
    for i, raw in enumerate(doc["cases"]):
        try:
            messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in raw["messages"]]
            cases.append(FixtureCase(
                id=str(raw["id"]), messages=messages,
                agent_id=int(raw["expected"]["agent_id"]), role_id=int(raw["expected"]["role_id"]),
                tags=tuple(raw.get("tags") or ()), notes=str(raw.get("notes") or ""),
            ))
        except (KeyError, TypeError, ValueError) as exc:
            raise FixtureError(f"{path}: case {i} is malformed ({exc!r}); needs id, messages, expected.agent_id/role_id") from exc
        if not messages:
            raise FixtureError(f"{path}: case {cases[-1].id!r} has no messages")
    return Fixture(cases, list(doc.get("workers") or []), list(doc.get("roles") or []))


def save_fixture(path: str | Path, fixture: Fixture, description: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    coverage = {
        "agents": {str(a): sum(c.agent_id == a for c in fixture.cases) for a in sorted({c.agent_id for c in fixture.cases})},
        "roles": {str(r): sum(c.role_id == r for c in fixture.cases) for r in sorted({c.role_id for c in fixture.cases})},
    }
    doc = {"description": description, "workers": fixture.workers, "roles": fixture.roles,
           "cases": [c.to_json() for c in fixture.cases], "coverage": coverage}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


# Short questions in a vocabulary of their own per topic, and replies that end the same way
# per exchange state: a random backbone's penultimate state then carries both cues.
_TOPICS = {
    "arithmetic": ["Add {a} and {b}", "Multiply {a} by {b}", "Subtract {b} from {a}", "Is {a} prime",
                   "Divide {a} by {b}", "Sum {a} plus {b}"],
    "coding": ["Fix my python loop", "Debug this python function", "Write a SQL query", "Refactor my python class",
               "Why does my python code crash", "Write a unit test in python"],
    "writing": ["Write a poem about the {w}", "Draft an email about the {w}", "Write a story about the {w}",
                "Summarise an essay on the {w}", "Write a title for a poem on the {w}", "Rewrite my essay on the {w}"],
    "science": ["Why do planets orbit stars", "Explain photosynthesis in cells", "How do atoms bond",
                "Why is the sky blue", "What is gravity in physics", "How do cells divide"],
}
_WORDS = ["sea", "moon", "forest", "river", "city", "garden", "mountain", "winter"]
_STUCK = ["Not sure how to start, I am stuck.", "I tried this but I am stuck.", "Unclear to me, I am stuck."]
_FINAL = ["The answer is {a}, that is final.", "I checked it, that is final.", "Result: {a}, that is final."]


def tiny_fixture(workers: Sequence[str], roles: Sequence[str], *, n_per_cell: int, held_out_fraction: float,
                 seed: int) -> Fixture:
    """Synthetic cases: topic → worker (one topic per worker), exchange state → role (3 roles).

    ``n_per_cell`` cases per (topic, role); in each cell a seeded ``held_out_fraction`` of
    the cases is tagged ``held_out``, the rest ``train``.
    """
    topics = list(_TOPICS)
    if len(workers) > len(topics) or len(roles) != 3:
        raise ValueError(f"the tiny fixture has {len(topics)} topics and 3 exchange states; "
                         f"got {len(workers)} workers and {len(roles)} roles")
    rng = np.random.default_rng(seed)
    cases = []
    for agent_id in range(len(workers)):
        templates = _TOPICS[topics[agent_id]]
        for role_id in range(3):
            n_held = max(1, round(n_per_cell * held_out_fraction))
            held = set(rng.choice(n_per_cell, size=n_held, replace=False).tolist())
            for k in range(n_per_cell):
                a, b = (int(x) for x in rng.integers(2, 500, size=2))
                fill = {"a": a, "b": b, "n": int(rng.integers(3, 50)), "w": _WORDS[rng.integers(len(_WORDS))]}
                question = templates[rng.integers(len(templates))].format(**fill) + "?"
                messages: list[Message] = [{"role": "user", "content": question}]
                if role_id == 1:
                    messages.append({"role": "assistant", "content": _STUCK[rng.integers(len(_STUCK))]})
                elif role_id == 2:
                    messages.append({"role": "assistant", "content": _FINAL[rng.integers(len(_FINAL))].format(a=a)})
                split = SPLIT_TAGS[1] if k in held else SPLIT_TAGS[0]
                cases.append(FixtureCase(
                    id=f"tiny-{topics[agent_id]}-{roles[role_id]}-{k:02d}", messages=messages,
                    agent_id=agent_id, role_id=role_id, tags=(split, topics[agent_id], roles[role_id]),
                ))
    return Fixture(cases, list(workers), list(roles))

