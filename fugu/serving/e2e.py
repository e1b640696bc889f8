"""The serving path end to end: boot `fugu serve`, send real requests with the openai client, grade, look for leaks.

Everything runs over real sockets on loopback:

    openai client → `fugu serve` (subprocess) → LiteLLMPool (litellm) → local worker server → pool

The local worker server (:mod:`fugu.serving.worker_server`, in this process) answers from
recorded real model outputs (``ReplayPool`` over the fetched routing data). Given a pool spec
(local HF models or API models), `fugu serve` calls those real workers directly on the same
recorded questions instead. Whether the pool stays hidden (``worker_names_leaked``: worker
names found in any body, header or stream chunk the client received) is measured either way.
Every server is shut down on success and on failure.

:func:`live_request`: one question answered LIVE by a real local model through `fugu serve`
over a ``local_hf`` pool (greedy, bounded ``max_new_tokens``).

``section`` is the stage's settings as a dict (``served_model``, ``api_key``, ``worker_timeout_s``,
``request_timeout_s``, ``max_attempts``, ``startup_timeout_s``, ``n_questions``, ``category``,
``router``, ``priority``, ``pool``): its values go to `fugu serve`'s command line as given.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import openai
import yaml

from fugu.data.graders import GraderError, grade_numeric
from fugu.data.matrix import load_split
from fugu.data.table import TABLE_FILE, read_outcome_table
from fugu.pools.base import Pool
from fugu.pools.replay import ReplayPool
from fugu.serving.worker_server import create_worker_app, free_port, running, spawned

FOLLOW_UP = "Please check your work and state the final answer again."
VIA_WORKER_SERVER = "LiteLLMPool -> local worker server (HTTP)"


@dataclass(frozen=True)
class Question:
    question_id: str
    text: str
    gold: str | None  # None: asked for the leak check only, not graded


@dataclass(frozen=True)
class WorkerSource:
    """Who answers, and the questions (with gold answers) to ask."""
    questions: list[Question]
    description: str
    pool: Pool | None = None            # an offline pool, served by the local worker server; or
    spec: dict[str, Any] | None = None  # real workers (local HF models, APIs), handed to fugu serve
    ungraded: str | None = None         # why the answers are not graded (a pool without numeric references)

    @property
    def worker_names(self) -> list[str]:
        return [w.name for w in self.pool.workers] if self.pool is not None else [w["name"] for w in self.spec["workers"]]


@dataclass(frozen=True)
class RouterLaunch:
    """How `fugu serve` builds its router: the flags that select and configure it."""
    cli_args: list[str]


def build_router(section: dict[str, Any], workers: list[str], trained_spec: Path, project: Path) -> RouterLaunch:
    """The router the server runs over ``workers`` (the pool's order).

    ``trinity``: the vector ``trained_spec`` describes, on the fetched backbone — the real
    coordinator, re-scoring the whole conversation at every turn (per-step). ``priority``: a
    fixed-order stand-in, kept for debugging the serving path without a trained vector. TRINITY
    serves in fp32 here whatever the CPU: the stage's metrics are the audit's, and must be the same
    on every machine (bf16 serving is ``fugu serve``'s choice on CPUs with native bf16).
    """
    if section["router"] == "trinity":
        return RouterLaunch(["--router", "trinity", "--spec", str(trained_spec), "--project", str(project),
                             "--router-dtype", "fp32"])
    if section["router"] == "priority":
        order = list(section.get("priority") or workers)
        return RouterLaunch(["--router", "priority", "--priority", ",".join(order)])
    raise ValueError(f"serve_e2e.router must be 'trinity' or 'priority', got {section['router']!r}")


class NotApplicable(Exception):
    """serve_e2e cannot serve this pool at all; the message is the *not run* reason the metrics record."""


def worker_source(section: dict[str, Any], routing_dir: Path) -> WorkerSource:
    """The workers and questions of this run.

    Questions: held-out (test split) recorded real questions of ``section["category"]`` (GSM8K:
    the claim's benchmark) in ``routing_dir``, graded against their gold answers. A pool with too
    few of them (a user's own data: no references, another benchmark) is still served, on its first
    test questions, so the leak check runs; the source then says why nothing is graded
    (``ungraded``). Workers: ``section["pool"]`` (real models) when given, else the recorded
    outputs behind the local worker server; recorded outcomes without any response text leave
    those nothing to say (:class:`NotApplicable`). No recorded outcomes at all stops, naming
    what to run.
    """
    n_questions = int(section["n_questions"])
    table_file = routing_dir / TABLE_FILE
    if not (table_file.exists() and len(read_outcome_table(table_file))):
        raise FileNotFoundError(
            f"serve_e2e needs recorded real outcomes ({table_file} is missing or empty): put the routing data "
            f"in data/routing (listed in its README) and run `dvc repro fetch`")
    replay = ReplayPool.from_dir(routing_dir)
    test = load_split(routing_dir, "test")
    references = replay.table.drop_duplicates("question_id").set_index("question_id")["reference"]
    category = section.get("category")
    questions = [Question(q, text, str(references[q]))
                 for q, text, c in zip(test.question_ids, test.questions, test.categories)
                 if _is_number(references.get(q)) and category in (None, c)][:n_questions]
    ungraded = None
    if len(questions) < n_questions:
        ungraded = (f"the test split has {len(questions)} {category or ''} questions with a numeric reference; "
                    f"serve_e2e.n_questions asks for {n_questions}: the served answers cannot be graded "
                    "(the requests were still sent, for the leak check)")
        questions = [Question(q, text, None) for q, text in zip(test.question_ids, test.questions)][:n_questions]
        if not questions:
            raise NotApplicable(f"{routing_dir} holds no test questions to serve")
    if section.get("pool"):
        return WorkerSource(questions, description=f"{section['pool']['kind']} pool from params (real workers)",
                            spec=_checked_spec(section["pool"]), ungraded=ungraded)
    if replay.table["response"].isna().all():
        raise NotApplicable("the recorded outcomes hold no response text, so the replay workers have nothing to "
                            "answer with; serve a live pool instead (serve_e2e.full.pool: local_hf or litellm)")
    return WorkerSource(questions, description=f"{VIA_WORKER_SERVER} -> ReplayPool (recorded real model outputs)",
                        pool=replay, ungraded=ungraded)


def _checked_spec(spec: dict[str, Any]) -> dict[str, Any]:
    if not spec.get("workers"):
        raise ValueError("serve_e2e.pool lists no workers: name local model directories (kind: local_hf) "
                         "or API models (kind: litellm) in params.yaml")
    return dict(spec)


def local_worker_spec(worker_url: str, workers: list[str], timeout_s: float) -> dict[str, Any]:
    """The pool spec that reaches the local worker server through litellm, one model per worker."""
    return {"kind": "litellm", "timeout_s": timeout_s,
            "workers": [{"name": w, "model": f"openai/{w}", "api_base": f"{worker_url}/v1", "api_key": "local"}
                        for w in workers]}


@contextlib.contextmanager
def fugu_server(spec: dict[str, Any], launch: RouterLaunch, section: dict[str, Any], workdir: Path,
                project: Path) -> Iterator[str]:
    """`fugu serve` over the pool ``spec`` as a subprocess (in ``project``) on a free loopback port;
    yields its base URL; always stopped."""
    spec_file = workdir / "workers.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    port = free_port()
    command = [sys.executable, "-m", "fugu.cli", "serve", "--workers", str(spec_file), "--port", str(port),
               "--model", section["served_model"], "--worker-timeout", str(section["worker_timeout_s"]),
               "--request-timeout", str(section["request_timeout_s"]), "--max-attempts", str(section["max_attempts"]),
               *launch.cli_args]
    env = {"FUGU_API_KEY": section["api_key"]}  # not on the command line, where ps shows it
    url = f"http://127.0.0.1:{port}"
    with spawned(command, f"{url}/health", workdir / "fugu-serve.log", env=env, cwd=project,
                 startup_timeout_s=float(section["startup_timeout_s"])):
        yield url


def exercise(url: str, section: dict[str, Any], questions: list[Question]) -> dict[str, Any]:
    """Per question: one plain, one streaming and one multi-turn request, graded against gold.

    Returns the answers and every surface the client saw (bodies, headers, chunks), for the
    leak check.
    """
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=section["api_key"], max_retries=0,
                           timeout=float(section["request_timeout_s"]) + 5)
    model = section["served_model"]
    surfaces: list[str] = []
    answers = []
    stream_chunks = 0
    for q in questions:
        user = {"role": "user", "content": q.text}
        raw = client.chat.completions.with_raw_response.create(model=model, messages=[user])
        plain = raw.parse().choices[0].message.content or ""
        surfaces += [raw.http_response.text, _headers(raw.headers)]

        raw = client.chat.completions.with_raw_response.create(model=model, messages=[user], stream=True)
        chunks = list(raw.parse())
        stream_chunks += len(chunks)
        streamed = "".join((c.choices[0].delta.content or "") for c in chunks if c.choices)
        surfaces += [_headers(raw.headers), *(c.model_dump_json() for c in chunks)]

        # Per-step routing: the router scores the conversation again, with the first reply in it.
        turns = [user, {"role": "assistant", "content": plain}, {"role": "user", "content": FOLLOW_UP}]
        raw = client.chat.completions.with_raw_response.create(model=model, messages=turns)
        follow_up = raw.parse().choices[0].message.content or ""
        surfaces += [raw.http_response.text, _headers(raw.headers)]

        if q.gold is not None:
            for kind, text in (("plain", plain), ("stream", streamed), ("multi_turn", follow_up)):
                answers.append({"question_id": q.question_id, "kind": kind, "gold": q.gold,
                                "correct": grade_numeric(text, q.gold) == 1.0})

    models = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {section['api_key']}"}, timeout=10)
    health = httpx.get(f"{url}/health", headers={"Authorization": f"Bearer {section['api_key']}"}, timeout=10)
    unauthorized = httpx.post(f"{url}/v1/chat/completions", json={"model": model, "messages": [user]}, timeout=10)
    surfaces += [models.text, _headers(models.headers), health.text, _headers(health.headers), unauthorized.text]
    return {"answers": answers, "surfaces": surfaces, "stream_chunks": stream_chunks,
            "router": health.json()["router"], "unauthorized_status": unauthorized.status_code,
            "served_models": [m["id"] for m in models.json()["data"]]}


def serve_and_ask(source: WorkerSource, launch: RouterLaunch, section: dict[str, Any], project: Path) -> dict[str, Any]:
    """Worker server (for an offline pool) up, `fugu serve` up, the requests of ``exercise``; all down after."""
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as servers:
        spec = source.spec
        if spec is None:
            worker_url = servers.enter_context(running(create_worker_app(source.pool)))
            spec = local_worker_spec(worker_url, source.worker_names, float(section["worker_timeout_s"]))
        url = servers.enter_context(fugu_server(spec, launch, section, Path(tmp), project))
        return exercise(url, section, source.questions)


def served_metrics(source: WorkerSource, result: dict[str, Any]) -> dict[str, Any]:
    """The metrics of one ``serve_and_ask``: answer correctness (graded questions only), the leak
    count, what the server said."""
    answers = result["answers"]
    metrics = {
        "router": result["router"],
        "path": f"openai client -> fugu serve (subprocess) -> {source.description}",
        "worker_names_leaked": count_leaks(result["surfaces"], source.worker_names),
        "surfaces_checked": len(result["surfaces"]),
        "served_models": result["served_models"],
        "unauthorized_status": result["unauthorized_status"],
        "stream_chunks": result["stream_chunks"],
    }
    if answers:
        metrics.update(correct_fraction=sum(a["correct"] for a in answers) / len(answers),
                       n_requests_graded=len(answers), answers=answers)
    else:
        metrics["n_requests_sent"] = 3 * len(source.questions)
    return metrics


def not_run_reasons(source: WorkerSource | None, reason: str | None = None) -> dict[str, str]:
    """The metrics serve_e2e could not produce, each with why: grading without references, or all of it."""
    if source is None:
        return {key: str(reason) for key in SERVED_KEYS}
    return {key: source.ungraded for key in GRADED_KEYS} if source.ungraded else {}


# What a served run writes: the leak check and the server's replies, and the grading of answers.
GRADED_KEYS = ("correct_fraction", "n_requests_graded", "answers")
SERVED_KEYS = ("router", "path", "worker_names_leaked", "surfaces_checked", "served_models", "unauthorized_status",
               "stream_chunks", *GRADED_KEYS)


def live_request(live: dict[str, Any], section: dict[str, Any], project: Path) -> tuple[dict[str, Any], dict[str, float]]:
    """One question answered by a real local model through `fugu serve` (a ``local_hf`` pool, priority router):
    (metrics, timings). Worker paths are relative to ``project``."""
    workers = [dict(w, path=str(project / w["path"])) for w in live["workers"]]
    spec = {"kind": "local_hf", "max_new_tokens": int(live["max_new_tokens"]), "workers": workers}
    launch = RouterLaunch(["--router", "priority", "--priority", ",".join(w["name"] for w in workers)])
    # The one local worker gets the whole request's budget: generating on a CPU shared with other
    # work can take far longer than the recorded pool's per-attempt deadline (a 502 there is not a finding).
    budget = float(live["request_timeout_s"])
    client_section = {**section, "request_timeout_s": budget, "worker_timeout_s": budget}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, fugu_server(spec, launch, client_section, Path(tmp), project) as url:
        booted = time.perf_counter()
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=section["api_key"], max_retries=0,
                               timeout=float(live["request_timeout_s"]) + 5)
        asked = time.perf_counter()
        raw = client.chat.completions.with_raw_response.create(
            model=section["served_model"], messages=[{"role": "user", "content": live["question"]}])
        reply = raw.parse()
        answered = time.perf_counter()
    text = reply.choices[0].message.content or ""
    try:
        correct = grade_numeric(text, str(live["gold"])) == 1.0
    except GraderError:
        correct = False
    return {
        "live": True, "answered_by": "a real local model, generating now (not a recording)",
        "path": "openai client -> fugu serve (subprocess) -> LocalHFPool (greedy)",
        "models": [w["name"] for w in workers], "question": live["question"], "gold": str(live["gold"]),
        "answer": text, "correct": correct, "max_new_tokens": int(live["max_new_tokens"]),
        "completion_tokens": getattr(reply.usage, "completion_tokens", None),
        "worker_names_leaked": count_leaks([raw.http_response.text, _headers(raw.headers)], [w["name"] for w in workers]),
    }, {"startup_s": booted - started, "latency_s": answered - asked}


def count_leaks(surfaces: list[str], worker_names: list[str]) -> int:
    """Occurrences of any worker name in anything the client received."""
    return sum(surface.count(name) for surface in surfaces for name in worker_names)


def _headers(headers: Any) -> str:
    return "\n".join(f"{k}: {v}" for k, v in headers.items())


def _is_number(value: object) -> bool:
    try:
        grade_numeric(str(value), str(value))
    except GraderError:
        return False
    return True
