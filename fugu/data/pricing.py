"""Estimated cost of a recorded answer: tokens × list price. No source recorded tokens or cost.

cost(question, model) = prompt tokens × input price + response tokens × output price, in USD.

- Tokens come from one real tokenizer (``litellm.token_counter`` under a fixed model name,
  tiktoken underneath, offline) applied to the recorded question and response text. The
  sources do not record the instruction/few-shot template each model saw, so the prompt side
  counts the question only: a lower bound on what was paid.
- Prices are USD per million tokens, one entry per pool model (the pipeline's are in
  configs/provenance.yaml): ``litellm_key`` (read from litellm's bundled cost map, offline) or
  else ``list_price: [input, output]`` with the ``source`` it was published in, else
  ``cost_unknown: <why>`` (a model nobody priced: its rows' cost stays NaN and every cost
  figure says *unknown*, never 0). A pool model with none of the three is an error naming it.

Every figure derived from these numbers is an *estimate*, and metrics say so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

PER_MILLION = 1_000_000


class PricingError(ValueError):
    """A pool model without a usable price; the message names the model."""


@dataclass(frozen=True)
class Price:
    """USD per million tokens, and where the number came from."""

    model: str
    input_per_million: float | None  # None: cost unknown
    output_per_million: float | None
    source: str

    @property
    def known(self) -> bool:
        return self.input_per_million is not None and self.output_per_million is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_prices(models: Sequence[str], prices: Mapping[str, Mapping[str, Any]]) -> dict[str, Price]:
    """One :class:`Price` per model: the litellm cost map under ``litellm_key``, else the list price."""
    resolved = {}
    for model in models:
        entry = prices.get(model)
        if not entry:
            raise PricingError(f"pool model {model!r} has no price (routing.prices.{model} in configs/provenance.yaml: "
                               "give litellm_key or list_price [input, output] with its source)")
        resolved[model] = _price(model, entry)
    return resolved


def _price(model: str, entry: Mapping[str, Any]) -> Price:
    if entry.get("cost_unknown"):
        return Price(model, None, None, f"cost unknown: {entry['cost_unknown']}")
    key = entry.get("litellm_key")
    if key:
        import litellm  # local: the cost map is only needed here

        try:
            prompt, completion = litellm.cost_per_token(model=key, prompt_tokens=PER_MILLION,
                                                        completion_tokens=PER_MILLION)
        except Exception as exc:  # litellm raises plain Exception for unknown keys
            if not entry.get("list_price"):
                raise PricingError(f"pool model {model!r}: litellm's cost map has no key {key!r} "
                                   f"and no list_price is given ({exc})") from None
        else:
            return Price(model, float(prompt), float(completion), f"litellm cost map: {key}")
    listed = entry.get("list_price")
    if not listed or len(listed) != 2:
        raise PricingError(f"pool model {model!r}: its price gives no litellm_key and no list_price [input, output]")
    if not entry.get("source"):
        raise PricingError(f"pool model {model!r}: a list_price needs its `source` (where it was published)")
    return Price(model, float(listed[0]), float(listed[1]), f"list price: {entry['source']}")


def count_tokens(texts: Iterable[str | None], tokenizer_model: str) -> list[int]:
    """Tokens per text under litellm's tokenizer for ``tokenizer_model`` (0 for a missing text)."""
    import litellm

    return [0 if not text else int(litellm.token_counter(model=tokenizer_model, text=str(text))) for text in texts]


def estimate_costs(table: pd.DataFrame, prices: Mapping[str, Price], tokenizer_model: str) -> pd.DataFrame:
    """``table`` with ``cost`` = estimated USD per row, plus ``prompt_tokens`` and ``response_tokens``."""
    missing = sorted(set(table["model"]) - set(prices))
    if missing:
        raise PricingError(f"models {missing} have rows but no price")
    out = table.copy()
    question_tokens = dict(zip(out.drop_duplicates("question_id")["question_id"],
                               count_tokens(out.drop_duplicates("question_id")["question"], tokenizer_model)))
    out["prompt_tokens"] = out["question_id"].map(question_tokens).astype(int)
    out["response_tokens"] = count_tokens(out["response"], tokenizer_model)
    unit_in = out["model"].map(lambda m: _per_token(prices[m].input_per_million))
    unit_out = out["model"].map(lambda m: _per_token(prices[m].output_per_million))
    out["cost"] = out["prompt_tokens"] * unit_in + out["response_tokens"] * unit_out
    return out


def _per_token(per_million: float | None) -> float:
    return float("nan") if per_million is None else per_million / PER_MILLION


def cost_summary(table: pd.DataFrame, prices: Mapping[str, Price], tokenizer_model: str) -> dict[str, Any]:
    """JSON-ready: per model mean tokens and estimated USD per 1,000 questions, with price sources."""
    per_model = table.groupby("model").agg(prompt_tokens=("prompt_tokens", "mean"),
                                           response_tokens=("response_tokens", "mean"), cost=("cost", "mean"))
    unknown = sorted(m for m, p in prices.items() if not p.known and m in per_model.index)
    summary = {
        "estimated": True,
        "method": ("prompt tokens (question text only: the source's template is not recorded) × input price "
                   "+ response tokens × output price"),
        "tokenizer": f"litellm.token_counter(model={tokenizer_model!r})",
        "prices_usd_per_million": {m: p.to_dict() for m, p in sorted(prices.items())},
        "per_model": {m: {"mean_prompt_tokens": float(r.prompt_tokens), "mean_response_tokens": float(r.response_tokens),
                          "estimated_usd_per_1k_questions": "unknown" if m in unknown else float(r.cost * 1000)}
                      for m, r in per_model.iterrows()},
    }
    if unknown:  # only then: a fully priced pool's summary keeps its bytes
        summary["cost_unknown"] = unknown
    return summary
