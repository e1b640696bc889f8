"""Ultra mode: a saved Conductor policy plans a workflow, which is shown or run."""


import torch

from fugu.conductor.schema import Step, Workflow
from fugu.conductor.ultra import UltraConductor, describe_workflow
from fugu.pools.simulated import SimulatedPool


def test_describe_workflow_names_workers_and_marks_the_answer():
    workflow = Workflow(steps=[Step(worker=1, instruction="solve"), Step(worker=0, instruction="merge", access=[0])])
    text = describe_workflow(workflow, ["alpha", "beta"])
    assert text.splitlines() == ["step 0  beta  reads nothing  solve", "step 1  alpha  reads [0]  merge  → answer"]


def test_untrained_policy_plan_is_reported_not_raised(tiny_backbone_dir):
    torch.set_num_threads(1)
    pool = SimulatedPool.generate(n_questions=4, n_categories=2, n_workers=2, seed=0)
    conductor = UltraConductor(tiny_backbone_dir, max_new_tokens=8)
    plan = conductor.plan(pool.questions[0].text, 2, 3)
    assert plan.text == conductor.plan(pool.questions[0].text, 2, 3).text  # greedy: same query, same plan
    assert (plan.workflow is None) == (plan.error is not None)


def test_a_served_plan_is_the_plan_training_decodes_for_its_prompt(tiny_backbone_dir):
    from fugu.conductor.prompts import conductor_prompt
    from fugu.models.generation import generate

    conductor = UltraConductor(tiny_backbone_dir, max_new_tokens=8)
    question = "What is 2 + 3?"
    trained = generate(conductor.model, conductor.tokenizer, [conductor_prompt(question, 2)], 8, sample=False)[0]
    assert conductor.plan(question, 2, 3).text == trained


def test_a_plan_asked_to_stop_is_reported_unparsed(tiny_backbone_dir):
    conductor = UltraConductor(tiny_backbone_dir, max_new_tokens=8)
    plan = conductor.plan("What is 2 + 3?", 2, 3, stop=lambda: True)
    assert plan.workflow is None and "stopped" in plan.error
