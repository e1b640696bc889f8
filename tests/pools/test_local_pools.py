"""LiteLLMPool and LocalHFPool behind the pool interface."""

from __future__ import annotations

import asyncio

import pytest

from fugu.pools.base import PoolError, answer_sync
from fugu.pools.from_spec import pool_from_spec
from fugu.pools.litellm_pool import LiteLLMPool, LiteLLMWorker
from fugu.serving.worker_server import create_worker_app, running
from tests.serve_fixtures import ScriptedPool

QUESTION = [{"role": "user", "content": "What is 8 * 9?"}]


@pytest.fixture(scope="module")
def worker_url():
    with running(create_worker_app(ScriptedPool({"w0": "The answer is 72.", "w1": "error"}))) as url:
        yield f"{url}/v1"


def test_litellm_pool_answers_over_http_with_usage(worker_url):
    pool = LiteLLMPool([LiteLLMWorker("w0", "openai/w0", api_base=worker_url, api_key="x", cost_per_call=0.25)])
    reply = answer_sync(pool, "w0", QUESTION)
    assert reply.worker == "w0" and reply.text == "The answer is 72."
    assert reply.cost == 0.25  # a local model has no price in litellm's map: the configured cost
    assert reply.latency_s > 0
    assert reply.usage == {"prompt_tokens": 3, "completion_tokens": 2}  # as the worker server reported it


def test_a_model_litellm_prices_costs_its_price_and_an_unpriced_one_its_configured_cost():
    """The price is litellm's own, computed once during the call; a local model it cannot price is
    registered at zero (a fast look-up) and so costs the worker's configured ``cost_per_call``."""
    import litellm

    priced = ScriptedPool({"gpt-4o-mini": "The answer is 72.", "my-local-model": "72"})
    with running(create_worker_app(priced)) as url:
        pool = LiteLLMPool([LiteLLMWorker("known", "openai/gpt-4o-mini", api_base=f"{url}/v1", api_key="x",
                                          cost_per_call=9.0),
                            LiteLLMWorker("local", "openai/my-local-model", api_base=f"{url}/v1", api_key="x",
                                          cost_per_call=0.25)])
        known = answer_sync(pool, "known", QUESTION)
        local = answer_sync(pool, "local", QUESTION)
    info = litellm.get_model_info("openai/gpt-4o-mini")
    expected = (known.usage["prompt_tokens"] * info["input_cost_per_token"]
                + known.usage["completion_tokens"] * info["output_cost_per_token"])
    assert known.cost == pytest.approx(expected) and 0 < known.cost < 9.0
    assert local.cost == 0.25
    assert litellm.get_model_info("openai/my-local-model")["input_cost_per_token"] == 0.0  # registered at zero


def test_litellm_pool_reports_no_usage_when_the_worker_sends_none():
    from fugu.pools.simulated import SimulatedPool

    sim = SimulatedPool.generate(4, 1, 1, seed=0)
    with running(create_worker_app(sim)) as url:
        pool = LiteLLMPool([LiteLLMWorker("sim-worker-0", "openai/sim-worker-0", api_base=f"{url}/v1", api_key="x")])
        reply = answer_sync(pool, "sim-worker-0", [{"role": "user", "content": sim.questions[0].text}])
    assert reply.text.endswith(".") and reply.usage == {}  # unknown, not a made-up zero


def test_litellm_pool_turns_an_http_500_into_a_pool_error(worker_url):
    pool = LiteLLMPool([LiteLLMWorker("w1", "openai/w1", api_base=worker_url, api_key="x")])
    with pytest.raises(PoolError, match="w1"):
        answer_sync(pool, "w1", QUESTION)


def test_litellm_pool_rejects_unknown_workers_and_missing_key_variables(worker_url, monkeypatch):
    monkeypatch.delenv("FUGU_TEST_NO_SUCH_KEY", raising=False)
    pool = LiteLLMPool([LiteLLMWorker("w0", "openai/w0", api_base=worker_url, api_key_env="FUGU_TEST_NO_SUCH_KEY")])
    with pytest.raises(PoolError, match="unknown worker"):
        answer_sync(pool, "nobody", QUESTION)
    with pytest.raises(PoolError, match="FUGU_TEST_NO_SUCH_KEY"):
        answer_sync(pool, "w0", QUESTION)


def test_pool_spec_builds_a_litellm_pool_and_refuses_unknown_kinds(worker_url):
    pool = pool_from_spec({"kind": "litellm", "workers": [{"name": "w0", "model": "openai/w0", "api_base": worker_url}]})
    assert [w.name for w in pool.workers] == ["w0"]
    with pytest.raises(ValueError, match="kind"):
        pool_from_spec({"kind": "carrier-pigeon", "workers": [{"name": "w0"}]})
    with pytest.raises(ValueError, match="no workers"):
        pool_from_spec({"kind": "litellm", "workers": []})


# --- LocalHFPool -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A random tiny Qwen3 and a byte-level BPE tokenizer, built offline in about a second."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    path = tmp_path_factory.mktemp("tiny-qwen")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(["What is 8 * 9? The answer is 72.", "user assistant system"] * 20,
                            trainers.BpeTrainer(vocab_size=300, special_tokens=["<eos>"],
                                                initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>")
    tokenizer.save_pretrained(path)
    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=16, eos_token_id=0)
    Qwen3ForCausalLM(config).save_pretrained(path)
    return path


def test_local_hf_pool_loads_a_shared_model_once_and_decodes_greedily(tiny_model_dir):
    from fugu.pools.local_hf import LocalHFPool, LocalHFWorker

    pool = LocalHFPool([LocalHFWorker("plain", str(tiny_model_dir)),
                        LocalHFWorker("brief", str(tiny_model_dir), system_prompt="Answer briefly.")],
                       max_new_tokens=5)
    assert pool.n_loaded == 1
    first, again = answer_sync(pool, "plain", QUESTION), answer_sync(pool, "plain", QUESTION)
    assert first.text == again.text  # greedy: the same conversation, the same answer
    assert 1 <= first.usage["completion_tokens"] <= 5
    brief = answer_sync(pool, "brief", QUESTION)
    assert brief.usage["prompt_tokens"] > first.usage["prompt_tokens"]  # the system prompt was added


def test_local_hf_pool_answers_concurrent_calls(tiny_model_dir):
    from fugu.pools.local_hf import LocalHFPool, LocalHFWorker

    pool = LocalHFPool([LocalHFWorker("plain", str(tiny_model_dir))], max_new_tokens=3)

    async def both():
        return await asyncio.gather(pool.answer("plain", QUESTION), pool.answer("plain", QUESTION))

    one, two = asyncio.run(both())
    assert one.text == two.text


def test_local_hf_pool_names_a_missing_model_directory(tmp_path):
    from fugu.pools.local_hf import LocalHFPool, LocalHFWorker

    with pytest.raises(FileNotFoundError, match="no-such-model"):
        LocalHFPool([LocalHFWorker("w", str(tmp_path / "no-such-model"))])
