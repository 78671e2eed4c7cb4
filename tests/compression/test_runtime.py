import pickle

import numpy as np
import pytest
from compression_helpers import make_cnn, make_mlp
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skautosearch.compression import LiteRTModel, LiteRTQuantization
from skautosearch.costs import measure_costs

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def fitted_cnn(digits):
    return make_cnn(epochs=2).fit(*digits)


def _tensor_dtypes(served):
    served.predict_on_batch(np.zeros((1, 64), "float32"))
    return {str(np.dtype(t["dtype"])) for t in served._interpreter.get_tensor_details()}


def test_int8_model_runs_integer_kernels_and_predicts_like_keras(fitted_cnn, digits, tmp_path):
    X, y = digits
    served = LiteRTQuantization(FrozenEstimator(fitted_cnn), validation_fraction=None).fit(X, y)
    assert isinstance(served.model_, LiteRTModel)
    assert "int8" in _tensor_dtypes(served.model_)  # weights and activations
    proba = served.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=0.02)
    keras_proba = fitted_cnn.predict_proba(X)
    assert np.abs(proba - keras_proba).max() < 0.15
    assert np.mean(served.predict(X) == fitted_cnn.predict(X)) > 0.85
    report = served.compression_report_
    assert report["after"]["keras_bytes"] == len(served.model_.content)
    assert report["before"]["keras_bytes"] > 3 * report["after"]["keras_bytes"]
    assert report["after"]["n_params"] == report["before"]["n_params"]
    restored = pickle.loads(pickle.dumps(served))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    path = served.save(tmp_path / "m.tflite")
    assert open(path, "rb").read() == served.model_.content
    with pytest.raises(ValueError, match="path"):
        served.save(tmp_path / "m.keras")


def test_float32_model_is_the_keras_model(fitted_cnn, digits):
    X, y = digits
    served = LiteRTQuantization(FrozenEstimator(fitted_cnn), dtype="float32",
                                validation_fraction=None).fit(X, y)
    assert "int8" not in _tensor_dtypes(served.model_)
    np.testing.assert_allclose(served.predict_proba(X), fitted_cnn.predict_proba(X), atol=1e-4)


def test_latency_cost_is_measured_through_the_interpreter(digits, monkeypatch):
    X, y = digits
    pipe = make_pipeline(FunctionTransformer(),
                         LiteRTQuantization(make_mlp(hidden=(8,)), validation_fraction=None))
    assert clone(pipe).get_params()["litertquantization__dtype"] == "int8"
    pipe.set_params(litertquantization__num_threads=2)
    pipe.fit(X, y)
    assert pipe[-1].model_.num_threads == 2
    calls = []
    original = LiteRTModel.predict_on_batch
    monkeypatch.setattr(LiteRTModel, "predict_on_batch",
                        lambda self, x: calls.append(len(x)) or original(self, x))
    costs = measure_costs(pipe, X[:100], ["latency", "size_bytes"])
    assert calls and sum(calls) >= 100
    assert costs["size_bytes"] == len(pipe[-1].model_.content)


def test_bad_settings_fail_before_training(digits, monkeypatch):
    clf = make_mlp()
    monkeypatch.setattr(type(clf), "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(ValueError, match="dtype"):
        LiteRTQuantization(clf, dtype="int4").fit(*digits)
    with pytest.raises(TypeError, match="`estimator`"):
        LiteRTQuantization(LogisticRegression()).fit(*digits)
