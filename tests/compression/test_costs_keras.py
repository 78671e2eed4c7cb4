"""skautosearch.costs on Keras-backed estimators (the scikit-learn cases: tests/test_costs.py)."""

import keras
import numpy as np
import pytest
from compression_helpers import make_mlp, make_sequential
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skautosearch import costs as costs_module
from skautosearch.compression import MagnitudePruning
from skautosearch.costs import COST_MEASURES, _inference_copy, measure_costs

pytestmark = pytest.mark.keras


def _saved_size(model, tmp_path):
    path = tmp_path / "model.keras"
    _inference_copy(model).save(path)
    return path.stat().st_size


def test_keras_wrappers_count_weights_and_size_the_keras_file(digits, tmp_path,
                                                             monkeypatch):
    X, y = digits
    reads = iter(range(100))  # a clock that moves one second a read
    monkeypatch.setattr(costs_module, "perf_counter", lambda: float(next(reads)))
    scikeras = make_mlp(hidden=(16,)).fit(X[:200], y[:200])
    n_weights = 64 * 16 + 16 + 16 * 10 + 10
    costs = measure_costs(scikeras, X[200:], COST_MEASURES)
    assert costs["n_params"] == scikeras.model_.count_params() == n_weights
    assert costs["n_nonzero"] == sum(np.count_nonzero(w)
                                     for w in scikeras.model_.get_weights())
    assert costs["size_bytes"] == _saved_size(scikeras.model_, tmp_path)
    assert costs["latency"] == 1 / len(X[200:])  # one timed predict of the fold
    sequential = make_sequential([keras.layers.Dense(4)]).fit(X[:200], y[:200])
    costs = measure_costs(sequential, X[200:], ["n_params", "size_bytes"])
    assert costs["n_params"] == 64 * 4 + 4 + 4 * 10 + 10
    assert costs["size_bytes"] == _saved_size(sequential.model_, tmp_path)


def test_pipeline_sizes_only_its_keras_model(digits, tmp_path):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), make_mlp(hidden=(8,))).fit(X[:200], y[:200])
    costs = measure_costs(pipe, X[200:], ["n_params", "size_bytes"])
    model = pipe[-1].model_
    assert costs["n_params"] == model.count_params() + 3 * 64  # + the scaler's arrays
    assert costs["size_bytes"] == _saved_size(model, tmp_path)


def test_compressors_reuse_their_report(digits):
    X, y = digits
    pruned = MagnitudePruning(make_mlp(hidden=(16,)), sparsity=0.5, pruning_epochs=1,
                              fine_tune_epochs=1, random_state=0).fit(X, y)
    after = pruned.compression_report_["after"]
    costs = measure_costs(pruned, X, ["n_params", "n_nonzero", "size_bytes"])
    assert costs == {"n_params": after["n_params"], "n_nonzero": after["n_nonzero_params"],
                     "size_bytes": after["keras_bytes"]}
    assert costs["n_nonzero"] < 0.6 * costs["n_params"]


def test_gzip_bytes_sees_the_zeros_of_magnitude_pruning(digits):
    X, y = digits
    dense = make_mlp(hidden=(32,)).fit(X, y)
    pruned = MagnitudePruning(make_mlp(hidden=(32,)), sparsity=0.9, pruning_epochs=1,
                              fine_tune_epochs=0, random_state=0).fit(X, y)
    names = ["size_bytes", "gzip_bytes"]
    before, after = measure_costs(dense, X, names), measure_costs(pruned, X, names)
    assert after["gzip_bytes"] == pruned.compression_report_["after"]["keras_gzip_bytes"]
    assert after["size_bytes"] > 0.9 * before["size_bytes"]  # zeros are stored...
    assert after["gzip_bytes"] < 0.7 * before["gzip_bytes"]  # ...and compress
