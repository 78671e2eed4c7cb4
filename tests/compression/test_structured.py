import keras
import numpy as np
import pytest
from compression_helpers import make_cnn, make_mlp, make_sequential
from sklearn.svm import SVC

from skautosearch.compression import StructuredPruning
from skautosearch.compression.structured import _shrink, plan_pruning

pytestmark = pytest.mark.keras


def _units(model):
    return {
        layer.name: getattr(layer, "units", getattr(layer, "filters", None))
        for layer in model.layers
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D))
    }


def test_cnn_really_loses_filters_units_and_parameters(digits):
    X, y = digits
    pruned = StructuredPruning(
        make_cnn(), fraction=0.5, fine_tune_epochs=1, random_state=0
    ).fit(X, y)
    assert _units(pruned.model_) == {"conv_0": 2, "conv_1": 4, "dense": 8, "output": 10}
    assert pruned.units_ == {"conv_0": (4, 2), "conv_1": (8, 4), "dense": (16, 8)}
    report = pruned.compression_report_
    assert (
        report["after"]["n_params"]
        == pruned.model_.count_params()
        < report["before"]["n_params"] / 2.5
    )
    assert set(pruned.predict(X)) <= set(y)


def _stack():
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Reshape((3, 2)),
            keras.layers.Conv1D(4, 2, activation="relu", name="conv"),
            keras.layers.BatchNormalization(name="bn"),
            keras.layers.Flatten(),
            keras.layers.Dense(5, activation="relu", name="hidden"),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )


def test_shrink_keeps_the_function_of_the_surviving_units():
    model = _stack()
    rng = np.random.default_rng(0)
    model.set_weights(
        [rng.normal(size=w.shape).astype("float32") for w in model.get_weights()]
    )
    X = rng.normal(size=(7, 6)).astype("float32")
    whole = _shrink(model, {"conv": np.arange(4), "hidden": np.arange(5)})
    np.testing.assert_allclose(
        whole.predict_on_batch(X), model.predict_on_batch(X), rtol=1e-5, atol=1e-6
    )
    # Silence a filter and a unit by hand: removing them must not change the output.
    conv_k, conv_b = model.get_layer("conv").get_weights()
    conv_k[..., 1], conv_b[1] = 0, -5.0  # ReLU output exactly 0
    model.get_layer("conv").set_weights([conv_k, conv_b])
    hid_k, hid_b = model.get_layer("hidden").get_weights()
    hid_k[:, 3], hid_b[3] = 0, -1.0
    model.get_layer("hidden").set_weights([hid_k, hid_b])
    bn = model.get_layer("bn").get_weights()
    bn[1][1], bn[2][1] = (
        0.0,
        0.0,
    )  # beta and moving mean: BN(0) == 0 for the silent filter
    model.get_layer("bn").set_weights(bn)
    small = _shrink(
        model, {"conv": np.array([0, 2, 3]), "hidden": np.array([0, 1, 2, 4])}
    )
    assert small.count_params() < model.count_params()
    np.testing.assert_allclose(
        small.predict_on_batch(X), model.predict_on_batch(X), rtol=1e-5, atol=1e-6
    )


def test_plan_names_layers_that_cannot_be_sliced():
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(8, name="d1"),
            keras.layers.Reshape((4, 2), name="reshape"),
            keras.layers.LSTM(3),
            keras.layers.Dense(4, name="d2"),
            keras.layers.Dense(2, name="out"),
        ]
    )
    prunable, blockers = plan_pruning(model)
    assert prunable == ["d2"]
    assert blockers == {"reshape": ("Reshape", "d1")}


def test_unsupported_layer_raises_or_is_skipped(digits):
    X, y = digits
    layers = [
        keras.layers.Dense(16, name="d1"),
        keras.layers.Reshape((4, 4), name="reshape"),
        keras.layers.LSTM(4, name="lstm"),
        keras.layers.Dense(8, name="d2"),
    ]
    with pytest.raises(
        ValueError, match=r"'reshape' \(Reshape\) after 'd1'.*on_unsupported"
    ):
        StructuredPruning(make_sequential(layers)).fit(X, y)
    with pytest.warns(UserWarning, match="d1"):
        pruned = StructuredPruning(
            make_sequential(layers),
            on_unsupported="skip",
            fine_tune_epochs=0,
            validation_fraction=None,
        ).fit(X, y)
    assert pruned.units_ == {"d2": (8, 4)} and "d1" in pruned.skipped_
    assert pruned.model_.get_layer("d1").units == 16


def test_activation_criterion_removes_dead_units(digits):
    X, y = digits
    clf = make_mlp(hidden=(8,), epochs=1)
    pruned = StructuredPruning(
        clf,
        fraction=0.5,
        criterion="activation",
        fine_tune_epochs=0,
        validation_fraction=None,
        random_state=0,
    )
    pruned.fit(X, y)
    assert pruned.model_.get_layer("dense_0").units == 4


@pytest.mark.parametrize("fraction", [1.0, -0.5, 2, "half"])
def test_bad_fraction(digits, fraction):
    with pytest.raises(ValueError, match="`fraction`"):
        StructuredPruning(make_mlp(), fraction=fraction).fit(*digits)


def test_non_keras_estimator(digits):
    with pytest.raises(TypeError, match="`estimator`"):
        StructuredPruning(SVC()).fit(*digits)
