import pickle

import keras
import numpy as np
import pytest
from compression_helpers import make_cnn, make_mlp
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautosearch.compression import (
    MagnitudePruning,
    Quantization,
    QuantizedConv2D,
    QuantizedDense,
    load_model,
    quantize_model,
)
from skautosearch.compression._base import weight_bytes
from skautosearch.compression._lowbit import (
    fake_quantize,
    lowbit_levels,
    pack,
    packed_size,
    unpack,
)
from skautosearch.compression.quantization import quantize_int8

pytestmark = pytest.mark.keras


def _kernel_dtypes(model):
    return {
        layer.name: str(layer._qkernel.dtype)
        for layer in model.layers
        if isinstance(layer, (QuantizedDense, QuantizedConv2D))
    }


@pytest.fixture(scope="module")
def fitted_cnn(digits):
    return make_cnn(epochs=2).fit(*digits)


@pytest.mark.parametrize("dtype", ["int8", "float16"])
def test_quantize_model_stores_kernels_in_new_dtype(
    fitted_cnn, digits, dtype, tmp_path
):
    X, _ = digits
    model = fitted_cnn.model_
    quantized, _ = quantize_model(model, dtype, calibration_data=X[:64])
    assert _kernel_dtypes(quantized) == dict.fromkeys(
        ["conv_0", "conv_1", "dense", "output"], dtype
    )
    assert all(
        str(w.dtype) == "float32" for w in model.weights
    )  # the original is untouched
    np.testing.assert_allclose(
        quantized.predict_on_batch(X), model.predict_on_batch(X), atol=0.05
    )
    path = tmp_path / "q.keras"
    quantized.save(path)
    loaded = load_model(path)
    assert _kernel_dtypes(loaded) == _kernel_dtypes(quantized)
    np.testing.assert_array_equal(
        loaded.predict_on_batch(X), quantized.predict_on_batch(X)
    )


def test_frozen_fitted_estimator_is_compressed_without_training(
    fitted_cnn, digits, monkeypatch
):
    X, y = digits
    weights = [w.copy() for w in fitted_cnn.model_.get_weights()]
    monkeypatch.setattr(type(fitted_cnn), "fit", lambda *a, **k: pytest.fail("trained"))
    q = Quantization(FrozenEstimator(fitted_cnn), dtype="float16").fit(X, y)
    assert q.model_ is not fitted_cnn.model_
    for before, after in zip(weights, fitted_cnn.model_.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert q.compression_report_["before"]["score"] == pytest.approx(
        q.compression_report_["after"]["score"], abs=0.03
    )


def test_int8_per_channel_round_trip():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 2, 5)).astype("float32")
    kernel[..., 4] *= 100  # a channel with a much larger range keeps its own scale
    q, scale = quantize_int8(kernel)
    assert q.dtype == np.int8 and scale.shape == (5,)
    assert np.abs(q).max(axis=(0, 1, 2)).tolist() == [127] * 5
    np.testing.assert_allclose(q * scale, kernel, atol=scale.max() / 2 + 1e-6)
    assert np.abs(q[..., 0] * scale[0] - kernel[..., 0]).max() <= scale[0] / 2 + 1e-6


def test_quantization_of_pruned_model_keeps_zeros_and_pickles(digits, tmp_path):
    X, y = digits
    est = Quantization(
        MagnitudePruning(
            make_mlp(), sparsity=0.7, pruning_epochs=1, fine_tune_epochs=0
        ),
        dtype="int8",
        calibration="train",
        random_state=0,
    ).fit(X, y)
    kernel = keras.ops.convert_to_numpy(est.model_.get_layer("dense_0")._qkernel)
    assert kernel.dtype == np.int8
    assert 1 - np.count_nonzero(kernel) / kernel.size >= 0.6
    assert set(est.clips_) == {"dense_0", "output"}
    report = est.compression_report_
    assert report["after"]["keras_bytes"] < report["before"]["keras_bytes"]
    assert report["before"]["n_nonzero_params"] < 0.5 * report["before"]["n_params"]
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))
    path = est.save(tmp_path / "model.keras")
    np.testing.assert_array_equal(
        load_model(path).predict_on_batch(X), est.model_.predict_on_batch(X)
    )
    with pytest.raises(ValueError, match="path"):
        est.save(tmp_path / "model.h5")


@pytest.mark.parametrize("dtype", ["int2", "float32", None, 8])
def test_unknown_dtype_fails_before_training(digits, dtype, monkeypatch):
    clf = make_mlp()
    monkeypatch.setattr(type(clf), "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ValueError, match="`dtype` must be one of"):
        Quantization(clf, dtype=dtype).fit(*digits)


def test_non_keras_estimator(digits):
    with pytest.raises(TypeError, match="`estimator`"):
        Quantization(DummyClassifier()).fit(*digits)


# --------------------------------------------------------------------------- low-bit


@pytest.mark.parametrize("dtype, low, high", [("int4", -7, 7), ("ternary", -1, 1),
                                              ("binary", -1, 1)])
@pytest.mark.parametrize("n", [1, 7, 40, 41])
def test_pack_unpack_round_trip(dtype, low, high, n):
    levels = np.random.default_rng(n).integers(low, high + 1, size=n)
    if dtype == "binary":
        levels = np.where(levels >= 0, 1, -1)
    packed = pack(levels, dtype)
    assert packed.dtype == np.uint8 and packed.size == packed_size(n, dtype)
    assert packed.size == -(-n // {"int4": 2, "ternary": 5, "binary": 8}[dtype])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(unpack(packed, dtype, n)),
                                  levels)


def test_low_bit_levels_and_scales():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 5)).astype("float32")
    levels, scale = (keras.ops.convert_to_numpy(a) for a in lowbit_levels(kernel, "binary"))
    assert set(np.unique(levels)) == {-1, 1} and scale.shape == (1, 5)
    np.testing.assert_allclose(scale[0], np.abs(kernel).reshape(36, 5).mean(axis=0), rtol=1e-6)
    levels, scale = (keras.ops.convert_to_numpy(a) for a in lowbit_levels(kernel, "ternary"))
    assert set(np.unique(levels)) == {-1, 0, 1} and scale.shape == (1, 5)
    levels, scale = (keras.ops.convert_to_numpy(a)
                     for a in lowbit_levels(kernel, "int4", group_size=8))
    assert levels.min() >= -7 and levels.max() <= 7 and scale.shape == (5, 5)  # ceil(36 / 8)
    error = np.abs(levels * np.repeat(scale, 8, axis=0)[:36] - kernel.reshape(36, 5))
    assert error.max() <= np.repeat(scale, 8, axis=0)[:36].max() / 2 + 1e-6


@pytest.mark.parametrize("dtype, group_size, ratio", [("int4", None, 7), ("int4", 16, 5),
                                                      ("ternary", None, 14),
                                                      ("binary", None, 20)])
def test_low_bit_cnn_is_packed_and_saves_safely(fitted_cnn, digits, dtype, group_size, ratio,
                                                 tmp_path):
    X, _ = digits
    model = fitted_cnn.model_
    quantized, _ = quantize_model(model, dtype, group_size=group_size)
    # Convolution kernels too (Keras's own int4 covers Dense layers only).
    assert _kernel_dtypes(quantized) == dict.fromkeys(["conv_0", "conv_1", "dense", "output"],
                                                      "uint8")
    for name in ("conv_1", "dense"):
        expected = fake_quantize(model.get_layer(name).kernel, dtype, group_size)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(quantized.get_layer(name).kernel),
                                   keras.ops.convert_to_numpy(expected), rtol=1e-6, atol=1e-7)
    kernel_bytes = sum(4 * int(np.prod(layer.kernel.shape)) for layer in model.layers
                       if hasattr(layer, "kernel"))
    packed_bytes = sum(layer._qkernel.shape[0] + 4 * int(np.prod(layer.kernel_scale.shape))
                       for layer in quantized.layers if hasattr(layer, "_qkernel"))
    assert kernel_bytes / packed_bytes > ratio
    assert weight_bytes(model) - weight_bytes(quantized) == kernel_bytes - packed_bytes
    path = tmp_path / f"{dtype}.keras"
    quantized.save(path)
    loaded = load_model(path)  # safe_mode=True
    assert _kernel_dtypes(loaded) == _kernel_dtypes(quantized)
    assert loaded.get_layer("dense").get_config()["weight_dtype"] == dtype
    np.testing.assert_array_equal(loaded.predict_on_batch(X), quantized.predict_on_batch(X))


def test_straight_through_gradient_is_the_quantized_layers():
    import tensorflow as tf

    from skautosearch.compression._lowbit import _TRAINABLE

    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4)).astype("float32")
    kernel = rng.normal(size=(4, 3)).astype("float32")
    ste = _TRAINABLE[keras.layers.Dense](3, use_bias=False)
    ste.lowbit_dtype = "binary"
    ste.build((None, 4))
    ste.set_weights([kernel])
    plain = keras.layers.Dense(3, use_bias=False)
    plain.build((None, 4))
    plain.set_weights([keras.ops.convert_to_numpy(fake_quantize(kernel, "binary"))])
    grads, outputs = [], []
    for layer in (ste, plain):
        with tf.GradientTape() as tape:
            out = layer(x)
            loss = tf.reduce_sum(out**2)
        grads.append(tape.gradient(loss, layer.trainable_variables[0]).numpy())
        outputs.append(out.numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5)  # forward: binary kernel
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5)  # gradient passes straight


def test_binary_fine_tuning_trains_then_binarises(digits):
    X, y = digits
    kwargs = dict(dtype="binary", validation_fraction=None, random_state=0)
    tuned = Quantization(make_mlp(epochs=2), fine_tune_epochs=2, **kwargs).fit(X, y)
    plain = Quantization(make_mlp(epochs=2), fine_tune_epochs=0, **kwargs).fit(X, y)
    kernel = keras.ops.convert_to_numpy(tuned.model_.get_layer("dense_0").kernel)
    for column in kernel.T:  # {-a, +a} in every output channel
        assert len(np.unique(column)) == 2 and np.unique(column).sum() == pytest.approx(0)
    assert not np.allclose(kernel, plain.model_.get_layer("dense_0").kernel)
    assert tuned.score(X, y) > plain.score(X, y)
    report = tuned.compression_report_
    assert report["before"]["weight_bytes"] / report["after"]["weight_bytes"] > 10


def test_low_bit_in_a_pipeline_under_a_search(digits, tmp_path):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), Quantization(make_mlp(), fine_tune_epochs=1,
                                                        validation_fraction=None))
    assert clone(pipe).get_params()["quantization__fine_tune_epochs"] == 1
    pipe.set_params(quantization__dtype="ternary", quantization__group_size=8)
    assert pipe[-1].dtype == "ternary" and clone(pipe)[-1].group_size == 8
    grid = {"quantization__dtype": ["ternary", "binary"]}
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(2)).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_[-1]
    assert best.dtype == search.best_params_["quantization__dtype"]
    assert str(best.model_.get_layer("dense_0")._qkernel.dtype) == "uint8"
    restored = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))
    np.testing.assert_array_equal(
        load_model(best.save(tmp_path / "m.keras")).predict_on_batch(X[:5]),
        best.model_.predict_on_batch(X[:5]))


def test_bad_group_size_fails_before_training(digits, monkeypatch):
    clf = make_mlp()
    monkeypatch.setattr(type(clf), "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ValueError, match="group_size"):
        Quantization(clf, dtype="int4", group_size=0).fit(*digits)
