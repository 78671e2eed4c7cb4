import pickle

import keras
import numpy as np
import pytest
from compression_helpers import make_cnn, make_mlp
from sklearn.dummy import DummyClassifier
from sklearn.frozen import FrozenEstimator

from skautosearch.compression import (
    MagnitudePruning,
    Quantization,
    QuantizedConv2D,
    QuantizedDense,
    load_model,
    quantize_model,
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


@pytest.mark.parametrize("dtype", ["int4", "float32", None, 8])
def test_unknown_dtype_fails_before_training(digits, dtype, monkeypatch):
    clf = make_mlp()
    monkeypatch.setattr(type(clf), "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ValueError, match="`dtype` must be one of"):
        Quantization(clf, dtype=dtype).fit(*digits)


def test_non_keras_estimator(digits):
    with pytest.raises(TypeError, match="`estimator`"):
        Quantization(DummyClassifier()).fit(*digits)
