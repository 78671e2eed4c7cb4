import pickle

import keras
import numpy as np
import pytest
from compression_helpers import kernels, make_mlp, make_sequential, zero_fraction
from sklearn.linear_model import LogisticRegression

from skautosearch.compression import MagnitudePruning
from skautosearch.compression.pruning import polynomial_sparsity

pytestmark = pytest.mark.keras


def test_global_sparsity_reached_and_survives_pickle(digits):
    X, y = digits
    clf = make_mlp(scikeras=True)
    pruned = MagnitudePruning(
        clf, sparsity=0.8, pruning_epochs=2, fine_tune_epochs=1, random_state=0
    ).fit(X, y)
    assert not hasattr(clf, "model_")  # the user's estimator is untouched
    assert zero_fraction(kernels(pruned.model_)) == pytest.approx(0.8, abs=0.002)
    biases = [w for w in pruned.model_.weights if len(w.shape) == 1]
    assert all(np.count_nonzero(keras.ops.convert_to_numpy(b)) > 0 for b in biases)
    restored = pickle.loads(pickle.dumps(pruned))
    for a, b in zip(kernels(pruned.model_), kernels(restored.model_)):
        np.testing.assert_array_equal(a == 0, b == 0)
    np.testing.assert_array_equal(restored.predict(X), pruned.predict(X))
    report = pruned.compression_report_
    assert (
        report["after"]["n_nonzero_params"] < 0.3 * report["before"]["n_nonzero_params"]
    )
    assert report["after"]["keras_gzip_bytes"] < report["before"]["keras_gzip_bytes"]


def test_layer_scope_and_dict_prune_each_layer_to_its_target(digits):
    X, y = digits
    pruned = MagnitudePruning(
        make_mlp(), sparsity=0.5, scope="layer", pruning_epochs=1, fine_tune_epochs=0
    ).fit(X, y)
    for kernel in kernels(pruned.model_):
        assert zero_fraction([kernel]) == pytest.approx(0.5, abs=0.01)
    only = MagnitudePruning(
        make_mlp(), sparsity={"dense_0": 0.9}, pruning_epochs=0, fine_tune_epochs=1
    ).fit(X, y)
    assert only.sparsity_["dense_0"] == pytest.approx(0.9, abs=0.01)
    assert (
        zero_fraction(
            [keras.ops.convert_to_numpy(only.model_.get_layer("output").kernel)]
        )
        < 0.05
    )


def test_keras_wrapper_is_supported(digits):
    X, y = digits
    clf = make_sequential([keras.layers.Dense(16, activation="relu")])
    pruned = MagnitudePruning(
        clf,
        sparsity=0.6,
        pruning_epochs=1,
        fine_tune_epochs=0,
        validation_fraction=None,
    ).fit(X, y)
    assert pruned.sparsity_["__all__"] == pytest.approx(0.6, abs=0.01)
    assert np.isnan(pruned.compression_report_["after"]["score"])
    assert set(pruned.predict(X)) <= set(y)


def test_polynomial_schedule():
    assert polynomial_sparsity(0, 10, 0.0, 0.8) == 0.0
    assert polynomial_sparsity(10, 10, 0.0, 0.8) == pytest.approx(0.8)
    assert polynomial_sparsity(20, 10, 0.0, 0.8) == pytest.approx(0.8)
    steps = [polynomial_sparsity(t, 10, 0.0, 0.8) for t in range(11)]
    assert np.all(np.diff(steps) > 0) and np.all(
        np.diff(steps, 2) < 0
    )  # fast first, then slow


@pytest.mark.parametrize("sparsity", [1.0, -0.1, 1.5, "0.5", {"dense_0": 1.0}])
def test_bad_sparsity_fails_before_training(digits, sparsity, monkeypatch):
    clf = make_mlp()
    monkeypatch.setattr(type(clf), "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ValueError, match="sparsity"):
        MagnitudePruning(clf, sparsity=sparsity).fit(*digits)


def test_unknown_layer_in_sparsity_dict(digits):
    with pytest.raises(ValueError, match="sparsity.*nope"):
        MagnitudePruning(make_mlp(), sparsity={"nope": 0.5}).fit(*digits)


def test_non_keras_estimator_is_refused(digits):
    with pytest.raises(TypeError, match="`estimator` must be a Keras-backed estimator"):
        MagnitudePruning(LogisticRegression()).fit(*digits)
