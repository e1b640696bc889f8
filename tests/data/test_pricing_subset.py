"""Estimated cost (tokens × prices, each with its source) and the stratified tiny subset."""

import pandas as pd
import pytest

from fugu.data.pricing import PricingError, count_tokens, estimate_costs, resolve_prices
from fugu.data.splits import assign_splits
from fugu.data.subset import SubsetError, stratified_subset
from tests.outcome_fixtures import tidy_table


def test_prices_come_from_litellms_map_or_the_list_price_with_its_source():
    prices = resolve_prices(["gpt-4o", "gemini-1.5-pro"], {
        "gpt-4o": {"litellm_key": "gpt-4o-2024-05-13"},
        "gemini-1.5-pro": {"list_price": [1.25, 5.0], "source": "Google list price, Oct 2024"}})
    assert (prices["gpt-4o"].input_per_million, prices["gpt-4o"].output_per_million) == (5.0, 15.0)
    assert "litellm cost map: gpt-4o-2024-05-13" == prices["gpt-4o"].source
    assert prices["gemini-1.5-pro"].source.startswith("list price: Google")


@pytest.mark.parametrize("entry, message", [
    (None, "pool model 'm' has no price"),
    ({"list_price": [1.0, 2.0]}, "needs its `source`"),
    ({"litellm_key": "no-such-model-anywhere"}, "has no key 'no-such-model-anywhere'"),
])
def test_a_pool_model_without_a_usable_price_is_named(entry, message):
    with pytest.raises(PricingError, match=message):
        resolve_prices(["m"], {} if entry is None else {"m": entry})


def test_cost_is_prompt_tokens_times_input_plus_response_tokens_times_output():
    table = tidy_table(4)
    table["model"] = table["model"].map({"model-a": "gpt-4o", "model-b": "gpt-4o", "model-c": "cheap"})
    table = table.drop_duplicates(["question_id", "model"])
    prices = resolve_prices(["gpt-4o", "cheap"], {"gpt-4o": {"litellm_key": "gpt-4o-2024-05-13"},
                                                  "cheap": {"list_price": [1.0, 2.0], "source": "test"}})
    priced = estimate_costs(table, prices, "gpt-4o")
    row = priced[priced["model"] == "cheap"].iloc[0]
    assert row["prompt_tokens"] == count_tokens([row["question"]], "gpt-4o")[0] > 0
    assert row["cost"] == pytest.approx((row["prompt_tokens"] * 1.0 + row["response_tokens"] * 2.0) / 1e6)


def _splits(n=300):
    questions = pd.DataFrame({"question_id": [f"q{i}" for i in range(n)],
                              "category": [("a", "b", "b", "c", "c", "c")[i % 6] for i in range(n)]})
    return assign_splits(questions, {"train": 0.6, "validation": 0.2, "test": 0.2}, seed=0)


def test_the_subset_keeps_each_splits_categories_in_proportion_and_never_moves_a_question():
    splits = _splits()
    subset = stratified_subset(splits, {"train": 60, "validation": 12, "test": 30}, seed=0)
    assert subset["split"].value_counts().to_dict() == {"train": 60, "test": 30, "validation": 12}
    assert subset[subset["split"] == "train"]["category"].value_counts().to_dict() == {"c": 30, "b": 20, "a": 10}
    merged = subset.merge(splits, on="question_id", suffixes=("", "_all"))
    assert (merged["split"] == merged["split_all"]).all()
    pd.testing.assert_frame_equal(subset, stratified_subset(splits, {"train": 60, "validation": 12, "test": 30}, 0))


def test_no_subset_keeps_everything_and_too_large_a_subset_is_refused():
    splits = _splits()
    assert len(stratified_subset(splits, None, 0)) == len(splits)
    with pytest.raises(SubsetError, match="asks for 999 test questions"):
        stratified_subset(splits, {"test": 999}, 0)
