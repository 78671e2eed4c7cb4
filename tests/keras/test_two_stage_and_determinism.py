"""Two-stage search and deterministic Keras searches (n_jobs=1 and 2)."""

import numpy as np
import pytest

pytestmark = pytest.mark.keras

pytest.importorskip("keras")

from sklearn.model_selection import GridSearchCV  # noqa: E402

from skautosearch import GeneticSearchCV  # noqa: E402
from skautosearch.keras import KerasClassifier, TwoStageSearchCV, build_mlp  # noqa: E402


def _clf():
    return KerasClassifier(
        build_mlp,
        loss="sparse_categorical_crossentropy",
        epochs=1,
        batch_size=32,
        verbose=0,
        random_state=0,
        model__dropout=0.1,
    )


def test_two_stage_keeps_both_stages_and_chains_the_best_architecture(digits):
    X, y = digits
    stage1 = GeneticSearchCV(
        _clf(),
        {"model__units_0": [4, 16]},
        n_iter=2,
        population_size=2,
        elitism=1,
        cv=2,
        random_state=0,
        refit=False,
    )
    stage2 = GridSearchCV(_clf(), {"optimizer__learning_rate": [0.003, 0.03]}, cv=2)
    two = TwoStageSearchCV(stage1, stage2).fit(X, y)
    units = two.architecture_search_.best_params_["model__units_0"]
    assert len(two.architecture_search_.cv_results_["params"]) == 2
    assert len(two.training_search_.cv_results_["params"]) == 2
    assert two.best_params_["model__units_0"] == units
    assert two.best_estimator_.get_params()["model__units_0"] == units
    assert two.best_score_ == two.training_search_.best_score_
    assert two.predict_proba(X).shape == (len(X), 10)
    assert "model__units_0" not in stage2.estimator.get_params(
        deep=False
    )  # not mutated


def test_two_stage_rejects_a_non_search():
    with pytest.raises(TypeError, match="architecture_search must be a search"):
        TwoStageSearchCV(_clf(), GridSearchCV(_clf(), {})).fit([[0.0]], [0])


def _results(n_jobs, X, y):
    search = GeneticSearchCV(
        _clf(),
        {"model__units_0": [4, 8, 16], "optimizer__learning_rate": [0.003, 0.03]},
        n_iter=3,
        population_size=3,
        elitism=1,
        cv=2,
        random_state=0,
        n_jobs=n_jobs,
        refit=False,
    )
    search.fit(X, y)
    return {k: v for k, v in search.cv_results_.items() if "time" not in k}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(
            np.asarray(a[key], dtype=object), np.asarray(b[key], dtype=object)
        ), key


def test_keras_search_is_deterministic_with_one_and_two_workers(digits):
    X, y = digits
    first = _results(1, X, y)
    _assert_same(first, _results(1, X, y))
    _assert_same(first, _results(2, X, y))
