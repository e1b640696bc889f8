"""The forward pass: penultimate token under either padding, deterministic routing."""

import numpy as np
import pytest
import torch

from fugu.models.backbone import load_backbone
from fugu.trinity.coordinator import Trinity, format_conversation, penultimate_index
from fugu.trinity.vector import VectorError, VectorLayout

WORKERS = ["alpha", "beta", "gamma", "delta"]
ROLES = ["solver", "thinker", "verifier"]
CONVERSATIONS = [
    [{"role": "user", "content": "What is 2 + 2?"}],
    [{"role": "user", "content": "Write a short poem about the sea and the long evening light."}],
    [{"role": "system", "content": "You dispatch."}, {"role": "user", "content": "Debug this python function"},
     {"role": "assistant", "content": "It returns None; add a return statement."}],
    [{"role": "user", "content": "ok"}],
]


@pytest.fixture(scope="module")
def backbone(tiny_backbone_dir):
    torch.set_num_threads(1)
    return load_backbone(tiny_backbone_dir)


def _trinity(backbone, **options):
    return Trinity.build(backbone, WORKERS, ROLES, svf_layers=[0], **options)


def _vector(trinity, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.1, trinity.layout.size).astype(np.float32)


def test_penultimate_index_under_left_and_right_padding():
    left = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    assert penultimate_index(left).tolist() == [3, 3]
    assert penultimate_index(right).tolist() == [1, 3]


def test_a_single_token_conversation_is_refused():
    with pytest.raises(ValueError, match="at least two tokens"):
        penultimate_index(torch.tensor([[0, 0, 1]]))


@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_batched_hidden_state_is_the_unpadded_penultimate_token(backbone, padding_side):
    trinity = _trinity(backbone, padding_side=padding_side)
    batched = trinity.hidden_states(CONVERSATIONS, batch_size=len(CONVERSATIONS))
    model, tokenizer = backbone
    for row, conversation in enumerate(CONVERSATIONS):
        ids = tokenizer(format_conversation(conversation, tokenizer), return_tensors="pt")["input_ids"]
        with torch.no_grad():
            alone = model.model(input_ids=ids).last_hidden_state[0, -2].numpy()
        np.testing.assert_allclose(batched[row], alone, rtol=1e-4, atol=1e-5)


def test_routing_is_deterministic_across_runs_and_batch_sizes(backbone, tiny_backbone_dir):
    first = _trinity(backbone)
    vector = _vector(first)
    batched = first.decide(CONVERSATIONS, vector)
    first.batch_size = 1
    one_at_a_time = first.decide(CONVERSATIONS, vector)
    second_run = _trinity(load_backbone(tiny_backbone_dir)).decide(CONVERSATIONS, vector)
    for a, b, c in zip(batched, one_at_a_time, second_run):
        assert (a.worker, a.role) == (b.worker, b.role) == (c.worker, c.role)
        np.testing.assert_allclose(list(a.agent_scores.values()), list(b.agent_scores.values()), atol=1e-4)
        assert a.agent_scores == c.agent_scores  # same batch size, fresh load: identical


def test_svf_part_of_the_vector_changes_the_hidden_state(backbone):
    trinity = _trinity(backbone)
    vector = _vector(trinity)
    with_svf = trinity.scores(CONVERSATIONS, vector)[0]
    vector[: trinity.layout.n_svf] = 0
    without = trinity.scores(CONVERSATIONS, vector)[0]
    assert not np.allclose(with_svf, without)


def test_unavailable_workers_score_minus_inf_and_are_never_chosen(backbone):
    trinity = _trinity(backbone)
    available = np.array([False, True, False, True])
    for decision in trinity.decide(CONVERSATIONS, _vector(trinity), available=available):
        assert decision.worker in ("beta", "delta")
        assert decision.agent_scores["alpha"] == decision.agent_scores["gamma"] == -np.inf
        assert list(decision.agent_scores) == WORKERS


def test_a_layout_that_does_not_fit_the_backbone_is_refused(backbone):
    with pytest.raises(VectorError, match="does not match"):
        Trinity(backbone, VectorLayout(10, 64, 4, 3), WORKERS, ROLES, svf_layers=[0])


def test_chat_template_format_uses_the_tokenizers_template(backbone):
    _, tokenizer = backbone
    text = format_conversation(CONVERSATIONS[0], tokenizer, "chat_template")
    assert text.startswith("<|im_start|>user\n") and text.endswith("<|im_start|>assistant\n")
    assert format_conversation(CONVERSATIONS[0], tokenizer) == "user: What is 2 + 2?"


def test_rows_come_back_in_input_order_whatever_the_batching(backbone):
    one_at_a_time = _trinity(backbone, batch_size=1).hidden_states(CONVERSATIONS)
    for tolerance in (0.0, 0.25, 1e9):
        batched = _trinity(backbone, batch_size=4, pad_tolerance=tolerance).hidden_states(CONVERSATIONS)
        np.testing.assert_allclose(batched, one_at_a_time, rtol=1e-4, atol=1e-5)


def test_batches_are_length_sorted_and_padding_bounded(backbone):
    trinity = _trinity(backbone, batch_size=3, pad_tolerance=0.25)
    lengths = [50, 10, 11, 12, 49, 100]
    groups = trinity.batches(lengths, 3)
    assert sorted(i for g in groups for i in g) == list(range(6))
    assert groups[0] == [1, 2, 3]  # 10, 11, 12: little padding, one pass
    for group in groups:
        widest = max(lengths[i] for i in group)
        assert widest * len(group) <= 1.25 * sum(lengths[i] for i in group)
    assert [len(g) for g in trinity.batches(lengths, 1)] == [1] * 6


def test_penultimate_and_last_states_come_from_one_pass(backbone):
    trinity = _trinity(backbone)
    states = trinity.token_states(CONVERSATIONS, positions=("penultimate", "last"))
    np.testing.assert_array_equal(states["penultimate"], trinity.hidden_states(CONVERSATIONS))
    ids, _ = trinity.prompt_ids(CONVERSATIONS)
    with torch.no_grad():
        alone = backbone.model.base_model(input_ids=torch.tensor([ids[1]])).last_hidden_state[0, -1].numpy()
    np.testing.assert_allclose(states["last"][1], alone, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="positions must be among"):
        trinity.token_states(CONVERSATIONS, positions=("first",))


def test_prompt_cap_keeps_the_end_and_counts_the_cut(backbone):
    capped = _trinity(backbone, max_prompt_tokens=6)
    full_ids, n_cut_none = _trinity(backbone).prompt_ids(CONVERSATIONS)
    ids, n_cut = capped.prompt_ids(CONVERSATIONS)
    assert n_cut_none == 0 and n_cut == sum(len(r) > 6 for r in full_ids) > 0
    assert all(row == full[-6:] for row, full in zip(ids, full_ids))
    with torch.no_grad():  # the state read is that of the kept tail, alone
        tail = backbone.model.base_model(input_ids=torch.tensor([ids[1]])).last_hidden_state[0, -2].numpy()
    np.testing.assert_allclose(capped.hidden_states(CONVERSATIONS)[1], tail, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        _trinity(backbone, max_prompt_tokens=1)


def test_int8_quantisation_keeps_its_baked_offsets_and_refuses_others(tiny_backbone_dir):
    from fugu.models.backbone import load_backbone

    backbone = load_backbone(tiny_backbone_dir)
    fp32 = Trinity.build(backbone, ["w0", "w1", "w2", "w3"], ["solver", "thinker", "verifier"], [0])
    int8 = Trinity.build(backbone, ["w0", "w1", "w2", "w3"], ["solver", "thinker", "verifier"], [0])
    int8.quantise_int8()
    conversations = [[{"role": "user", "content": f"Add {a} and {a + 1}?"}] for a in range(6)]
    def quantised(model):
        return any(type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules())
    assert quantised(int8.model) and not quantised(fp32.model)  # the shared backbone is untouched
    want, got = fp32.hidden_states(conversations), int8.hidden_states(conversations)
    assert np.abs(want - got).max() < 0.25 * np.abs(want).max()  # close, not equal: that is what the benchmark measures
    with pytest.raises(ValueError, match="baked in"):
        int8.hidden_states(conversations, np.ones(int8.layout.n_svf, np.float32))
