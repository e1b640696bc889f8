"""Held-out questions (validation and test) never reach training, baseline fitting or a choice.

- Fitting reads features and outcomes of train questions only; validation questions are read
  only to choose among candidates already fitted (poisoning validation outcomes changes no
  fitted parameter), and the test split is not even an argument of the fitting code.
- What the features cache is asked for during fitting is recorded and checked against the ids.
"""

import inspect
from types import SimpleNamespace

import numpy as np

from fugu.data.matrix import Outcomes
from fugu.evaluation.router_comparison import BaselineSettings, fit_routers
from fugu.training.conductor_training import train_one
from fugu.training.trinity_search import fit_and_select, train_over_seeds
from fugu.trinity.features import FeatureTable

SETTINGS = BaselineSettings(knn_k_grid=(1, 3), logistic_epochs=20, logistic_learning_rate=0.1, logistic_weight_decay=0.0,
                            mf_dim=4, mf_epochs=20, mf_learning_rate=0.05, mf_weight_decay=0.0)


def split(name: str, n: int, seed: int) -> Outcomes:
    rng = np.random.default_rng(seed)
    return Outcomes(tuple(f"{name}{i}" for i in range(n)), tuple(f"{name} question {i}" for i in range(n)),
                    tuple("ab"[i % 2] for i in range(n)), ("w0", "w1", "w2"),
                    (rng.random((n, 3)) < 0.5).astype(float), rng.random((n, 3)) * 1e-3)


class Spy(FeatureTable):
    """A feature table that records every question id it is asked for."""

    def rows(self, question_ids, which="penultimate"):
        self.meta["asked"].extend(question_ids)
        return super().rows(question_ids, which)


def cached_for(splits: dict[str, Outcomes]):
    ids = [q for o in splits.values() for q in o.question_ids]
    rng = np.random.default_rng(0)
    hidden = Spy(tuple(ids), {"penultimate": rng.normal(size=(len(ids), 6)).astype(np.float32)}, {"asked": []})
    embedding = Spy(tuple(ids), {"embedding": rng.normal(size=(len(ids), 5)).astype(np.float32)}, {"asked": []})
    text_to_id = {t: q for o in splits.values() for t, q in zip(o.questions, o.question_ids)}
    category = {t: c for o in splits.values() for t, c in zip(o.questions, o.categories)}
    return SimpleNamespace(hidden_table=hidden, embedding_table=embedding, text_to_id=text_to_id,
                           hidden=hidden.featurizer(text_to_id), embedding=embedding.featurizer(text_to_id, "embedding"),
                           category_of=lambda c: category[c[0]["content"]])


def poisoned(o: Outcomes) -> Outcomes:
    return Outcomes(o.question_ids, o.questions, o.categories, o.workers, 1.0 - o.scores, o.costs[::-1].copy())


def test_the_fitting_code_takes_no_test_split():
    assert "test" not in inspect.signature(fit_routers).parameters
    assert not any("test" in p for p in inspect.signature(fit_and_select).parameters)
    assert not any("test" in p for p in inspect.signature(train_over_seeds).parameters)
    assert not any("test" in p for p in inspect.signature(train_one).parameters)  # the Conductor: seed chosen on validation


def test_baselines_read_only_train_and_validation_questions_and_validation_only_to_choose():
    splits = {"train": split("train", 30, 1), "validation": split("validation", 10, 2), "test": split("test", 10, 3)}
    cached = cached_for(splits)
    fitted = fit_routers(splits["train"], splits["validation"], cached, SETTINGS, seed=0)
    asked = set(cached.hidden_table.meta["asked"]) | set(cached.embedding_table.meta["asked"])
    assert not asked & set(splits["test"].question_ids)
    assert asked <= set(splits["train"].question_ids) | set(splits["validation"].question_ids)

    again = fit_routers(splits["train"], poisoned(splits["validation"]), cached_for(splits), SETTINGS, seed=0)
    np.testing.assert_array_equal(fitted["best_single"].train_accuracy, again["best_single"].train_accuracy)
    assert fitted["best_per_category"].per_category == again["best_per_category"].per_category
    np.testing.assert_array_equal(fitted["logistic_hidden"].weight, again["logistic_hidden"].weight)
    np.testing.assert_array_equal(fitted["mf"].projection, again["mf"].projection)
    for name in ("knn_hidden", "knn_minilm"):  # validation may pick another k, never other training rows
        np.testing.assert_array_equal(fitted[name]._train_scores, splits["train"].scores)
        np.testing.assert_array_equal(again[name]._train_scores, splits["train"].scores)


def test_trinity_trains_on_train_and_validation_only_chooses_among_the_trained_heads():
    train, validation = split("train", 40, 1), split("validation", 12, 2)
    rng = np.random.default_rng(0)
    train_x, validation_x = rng.normal(size=(40, 4)), rng.normal(size=(12, 4))
    args = dict(generation_grid=[3, 6], cost_penalties=[0.0], population_size=8, sigma0=0.5, seed=0)
    _, candidates, _ = fit_and_select(train_x, train, validation_x, validation, **args)
    _, poisoned_candidates, _ = fit_and_select(train_x, train, validation_x, poisoned(validation), **args)
    for a, b in zip(candidates, poisoned_candidates):
        np.testing.assert_array_equal(a.head, b.head)
