import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from skautosearch import costs
from skautosearch.costs import COST_MEASURES, check_cost_names, measure_costs

X, y = load_digits(return_X_y=True)
X, y = X[:300], y[:300]


def _params(estimator):
    return measure_costs(estimator, X, ["n_params", "n_nonzero"])


def _tree_size(tree):
    t = tree.tree_
    return 4 * t.node_count + t.value.size


def test_linear_models_count_coef_and_intercept_only():
    model = LogisticRegression(max_iter=1000).fit(X, y)
    # classes_ and n_iter_ are arrays too, but they record the training
    assert _params(model)["n_params"] == model.coef_.size + model.intercept_.size == 650
    lasso = Lasso(alpha=0.5).fit(X, y)  # a scalar intercept_ counts one
    assert _params(lasso) == {"n_params": 64 + 1,
                              "n_nonzero": np.count_nonzero(lasso.coef_) + 1}
    assert _params(lasso)["n_nonzero"] < 40  # the L1 penalty zeroed many weights
    model.coef_[:, ::2] = 0
    model.sparsify()  # a sparse coef_ counts its stored values
    assert _params(model) == {"n_params": model.coef_.nnz + 10,
                              "n_nonzero": model.coef_.nnz + 10}
    assert model.coef_.nnz <= 320


def test_pipeline_and_union_add_up_their_steps():
    scaler, pca = StandardScaler().fit(X), PCA(5).fit(X)
    lr = LogisticRegression(max_iter=1000).fit(X, y)
    scaler_size = scaler.mean_.size + scaler.var_.size + scaler.scale_.size
    pca_size = sum(getattr(pca, a).size for a in
                   ("components_", "explained_variance_", "explained_variance_ratio_",
                    "singular_values_", "mean_")) + 1  # and noise_variance_, a float
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    assert _params(pipe)["n_params"] == scaler_size + 650
    union = make_pipeline(make_union(StandardScaler(), PCA(5)),
                          LogisticRegression(max_iter=1000)).fit(X, y)
    assert _params(union)["n_params"] == scaler_size + pca_size + 10 * (64 + 5) + 10
    assert _params(lr)["n_params"] == 650


def test_trees_forests_and_boosting_count_their_nodes():
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    assert _params(tree)["n_params"] == _tree_size(tree)
    forest = RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0).fit(X, y)
    assert _params(forest)["n_params"] == sum(map(_tree_size, forest.estimators_))
    boosting = GradientBoostingClassifier(n_estimators=2, max_depth=2).fit(X, y)
    trees = boosting.estimators_.ravel()  # an object array of regression trees
    init = boosting.init_.class_prior_.size  # the prior it starts from
    assert _params(boosting)["n_params"] == sum(map(_tree_size, trees)) + init


def test_hist_gradient_boosting_counts_its_private_trees():
    small = HistGradientBoostingClassifier(max_iter=2, random_state=0).fit(X, y)
    large = HistGradientBoostingClassifier(max_iter=6, random_state=0).fit(X, y)
    n_small, n_large = _params(small)["n_params"], _params(large)["n_params"]
    assert 0 < n_small < n_large


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mlp_svc_and_neighbours():
    mlp = MLPClassifier((7,), max_iter=20, random_state=0).fit(X, y)
    with_loss_curve = sum(w.size for w in mlp.coefs_ + mlp.intercepts_)
    assert _params(mlp)["n_params"] == with_loss_curve == 64 * 7 + 7 + 7 * 10 + 10
    svc = SVC().fit(X, y)
    assert _params(svc)["n_params"] >= svc.support_vectors_.size + svc.dual_coef_.size
    knn = KNeighborsClassifier().fit(X, y)  # the model is its training data
    assert _params(knn)["n_params"] == X.size + y.size


def test_an_array_reached_twice_is_counted_once():
    voting = VotingClassifier([("lr", LogisticRegression(max_iter=1000)),
                               ("tree", DecisionTreeClassifier(max_depth=2))]).fit(X, y)
    # estimators_ and named_estimators_ hold the same fitted models
    lr, tree = voting.estimators_
    assert _params(voting)["n_params"] == 650 + _tree_size(tree)


def test_size_bytes_is_the_pickled_size():
    small = LogisticRegression(max_iter=1000).fit(X, y)
    large = SVC().fit(X, y)
    for model in (small, large):
        size = measure_costs(model, X, "size_bytes")["size_bytes"]
        assert size == pytest.approx(len(pickle.dumps(model, protocol=5)), rel=0.01)
    assert (measure_costs(large, X, "size_bytes")["size_bytes"]
            > 10 * measure_costs(small, X, "size_bytes")["size_bytes"])


class _Clock:
    """A clock that advances one second each time it is read."""

    def __init__(self):
        self.reads = 0

    def __call__(self):
        self.reads += 1
        return float(self.reads)


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(costs, "perf_counter", fake)
    return fake


class _Recorder:
    """Not a scikit-learn estimator: no get_params; records the rows it predicts."""

    def __init__(self):
        self.calls = []

    def predict(self, X):
        self.calls.append(len(X))
        return np.zeros(len(X))


def test_latency_is_seconds_per_row_after_a_warm_up(clock):
    model = _Recorder()
    size = len(pickle.dumps(model, protocol=5))
    result = measure_costs(model, X[:100], COST_MEASURES)
    assert model.calls == [8, 100]  # 8 rows to warm up, untimed, then the fold
    assert clock.reads == 2  # around the one timed call
    assert result["latency"] == 1 / 100  # one (fake) second over 100 rows
    assert result["n_params"] == result["n_nonzero"] == 0  # nothing to count
    assert result["size_bytes"] == size  # measured before predict changed it


def test_latency_of_a_transformer_and_of_neither(clock):
    scaler = StandardScaler().fit(X)
    result = measure_costs(scaler, X, ["latency", "n_params"])
    assert list(result) == ["latency", "n_params"]
    assert result["latency"] == 1 / len(X)
    with pytest.raises(ValueError, match="'latency' cost needs predict or transform"):
        measure_costs(object(), X, ["latency"])


def test_best_of_repeats_and_no_warm_up(monkeypatch):
    # Three timed calls of 3, 1 and 2 seconds: the best one counts.
    monkeypatch.setattr(costs, "perf_counter", iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0]).__next__)
    model = _Recorder()
    assert costs._seconds_per_row(model.predict, X[:50], repeats=3, warm_up_rows=0) == 1 / 50
    assert model.calls == [50, 50, 50]


def test_unknown_names_are_named():
    with pytest.raises(ValueError, match=r"Unknown cost measure 'size'; valid names are "
                                         r"\['n_params', 'n_nonzero', 'size_bytes', "):
        measure_costs(LogisticRegression(), X, ["n_params", "size"])
    assert check_cost_names("latency") == ("latency",)
    assert check_cost_names(["latency", "n_params", "latency"]) == ("latency", "n_params")


def test_does_not_import_keras():
    code = ("import sys; from sklearn.linear_model import LogisticRegression;"
            "from skautosearch.costs import measure_costs;"
            "m = LogisticRegression().fit([[0], [1]], [0, 1]);"
            "measure_costs(m, [[0], [1]]);"
            "print(any(k in sys.modules for k in ('keras', 'tensorflow')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_docstring_examples_run():
    import doctest

    from skautosearch import costs

    failures, tried = doctest.testmod(costs)
    assert tried > 0 and failures == 0


def test_gzip_bytes_is_the_pickle_gzipped():
    import gzip

    model = LogisticRegression(max_iter=1000).fit(X, y)
    costs = measure_costs(model, X, ["size_bytes", "gzip_bytes"])
    assert costs["gzip_bytes"] == len(gzip.compress(pickle.dumps(model, protocol=5), 9))
    assert costs["gzip_bytes"] < costs["size_bytes"]
