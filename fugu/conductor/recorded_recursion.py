"""Recursion on the recorded pool (claim recursion-real): round 1 reads round 0's workflow and the
answer it got, and writes a revised workflow.

Round 0 is the trained Conductor's greedy plan (:func:`fugu.conductor.recorded_task.greedy_plans`);
its answer is the recorded response of its last worker. Round 1 continues that conversation
(:func:`fugu.conductor.prompts.revision_messages`): the policy's own workflow as its turn, then the
recorded response text and a request to revise or repeat. Round 1's answer is again the recorded
answer of its last worker.

What a recorded pool cannot show: a revised step cannot produce a *new* answer, only choose
among the answers the pool's models recorded for that question (no worker reads another's output
or the revised instruction). So round 1 can fix round 0 only by moving the last step to a worker
whose recorded answer is right; what the paper's recursion adds by having workers redo their work
with feedback is out of reach here.

A recorded response longer than ``response_tokens`` (the Conductor's context budget for it) is cut
*keeping its end*, where a final answer usually stands; cut responses are counted, and so are
answers whose response the source did not record (the policy is told there is none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from fugu.conductor.prompts import revision_messages
from fugu.conductor.recorded_task import Plan, greedy_read
from fugu.data.matrix import Outcomes

NO_WORKFLOW = "(no workflow: the reply did not parse, so nothing was answered)"
NO_RESPONSE = "(the source recorded no response text for this answer)"


def response_tail(tokenizer, text: str, max_tokens: int) -> tuple[str, bool]:
    """(``text`` cut to its last ``max_tokens`` tokens, whether it was cut)."""
    if max_tokens < 1:
        raise ValueError(f"response_tokens must be at least 1, got {max_tokens}")
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if len(ids) <= max_tokens:
        return text, False
    return "..." + tokenizer.decode(ids[-max_tokens:], skip_special_tokens=True), True


@dataclass(frozen=True)
class ShownResponses:
    """What round 1 was shown of round 0's answers: how many recorded responses were cut to fit, and
    how many were missing (the source recorded none; the policy is told so)."""
    cut: int
    missing: int


def revision_prompts(tokenizer, outcomes: Outcomes, responses: np.ndarray, round0: Sequence[Plan],
                     question_chars: int, response_tokens: int) -> tuple[list[str], ShownResponses]:
    """(round 1's prompt for every question through the policy's chat template, what it was shown).

    ``responses`` [n_questions, n_workers]: the recorded response texts, None where there is none
    (``fugu.data.matrix.load_responses``).
    """
    if len(round0) != len(outcomes):
        raise ValueError(f"{len(round0)} round-0 plans for {len(outcomes)} questions")
    n = len(outcomes.workers)
    prompts, cut, missing = [], 0, 0
    for row, (question, plan) in enumerate(zip(outcomes.questions, round0)):
        if plan.workflow is None:
            previous, answer = NO_WORKFLOW, "(nothing)"
        elif responses[row, plan.worker] is None:
            previous, answer = plan.workflow.to_json(), NO_RESPONSE
            missing += 1
        else:
            previous = plan.workflow.to_json()
            answer, was_cut = response_tail(tokenizer, str(responses[row, plan.worker]), response_tokens)
            cut += was_cut
        messages = revision_messages(question[:question_chars], n, previous, answer)
        prompts.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    return prompts, ShownResponses(cut, missing)


def revised_plans(model, tokenizer, outcomes: Outcomes, responses: np.ndarray, round0: Sequence[Plan],
                  question_chars: int, response_tokens: int, max_steps: int, max_new_tokens: int, batch_size: int,
                  desc: str = "revised plans") -> tuple[list[Plan], ShownResponses]:
    """(round 1's greedy plan for every question, with a progress bar; what it was shown)."""
    prompts, shown = revision_prompts(tokenizer, outcomes, responses, round0, question_chars, response_tokens)
    return greedy_read(model, tokenizer, prompts, len(outcomes.workers), max_steps, max_new_tokens, batch_size,
                       desc), shown
