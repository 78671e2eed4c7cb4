"""Fold models continued to a larger budget, and the store that keeps them."""

import pickle
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skautosearch._continuation import (
    ModelStore,
    continuation_kind,
    fit_to_budget,
    nested_subsample,
    resource_param,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:400] / 16.0).astype(np.float32), y[:400]


# --- resource ---------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator, resource",
    [
        (RandomForestClassifier(), "n_estimators"),
        (HistGradientBoostingClassifier(), "max_iter"),
        (make_pipeline(StandardScaler(), SGDClassifier()), "sgdclassifier__max_iter"),
        (SVC(), "n_samples"),
    ],
)
def test_resource_param_accepts_integer_parameters_and_n_samples(estimator, resource):
    assert resource_param(estimator, resource) == resource


@pytest.mark.parametrize(
    "resource", ["epochs", "bootstrap", "criterion", "random_state", "verbose", 3, None]
)
def test_resource_param_rejects_other_names_listing_valid_ones(resource):
    # bootstrap is a bool, criterion a str, random_state and verbose no budgets.
    with pytest.raises(ValueError, match=r"resource=.*Valid names: 'n_samples'.*'n_estimators'"):
        resource_param(RandomForestClassifier(random_state=0), resource)


@pytest.mark.parametrize(
    "estimator, resource, kind",
    [
        (RandomForestClassifier(), "n_estimators", "warm_start"),
        (HistGradientBoostingClassifier(), "max_iter", "warm_start"),
        (MLPClassifier(), "max_iter", "warm_start"),
        (make_pipeline(StandardScaler(), RandomForestClassifier()),
         "randomforestclassifier__n_estimators", "warm_start"),
        (RandomForestClassifier(), "max_depth", "refit"),
        (LogisticRegression(), "max_iter", "refit"),
        (SVC(), "max_iter", "refit"),
        (RandomForestClassifier(), "n_samples", "refit"),
    ],
)
def test_continuation_kind(estimator, resource, kind):
    assert continuation_kind(estimator, resource) == kind


# --- scikit-learn warm start ------------------------------------------------


@pytest.mark.parametrize(
    "estimator, resource",
    [
        (RandomForestClassifier(random_state=0), "n_estimators"),
        (HistGradientBoostingClassifier(random_state=0), "max_iter"),
        # subsample < 1 draws rows from an rng that warm_start keeps going.
        (GradientBoostingClassifier(random_state=0, subsample=0.7, n_estimators=3),
         "n_estimators"),
        (make_pipeline(StandardScaler(), RandomForestClassifier(random_state=0)),
         "randomforestclassifier__n_estimators"),
    ],
)
def test_warm_start_continuation_equals_a_fit_from_scratch(digits, estimator, resource):
    X, y = digits
    small = fit_to_budget(estimator, X, y, resource=resource, budget=10).estimator
    continued = fit_to_budget(
        estimator, X, y, resource=resource, budget=30, previous=small
    )
    scratch = fit_to_budget(estimator, X, y, resource=resource, budget=30)
    assert (continued.trained, continued.continued) == (20, True)
    assert (scratch.trained, scratch.continued) == (30, False)
    assert continued.estimator is small  # grown in place
    assert continued.estimator.get_params()[resource] == 30
    np.testing.assert_array_equal(
        continued.estimator.predict_proba(X), scratch.estimator.predict_proba(X)
    )
    params = continued.estimator.get_params()
    assert not any(v for k, v in params.items() if k.endswith("warm_start"))


def test_forest_grows_instead_of_refitting(digits):
    X, y = digits
    small = fit_to_budget(
        RandomForestClassifier(random_state=0), X, y, resource="n_estimators", budget=5
    ).estimator
    first_trees = list(small.estimators_)
    grown = fit_to_budget(
        RandomForestClassifier(random_state=0), X, y, resource="n_estimators",
        budget=8, previous=small,
    ).estimator
    assert len(grown.estimators_) == 8
    assert grown.estimators_[:5] == first_trees


@pytest.mark.parametrize(
    "estimator",
    [MLPClassifier(hidden_layer_sizes=(8,), random_state=0), SGDClassifier(random_state=0)],
)
def test_iterative_estimators_train_only_the_extra_iterations(digits, estimator):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        small = fit_to_budget(estimator, X, y, resource="max_iter", budget=3).estimator
        coef = np.copy(small.coefs_[0] if hasattr(small, "coefs_") else small.coef_)
        continued = fit_to_budget(
            estimator, X, y, resource="max_iter", budget=5, previous=small
        )
    # fit with warm_start runs max_iter more epochs: 2 here, not 5.
    assert continued.trained == 2 and continued.estimator.n_iter_ == 2
    assert continued.estimator.max_iter == 5
    now = continued.estimator
    assert not np.array_equal(coef, now.coefs_[0] if hasattr(now, "coefs_") else now.coef_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_other_estimators_are_refitted_at_the_budget(digits):
    X, y = digits
    small = fit_to_budget(SVC(), X, y, resource="max_iter", budget=5).estimator
    fitted = fit_to_budget(SVC(), X, y, resource="max_iter", budget=50, previous=small)
    assert (fitted.trained, fitted.continued) == (50, False)
    assert fitted.estimator is not small and fitted.estimator.max_iter == 50


def test_the_given_estimator_is_never_changed(digits):
    X, y = digits
    estimator = RandomForestClassifier(n_estimators=7, random_state=0)
    fit_to_budget(estimator, X, y, resource="n_estimators", budget=3)
    assert estimator.n_estimators == 7 and not hasattr(estimator, "estimators_")


def test_bad_budget_and_previous_are_errors(digits):
    X, y = digits
    forest = RandomForestClassifier(random_state=0)
    big = fit_to_budget(forest, X, y, resource="n_estimators", budget=6).estimator
    with pytest.raises(ValueError, match="budget must be an integer >= 1"):
        fit_to_budget(forest, X, y, resource="n_estimators", budget=0)
    with pytest.raises(ValueError, match="n_estimators=6, more than budget=4"):
        fit_to_budget(forest, X, y, resource="n_estimators", budget=4, previous=big)
    with pytest.raises(ValueError, match="previous is a RandomForestClassifier"):
        fit_to_budget(
            GradientBoostingClassifier(), X, y, resource="n_estimators", budget=8,
            previous=big,
        )


def test_same_budget_returns_previous_untrained(digits):
    X, y = digits
    forest = RandomForestClassifier(random_state=0)
    small = fit_to_budget(forest, X, y, resource="n_estimators", budget=4).estimator
    again = fit_to_budget(forest, X, y, resource="n_estimators", budget=4, previous=small)
    assert again.estimator is small and again.trained == 0


def test_sklearn_budgets_do_not_import_tensorflow():
    code = (
        "import sys; from sklearn.datasets import load_iris;"
        "from sklearn.ensemble import RandomForestClassifier as R;"
        "from skautosearch._continuation import fit_to_budget, ModelStore;"
        "X, y = load_iris(return_X_y=True);"
        "a = fit_to_budget(R(), X, y, resource='n_estimators', budget=2).estimator;"
        "s = ModelStore(); s.save(('c', 0), a); a = s.load(('c', 0)); s.close();"
        "fit_to_budget(R(), X, y, resource='n_estimators', budget=3, previous=a);"
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


# --- n_samples ----------------------------------------------------------------


def test_nested_subsample_is_nested_stratified_and_deterministic():
    y = np.repeat([0, 1, 2], [100, 50, 10])
    small = nested_subsample(len(y), 32, y=y)
    large = nested_subsample(len(y), 96, y=y)
    assert set(small) <= set(large)
    np.testing.assert_array_equal(small, nested_subsample(len(y), 32, y=y))
    for rows in (small, large):
        counts = np.bincount(y[rows], minlength=3)
        np.testing.assert_allclose(counts, len(rows) * np.array([100, 50, 10]) / 160, atol=1)
    assert len(nested_subsample(len(y), 1000, y=y)) == len(y)
    unstratified = nested_subsample(len(y), 40, random_state=1)
    assert len(set(unstratified)) == 40
    assert set(unstratified) <= set(nested_subsample(len(y), 80, random_state=1))


def test_n_samples_fits_a_subsample_and_indexes_fit_params(digits):
    X, y = digits

    class Recorder(LogisticRegression):
        def fit(self, X, y, sample_weight=None):
            self.seen_ = (len(X), None if sample_weight is None else sample_weight.copy())
            return super().fit(X, y, sample_weight=sample_weight)

    weights = np.arange(len(y), dtype=float)
    previous = fit_to_budget(Recorder(), X, y, resource="n_samples", budget=100).estimator
    fitted = fit_to_budget(
        Recorder(), X, y, resource="n_samples", budget=200, previous=previous,
        fit_params={"sample_weight": weights},
    )
    assert (fitted.budget, fitted.trained, fitted.continued) == (200, 200, False)
    n_rows, seen_weights = fitted.estimator.seen_
    rows = nested_subsample(len(y), 200, y=y)
    assert n_rows == 200
    np.testing.assert_array_equal(seen_weights, weights[rows])
    assert set(np.unique(y[rows])) == set(np.unique(y))


# --- the store ----------------------------------------------------------------


def _save_in_worker(store, key, X, y):
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    store.save(key, model)
    return model.predict_proba(X)


def test_store_round_trip_across_processes(digits, tmp_path):
    X, y = digits
    store = ModelStore(tmp_path)
    assert store.folder.parent == tmp_path and store.load(("c", 0)) is None
    [proba] = Parallel(n_jobs=2, backend="loky")(
        delayed(_save_in_worker)(store, ("c", 0), X, y) for _ in range(1)
    )
    np.testing.assert_array_equal(store.load(("c", 0)).predict_proba(X), proba)
    store.close()


def test_store_keeps_one_file_per_key_and_deletes_what_it_is_told(digits, tmp_path):
    X, y = digits
    store = ModelStore(tmp_path, in_memory=False)
    for n_estimators in (1, 2, 3):  # a candidate promoted twice: one file remains
        store.save(("a", 0), RandomForestClassifier(n_estimators).fit(X, y))
    store.save(("a", 1), RandomForestClassifier(1).fit(X, y))
    store.save(("b", 0), RandomForestClassifier(1).fit(X, y))
    files = sorted(p for p in store.folder.rglob("*") if p.is_file())
    assert len(files) == 3  # no temporary file left either
    assert len(store.load(("a", 0)).estimators_) == 3
    store.discard("a")
    assert store.load(("a", 0)) is None and store.load(("a", 1)) is None
    assert store.load(("b", 0)) is not None
    store.close()
    assert not store.folder.exists() and tmp_path.exists()


def test_store_hands_a_model_over_live_in_its_own_process(digits, tmp_path):
    X, y = digits
    store = ModelStore(tmp_path)
    model = RandomForestClassifier(2, random_state=0).fit(X, y)
    store.save(("a", 0), model)
    store.save(("b", 0), RandomForestClassifier(1).fit(X, y))
    assert not [p for p in store.folder.rglob("*") if p.is_file()]  # nothing written
    assert store.load(("a", 0)) is model
    assert store.load(("a", 0)) is None  # handed over: the caller saves it again
    store.discard("b")
    assert store.load(("b", 0)) is None
    store.close()


def _continue_in_worker(store, X, y):
    previous = store.load(("c", 0))
    n_trees = len(previous.estimators_)
    grown = fit_to_budget(RandomForestClassifier(random_state=0), X, y,
                          resource="n_estimators", budget=4, previous=previous)
    store.save(("c", 0), grown.estimator)
    return n_trees


def test_a_store_sent_to_a_worker_writes_its_live_models_first(digits, tmp_path):
    X, y = digits
    store = ModelStore(tmp_path)
    small = fit_to_budget(RandomForestClassifier(random_state=0), X, y,
                          resource="n_estimators", budget=2).estimator
    store.save(("c", 0), small)
    [seen] = Parallel(n_jobs=2, backend="loky")(
        delayed(_continue_in_worker)(store, X, y) for _ in range(1)
    )
    assert seen == 2  # the worker read the model the store only held in memory
    loaded = store.load(("c", 0))
    assert loaded is not small and len(loaded.estimators_) == 4  # the worker's version
    store.close()


def test_a_workers_live_model_is_used_only_while_its_file_is_that_version(
    digits, tmp_path
):
    X, y = digits
    store = ModelStore(tmp_path)
    worker = pickle.loads(pickle.dumps(store))
    worker._owner = -1  # as in another process: every save is written
    other = pickle.loads(pickle.dumps(worker))
    model = RandomForestClassifier(1).fit(X, y)
    worker.save(("c", 0), model)
    assert len([p for p in store.folder.rglob("*") if p.is_file()]) == 1
    assert worker.load(("c", 0)) is model  # its own file unchanged: no copy
    worker.save(("c", 0), model)
    other.save(("c", 0), RandomForestClassifier(3).fit(X, y))  # another worker's rung
    assert len(worker.load(("c", 0)).estimators_) == 3
    worker.save(("d", 0), model)
    assert worker._path(("d", 0)) in _live_paths()
    store.discard("d")
    worker.save(("e", 0), model)  # a worker forgets what was discarded
    assert worker._path(("d", 0)) not in _live_paths()
    store.close()
    assert not _live_paths(store.folder)
    worker.save(("f", 0), model)  # a worker's model of a search ...
    shutil.rmtree(store.folder)  # ... that ends: its folder goes
    later = pickle.loads(pickle.dumps(ModelStore(tmp_path)))
    later._owner = -1
    later.save(("g", 0), model)  # the same worker, the next search's first save
    assert worker._path(("f", 0)) not in _live_paths()
    later.close()


def _live_paths(folder=None):
    from skautosearch._continuation import _LIVE

    return [p for p in _LIVE._held if folder is None or folder in p.parents]


def test_continuing_a_stored_model_equals_scratch(digits, tmp_path):
    X, y = digits
    forest = RandomForestClassifier(random_state=0)
    with ModelStore(tmp_path) as store:
        small = fit_to_budget(forest, X, y, resource="n_estimators", budget=5)
        store.save(("c", 0), small.estimator)
        grown = fit_to_budget(
            forest, X, y, resource="n_estimators", budget=9, previous=store.load(("c", 0))
        )
        scratch = fit_to_budget(forest, X, y, resource="n_estimators", budget=9)
        np.testing.assert_array_equal(
            grown.estimator.predict_proba(X), scratch.estimator.predict_proba(X)
        )
    assert not store.folder.exists()


# --- Keras --------------------------------------------------------------------


@pytest.fixture
def keras_state():
    """Keep TensorFlow's op determinism as found (a seeded SciKeras fit leaks it)."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("scikeras")
    from tensorflow.python.framework import config

    before = config.is_op_determinism_enabled()
    yield
    if not before:
        config.disable_op_determinism()


def _keras_clf(**kw):
    from skautosearch.keras import KerasClassifier, build_mlp

    params = dict(
        model__hidden_units=(16,),
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        batch_size=32,
        epochs=1,
        verbose=0,
        random_state=0,
    )
    return KerasClassifier(build_mlp, **{**params, **kw})


def _optimizer_state(model):
    return [v.numpy() for v in model.optimizer.variables]


@pytest.mark.keras
def test_keras_continued_to_6_epochs_scores_like_6_from_scratch(digits, keras_state):
    X, y = digits
    train, test = slice(0, 300), slice(300, None)
    steps = int(np.ceil(300 / 32))
    small = fit_to_budget(_keras_clf(), X[train], y[train], resource="epochs", budget=2)
    model = small.estimator.model_
    traced = model.train_function
    continued = fit_to_budget(
        _keras_clf(), X[train], y[train], resource="epochs", budget=6,
        previous=small.estimator,
    )
    scratch = fit_to_budget(_keras_clf(), X[train], y[train], resource="epochs", budget=6)
    clf = continued.estimator
    assert (continued.trained, continued.continued) == (4, True)
    assert clf.model_ is model and model.train_function is traced  # no new tracing
    assert int(model.optimizer.iterations) == 6 * steps
    assert int(scratch.estimator.model_.optimizer.iterations) == 6 * steps
    assert clf.epochs == 6 and len(clf.history_["loss"]) == 6
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert not clf.warm_start
    assert clf.score(X[test], y[test]) == pytest.approx(
        scratch.estimator.score(X[test], y[test]), abs=0.06
    )


@pytest.mark.keras
def test_keras_last_step_of_a_pipeline_continues(digits, keras_state):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), _keras_clf())
    resource = "kerasclassifier__epochs"
    assert resource_param(pipe, resource) == resource
    assert continuation_kind(pipe, resource) == "epochs"
    small = fit_to_budget(pipe, X, y, resource=resource, budget=1).estimator
    model = small[-1].model_
    continued = fit_to_budget(pipe, X, y, resource=resource, budget=3, previous=small)
    assert continued.trained == 2 and continued.estimator[-1].model_ is model
    assert int(model.optimizer.iterations) == 3 * int(np.ceil(len(X) / 32))
    assert continued.estimator.get_params()[resource] == 3


@pytest.mark.keras
def test_keras_wrappers_estimator_continues_with_its_optimizer(digits, keras_state):
    import keras

    from skautosearch.keras import SKLearnClassifier

    def build(X, y, units=16):
        model = keras.Sequential(
            [
                keras.Input(X.shape[1:]),
                keras.layers.Dense(units, activation="relu"),
                keras.layers.Dense(y.shape[1], activation="softmax"),
            ]
        )
        model.compile(loss="categorical_crossentropy", optimizer="adam")
        return model

    X, y = digits
    clf = SKLearnClassifier(build, fit_kwargs={"epochs": 1, "verbose": 0, "shuffle": False})
    assert continuation_kind(clf, "fit_kwargs__epochs") == "epochs"
    assert resource_param(clf, "fit_kwargs__epochs") == "fit_kwargs__epochs"
    with pytest.raises(ValueError, match="resource='fit_kwargs__epochs'"):
        resource_param(SKLearnClassifier(build), "fit_kwargs__epochs")
    small = fit_to_budget(clf, X, y, resource="fit_kwargs__epochs", budget=2).estimator
    continued = fit_to_budget(
        clf, X, y, resource="fit_kwargs__epochs", budget=5, previous=small
    )
    steps = int(np.ceil(len(X) / 32))
    assert continued.trained == 3
    assert int(continued.estimator.model_.optimizer.iterations) == 5 * steps
    assert continued.estimator.fit_kwargs == {"epochs": 5, "verbose": 0, "shuffle": False}
    assert continued.estimator.history_.epoch == [2, 3, 4]


@pytest.mark.keras
def test_keras_store_round_trip_keeps_weights_and_optimizer_state(
    digits, tmp_path, keras_state
):
    from skautosearch.keras import clear_model_pool

    X, y = digits
    clf = fit_to_budget(_keras_clf(), X, y, resource="epochs", budget=2).estimator
    weights, state = clf.model_.get_weights(), _optimizer_state(clf.model_)
    with ModelStore(tmp_path, in_memory=False) as store:
        store.save(("c", 0), clf)
        clear_model_pool()
        loaded = store.load(("c", 0))  # nothing idle to adopt: its own model
        for a, b in zip(weights + state, loaded.model_.get_weights() + _optimizer_state(
            loaded.model_
        )):
            np.testing.assert_array_equal(a, b)
        assert int(loaded.model_.optimizer.iterations) == 2 * int(np.ceil(len(X) / 32))
        np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
        continued = fit_to_budget(
            _keras_clf(), X, y, resource="epochs", budget=3, previous=loaded
        )
        assert int(continued.estimator.model_.optimizer.iterations) == 3 * int(
            np.ceil(len(X) / 32)
        )


@pytest.mark.keras
def test_a_loaded_keras_model_moves_into_an_idle_traced_one(digits, tmp_path, keras_state):
    import gc

    from skautosearch.keras import clear_model_pool, model_pool_info

    X, y = digits
    gc.collect()  # earlier tests' garbage gives its models back now, not below
    clear_model_pool()
    clf = fit_to_budget(_keras_clf(), X, y, resource="epochs", budget=1).estimator
    expected = clf.predict_proba(X)
    state = _optimizer_state(clf.model_)
    with ModelStore(tmp_path, in_memory=False) as store:
        store.save(("c", 0), clf)
        traced = clf.model_
        del clf
        gc.collect()  # the fold estimator is dropped: its traced model goes idle
        assert model_pool_info()["idle_models"] == 1
        hits = model_pool_info()["hits"]
        loaded = store.load(("c", 0))
        assert model_pool_info()["hits"] == hits + 1
        assert loaded.model_ is traced
        for a, b in zip(state, _optimizer_state(loaded.model_)):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6)


@pytest.mark.keras
def test_a_live_fold_model_lends_its_traced_model_to_the_next_fit(
    digits, tmp_path, keras_state
):
    import gc

    from skautosearch.keras import clear_model_pool

    X, y = digits
    gc.collect()
    clear_model_pool()
    with ModelStore(tmp_path) as store:
        first = fit_to_budget(_keras_clf(), X, y, resource="epochs", budget=1).estimator
        expected, traced = first.predict_proba(X), first.model_
        store.save(("c", 0), first)  # held live: no file, and its model stays busy
        assert not [p for p in store.folder.rglob("*") if p.is_file()]
        # The next fold of the same architecture finds no idle model: the live one
        # is written to disk and lends its traced model instead of a new trace.
        second = fit_to_budget(_keras_clf(), X[::2], y[::2], resource="epochs",
                               budget=1).estimator
        assert second.model_ is traced
        fresh = fit_to_budget(_keras_clf(), X[::2], y[::2], resource="epochs", budget=1)
        np.testing.assert_allclose(second.predict_proba(X),
                                   fresh.estimator.predict_proba(X), rtol=1e-6)
        loaded = store.load(("c", 0))  # read back from disk, as it was saved
        assert loaded is not first and loaded.model_ is not traced
        np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6)


def _fit_keras_and_save(store, key, X, y):
    fitted = fit_to_budget(_keras_clf(), X, y, resource="epochs", budget=2).estimator
    store.save(key, fitted)
    return fitted.predict_proba(X), int(fitted.model_.optimizer.iterations)


@pytest.mark.keras
def test_keras_model_saved_by_a_worker_continues_in_another_process(
    digits, tmp_path, keras_state
):
    X, y = digits
    store = ModelStore(tmp_path)
    [(proba, iterations)] = Parallel(n_jobs=2, backend="loky")(
        delayed(_fit_keras_and_save)(store, ("c", 0), X, y) for _ in range(1)
    )
    loaded = store.load(("c", 0))
    assert int(loaded.model_.optimizer.iterations) == iterations == 2 * int(
        np.ceil(len(X) / 32)
    )
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    continued = fit_to_budget(_keras_clf(), X, y, resource="epochs", budget=3, previous=loaded)
    assert int(continued.estimator.model_.optimizer.iterations) == iterations * 3 // 2
    store.close()
