"""KerasClassifier / KerasRegressor: tags, routing, exact model reuse, pickling."""

import pickle
import random

import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor

pytestmark = pytest.mark.keras

keras = pytest.importorskip("keras")
from scikeras.wrappers import KerasClassifier as SciKerasClassifier  # noqa: E402
from scikeras.wrappers import KerasRegressor as SciKerasRegressor  # noqa: E402

from skautosearch.keras import (  # noqa: E402
    KerasClassifier,
    KerasRegressor,
    build_mlp,
    clear_model_pool,
    model_pool_info,
)


def _clf(cls=KerasClassifier, **kw):
    params = dict(
        model__hidden_units=(8,),
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=0.01,
        epochs=1,
        batch_size=32,
        verbose=0,
        random_state=0,
    )
    return cls(build_mlp, **{**params, **kw})


def test_scikeras_is_not_a_classifier_but_ours_is():
    # The trap this package fixes, and the fix.
    assert not is_classifier(_clf(SciKerasClassifier))
    assert is_classifier(_clf())
    assert is_regressor(KerasRegressor(build_mlp, loss="mse"))
    assert not is_regressor(SciKerasRegressor(build_mlp, loss="mse"))
    assert _clf().__sklearn_tags__().classifier_tags.poor_score


def test_classifier_api(digits):
    X, y = digits
    clf = _clf().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(clf.predict(X)) <= set(range(10))


def test_routed_parameter_reaches_the_optimizer(digits):
    X, y = digits
    clf = _clf(optimizer__learning_rate=0.123).fit(X, y)
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.123)


def test_reused_model_gives_exactly_the_fresh_models_results(digits):
    """Fold after fold, candidate after candidate: same numbers as SciKeras."""
    X, y = digits
    clear_model_pool()
    for params in [
        dict(model__dropout=0.2),
        dict(model__dropout=0.2),
        dict(model__dropout=0.2, optimizer__learning_rate=0.05, batch_size=16),
    ]:
        ours = _clf(**params).fit(X[:160], y[:160])
        theirs = _clf(SciKerasClassifier, **params).fit(X[:160], y[:160])
        np.testing.assert_array_equal(
            ours.predict_proba(X[160:]), theirs.predict_proba(X[160:])
        )
        del ours
    assert (
        model_pool_info()["hits"] >= 2
    )  # the second and third fits reused the first's model


def test_a_live_estimators_model_is_never_reused(digits):
    X, y = digits
    clear_model_pool()
    first = _clf().fit(X, y)
    before = first.predict_proba(X)
    second = _clf(random_state=1).fit(X, y)
    assert second.model_ is not first.model_
    np.testing.assert_array_equal(first.predict_proba(X), before)


def test_global_random_state_is_restored(digits):
    X, y = digits
    random.seed(123)
    np.random.seed(123)
    expected_py, expected_np = random.random(), np.random.rand()
    random.seed(123)
    np.random.seed(123)
    _clf().fit(X, y)
    assert (random.random(), np.random.rand()) == (expected_py, expected_np)


def test_pickle_roundtrip_keeps_predictions(digits):
    X, y = digits
    clf = _clf().fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert isinstance(restored, KerasClassifier)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_clone_keeps_routed_parameters():
    clf = _clf(model__dropout=0.3)
    assert clone(clf).get_params()["model__dropout"] == 0.3


def test_regressor_fits(digits):
    X, y = digits
    reg = KerasRegressor(
        build_mlp,
        model__task="regression",
        model__hidden_units=(8,),
        loss="mse",
        epochs=1,
        verbose=0,
        random_state=0,
    ).fit(X, y.astype(float))
    assert reg.predict(X).shape == (len(X),)


def test_sparse_input_is_refused_with_a_clear_error(digits):
    import scipy.sparse as sp

    X, y = digits
    with pytest.raises(TypeError, match="dense data"):
        _clf().fit(sp.csr_matrix(X), y)


def test_a_fresh_model_traces_its_train_step_once(digits, variables_created_in_trace):
    """Keras creates optimizer and metric variables inside the first trace of
    its train step, which makes TensorFlow trace it twice; ours creates them
    before (a fifth of a budgeted architecture search's time)."""
    X, y = digits
    clear_model_pool()
    with variables_created_in_trace() as created_in_trace:
        clf = _clf(model__dropout=0.2).fit(X, y)
    assert created_in_trace == []
    assert clf.model_.optimizer.built
    # The same numbers as SciKeras, which lets Keras build them while tracing.
    theirs = _clf(SciKerasClassifier, model__dropout=0.2).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), theirs.predict_proba(X))


class _CountPredictBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_predict_batch_end(self, batch, logs=None):
        self.batches += 1


def test_fit_only_callbacks_keep_the_fast_predict(digits, monkeypatch):
    X, y = digits
    clf = _clf(callbacks=[keras.callbacks.EarlyStopping(monitor="loss")]).fit(X, y)
    expected = clf.predict_proba(X)

    def no_keras_predict(*args, **kwargs):
        raise AssertionError("Keras's predict was called")

    monkeypatch.setattr(clf.model_, "predict", no_keras_predict)
    np.testing.assert_array_equal(clf.predict_proba(X), expected)


def test_a_callback_that_watches_predict_still_sees_it(digits):
    X, y = digits
    counter = _CountPredictBatches()
    clf = _clf(callbacks=[counter], batch_size=40).fit(X, y)
    counter = clf._predict_callbacks[0]
    clf.predict(X)
    assert counter.batches > 0


def _worker_allowance(env_value):
    import os

    import joblib.externals.loky.process_executor as executor

    import skautosearch.keras  # noqa: F401  (what a worker unpickling an estimator does)
    from skautosearch.keras import configure_worker_memory

    after_import = executor._MAX_MEMORY_LEAK_SIZE
    os.environ["SKAUTOSEARCH_WORKER_MEMORY_GROWTH_MB"] = env_value
    try:
        return after_import, configure_worker_memory(), configure_worker_memory(100)
    finally:
        del os.environ["SKAUTOSEARCH_WORKER_MEMORY_GROWTH_MB"]


def test_a_loky_worker_may_grow_past_lokys_limit_before_it_is_replaced():
    # TensorFlow keeps ~8.5 MB per new architecture: at loky's 300 MB a worker
    # of an architecture search could be replaced after ~20 architectures.
    from joblib import Parallel, delayed

    from skautosearch.keras import configure_worker_memory

    assert configure_worker_memory() is None  # not a loky worker: nothing to change
    ((after_import, from_env, given),) = Parallel(n_jobs=2)(
        delayed(_worker_allowance)("900") for _ in range(1)
    )
    mb = 2**20
    assert 300 * mb <= after_import <= 2048 * mb
    assert from_env == 900 * mb
    assert given == 100 * mb  # a value given is taken as it is
