"""Ultra mode: the Conductor's workflow answers over real sockets; a bad plan falls back to routing.

The planners here are scripted stand-ins for a trained Conductor (``ScriptedPlanner``): they
emit a fixed text, which goes through the real parser and the real executor.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import openai
import pytest

from fugu.cli import main as fugu_main
from fugu.conductor.parser import ParseError, parse_workflow
from fugu.models.backbone import build_tiny_backbone
from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import running
from tests.serve_fixtures import ScriptedPool

TWO_STEPS = '{"steps": [{"worker": 0, "instruction": "draft", "access": []}, ' \
            '{"worker": 1, "instruction": "finalise", "access": [0]}]}'


@dataclass(frozen=True)
class Plan:
    text: str
    workflow: object
    error: str | None


class ScriptedPlanner:
    """A stand-in Conductor that always writes ``text`` (parsed for real)."""

    def __init__(self, text: str):
        self.text = text

    def plan(self, question: str, n_workers: int, max_steps: int, stop=None) -> Plan:
        try:
            return Plan(self.text, parse_workflow(self.text, n_workers, max_steps), None)
        except ParseError as exc:
            return Plan(self.text, None, str(exc))


def ask(app, question: str = "What is 2 + 3?") -> str:
    with running(app) as base:
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused")
        reply = client.chat.completions.create(model="fugu-ultra", messages=[{"role": "user", "content": question}])
        served = [m.id for m in client.models.list().data]
    assert served == ["fugu-mini", "fugu-ultra"]  # the client picks the mode by model name
    return reply.choices[0].message.content


def test_the_workflow_runs_and_its_last_step_answers():
    pool = ScriptedPool({"a": "draft from a", "b": "final from b", "c": "routed answer from c"})
    app = create_app(PriorityRouter(["a", "b", "c"], ["c", "a", "b"]), pool, ServeConfig(),
                     conductor=ScriptedPlanner(TWO_STEPS))
    assert ask(app) == "final from b"
    assert pool.calls == ["a", "b"]
    assert "draft from a" in json.dumps(pool.conversations[1])  # step 1 read step 0's output


def test_fugu_mini_routes_even_when_the_conductor_is_loaded():
    pool = ScriptedPool({"a": "draft from a", "b": "final from b", "c": "routed answer from c"})
    app = create_app(PriorityRouter(["a", "b", "c"], ["c", "a", "b"]), pool, ServeConfig(),
                     conductor=ScriptedPlanner(TWO_STEPS))
    with running(app) as base:
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused")
        reply = client.chat.completions.create(model="fugu-mini", messages=[{"role": "user", "content": "q"}])
    assert reply.choices[0].message.content == "routed answer from c"
    assert pool.calls == ["c"]


def test_a_plan_that_does_not_parse_falls_back_to_the_router():
    pool = ScriptedPool({"a": "draft", "b": "final", "c": "routed answer from c"})
    app = create_app(PriorityRouter(["a", "b", "c"], ["c", "a", "b"]), pool, ServeConfig(),
                     conductor=ScriptedPlanner("I would ask worker seven, twice."))
    assert ask(app) == "routed answer from c"
    assert pool.calls == ["c"]


def test_a_failing_workflow_falls_back_to_the_router():
    pool = ScriptedPool({"a": "error", "b": "error", "c": "routed answer from c"})
    app = create_app(PriorityRouter(["a", "b", "c"], ["c", "a", "b"]), pool,
                     ServeConfig(max_attempts=1), conductor=ScriptedPlanner(TWO_STEPS))
    assert ask(app) == "routed answer from c"


@pytest.fixture(scope="module")
def untrained_policy(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    return build_tiny_backbone(tmp_path_factory.mktemp("policy"), seed=0, hidden_size=32, head_dim=16,
                               intermediate_size=64)


def test_fugu_route_ultra_shows_a_workflow_or_says_why_not(untrained_policy, capsys):
    code = fugu_main(["route", "--ultra", "What is 2 + 3?", "--policy", str(untrained_policy),
                      "--worker-names", "a,b,c", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["workers"] == ["a", "b", "c"]
    assert (code == 0 and shown["workflow"]["steps"]) or (code == 1 and shown["error"])


def test_fugu_route_ultra_without_a_policy_names_what_to_train(tmp_path, capsys):
    code = fugu_main(["route", "--ultra", "q", "--policy", str(tmp_path / "none"), "--worker-names", "a"])
    assert code == 1
    assert "dvc repro train_conductor" in capsys.readouterr().err


def _served(app, question: str = "What is 2 + 3?"):
    with running(app) as base:
        response = httpx.post(f"{base}/v1/chat/completions",
                              json={"model": ServeConfig().ultra_model, "messages": [{"role": "user", "content": question}]})
        counts = httpx.get(f"{base}/metrics").json()
    return response, counts


@pytest.mark.parametrize("plan, path", [(TWO_STEPS, "workflow"), ("not a workflow", "routing_fallback")])
def test_which_path_answered_is_counted_and_shown_only_with_the_debug_flag(plan, path):
    pool = lambda: ScriptedPool({"a": "draft from a", "b": "final from b", "c": "routed answer from c"})  # noqa: E731
    router = PriorityRouter(["a", "b", "c"], ["c", "a", "b"])
    response, counts = _served(create_app(router, pool(), ServeConfig(), conductor=ScriptedPlanner(plan)))
    assert "x-fugu-path" not in response.headers
    answered = {k: v for k, v in counts.items() if k.startswith("answered_by_")}
    assert answered == {f"answered_by_{path}": 1}
    response, _ = _served(create_app(router, pool(), ServeConfig(expose_worker=True), conductor=ScriptedPlanner(plan)))
    assert response.headers["x-fugu-path"] == path
