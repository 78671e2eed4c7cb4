"""adapt_estimator and the three searches on SciKeras / keras.wrappers estimators."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytestmark = pytest.mark.keras

keras = pytest.importorskip("keras")
from scikeras.wrappers import KerasClassifier as SciKerasClassifier  # noqa: E402

from skautosearch import (  # noqa: E402
    AnnealingSearchCV,
    BayesianSearchCV,
    GeneticSearchCV,
    Integer,
    Real,
)
from skautosearch.keras import (  # noqa: E402
    KerasClassifier,
    SKLearnClassifier,
    SKLearnRegressor,
    adapt_estimator,
    build_mlp,
)


def _scikeras(**kw):
    params = dict(
        model__hidden_units=(8,),
        loss="sparse_categorical_crossentropy",
        optimizer__learning_rate=0.05,
        epochs=1,
        verbose=0,
        random_state=0,
    )
    return SciKerasClassifier(build_mlp, **{**params, **kw})


def build_keras_model(X, y, units=4):
    model = keras.Sequential(
        [
            keras.Input(X.shape[1:]),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(y.shape[1], activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model


def test_scikeras_becomes_ours_with_same_params_and_a_warning():
    user = _scikeras(model__dropout=0.1)
    before = user.get_params()
    with pytest.warns(UserWarning, match=r"skautosearch\.keras\.KerasClassifier"):
        adapted = adapt_estimator(user)
    assert type(adapted) is KerasClassifier and is_classifier(adapted)
    assert adapted.get_params(deep=False) == before
    # deep=True adds the builder's and optimizer's defaults, for search spaces
    assert adapted.get_params()["model__units_0"] is None
    assert user.get_params() == before and type(user) is SciKerasClassifier


def test_keras_wrapper_exposes_dict_entries_without_mutating_them():
    model_kwargs, fit_kwargs = {"units": 4}, {"epochs": 1, "verbose": 0}
    user = keras.wrappers.SKLearnClassifier(
        build_keras_model, model_kwargs=model_kwargs, fit_kwargs=fit_kwargs
    )
    adapted = adapt_estimator(user)
    assert isinstance(adapted, SKLearnClassifier)
    params = adapted.get_params(deep=True)
    assert params["model_kwargs__units"] == 4 and params["fit_kwargs__epochs"] == 1
    adapted.set_params(model_kwargs__units=16, fit_kwargs__epochs=2)
    assert adapted.model_kwargs == {"units": 16} and adapted.fit_kwargs["epochs"] == 2
    assert model_kwargs == {"units": 4} and fit_kwargs == {"epochs": 1, "verbose": 0}
    # keras.wrappers' own clone drops fit_kwargs; ours keeps them.
    assert clone(adapted).fit_kwargs == {"epochs": 2, "verbose": 0}
    assert isinstance(
        adapt_estimator(keras.wrappers.SKLearnRegressor(build_keras_model)),
        SKLearnRegressor,
    )


def test_pipeline_is_copied_with_its_keras_step_adapted():
    user = make_pipeline(StandardScaler(), _scikeras())
    with pytest.warns(UserWarning):
        adapted = adapt_estimator(user)
    assert adapted is not user
    assert type(adapted.steps[-1][1]) is KerasClassifier
    assert type(user.steps[-1][1]) is SciKerasClassifier
    assert is_classifier(adapted)


def test_other_estimators_are_returned_unchanged():
    ours = KerasClassifier(build_mlp)
    assert adapt_estimator(ours) is ours
    pipe = make_pipeline(StandardScaler())
    assert adapt_estimator(pipe) is pipe


def test_unmodified_scikeras_gets_stratified_folds_in_our_search(easy_binary):
    """Rows sorted by class: unstratified 2-fold CV trains on one class only."""
    X, y = easy_binary
    search = GeneticSearchCV(
        _scikeras(model__hidden_units=(4,), epochs=3),
        {"model__units_0": [4, 6]},
        n_iter=2,
        population_size=2,
        elitism=1,
        cv=2,
        random_state=0,
        refit=False,
    )
    with pytest.warns(UserWarning, match="unstratified"):
        search.fit(X, y)
    assert np.min(search.cv_results_["mean_test_score"]) > 0.9


def test_annealing_search_over_keras_wrapper_dict_entries(digits):
    X, y = digits
    est = keras.wrappers.SKLearnClassifier(
        build_keras_model,
        model_kwargs={"units": 4},
        fit_kwargs={"epochs": 1, "verbose": 0},
    )
    search = AnnealingSearchCV(
        est,
        {"model_kwargs__units": Integer(2, 8)},
        n_iter=2,
        n_chains=1,
        cv=2,
        random_state=0,
        refit=False,
    )
    search.fit(X, y)
    units = [p["model_kwargs__units"] for p in search.cv_results_["params"]]
    assert len(set(units)) == 2 and all(2 <= u <= 8 for u in units)
    assert est.model_kwargs == {"units": 4}


def test_bayesian_search_in_a_pipeline_and_pickled(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), _scikeras())
    search = BayesianSearchCV(
        pipe,
        {
            "kerasclassifier__optimizer__learning_rate": Real(
                1e-3, 1e-1, prior="log-uniform"
            )
        },
        n_iter=2,
        n_points=2,
        n_initial_points=2,
        cv=2,
        random_state=0,
    )
    with pytest.warns(UserWarning):
        search.fit(X, y)
    assert type(search.best_estimator_[-1]) is KerasClassifier
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict_proba(X), search.predict_proba(X))
    assert type(search.estimator[-1]) is SciKerasClassifier  # user's object untouched


def test_keras_wrapper_model_traces_its_train_step_once(digits, variables_created_in_trace):
    # keras.wrappers builds a model per fit; its optimizer and metric
    # variables must exist before the first trace (else it is traced twice).
    X, y = digits
    est = SKLearnClassifier(model=build_keras_model, fit_kwargs={"epochs": 1, "verbose": 0})
    with variables_created_in_trace() as created_in_trace:
        est.fit(X, y)
    assert created_in_trace == []
    assert est.model_.optimizer.built
