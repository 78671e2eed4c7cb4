"""Searches with several objectives: scores against model costs (issue 7)."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV
from skautosearch.pareto import knee_point, objective_matrix, smallest_within_one_se

X, y = load_digits(return_X_y=True)
X, y = X[:600] / 16.0, y[:600]
CV = StratifiedKFold(3, shuffle=True, random_state=0)
PIPE = Pipeline([("select", PCA(n_components=8)),
                 ("clf", LogisticRegression(max_iter=200))])
# 6 x 4 = 24 candidates; the model's size grows with k.
GRID = {"select__n_components": [2, 4, 8, 16, 32, 64], "clf__C": [0.01, 0.1, 1.0, 10.0]}
OBJECTIVES = {"accuracy": "max", "n_params": "min"}
SEARCHES = {
    "genetic": lambda **kw: GeneticSearchCV(PIPE, GRID, population_size=6, **kw),
    "annealing": lambda **kw: AnnealingSearchCV(PIPE, GRID, **kw),
    "bayes": lambda **kw: BayesianSearchCV(PIPE, GRID, n_points=3, **kw),
}


def brute_force_front(F):
    """Rows of F (to minimise) that no other row dominates."""
    front = []
    for i, row in enumerate(F):
        dominated = any(np.all(other <= row) and np.any(other < row)
                        for j, other in enumerate(F) if j != i)
        if not dominated:
            front.append(i)
    return front


@pytest.fixture(scope="module")
def enumerated():
    """A genetic search over all 24 candidates, with both cost columns."""
    return GeneticSearchCV(
        PIPE, GRID, n_iter=24, population_size=6, cv=CV, random_state=0,
        objectives={"accuracy": "max", "n_params": "min", "size_bytes": "min"},
    ).fit(X, y)


def test_every_candidate_gets_its_costs_as_columns(enumerated):
    res = enumerated.cv_results_
    assert len(res["params"]) == 24
    for name in ("n_params", "size_bytes"):
        assert np.all(np.isfinite(res[f"mean_{name}"]))
        assert f"std_{name}" in res
    ks = np.array([p["select__n_components"] for p in res["params"]])
    n_params = np.asarray(res["mean_n_params"])
    # PCA keeps k x 64 values and LogisticRegression 10 x k: more components, more parameters.
    for k_small, k_large in [(2, 4), (8, 16), (32, 64)]:
        assert n_params[ks == k_small].max() < n_params[ks == k_large].min()


def test_the_front_is_the_brute_force_front(enumerated):
    res = enumerated.cv_results_
    F = np.column_stack([-np.asarray(res["mean_test_score"]), res["mean_n_params"],
                         res["mean_size_bytes"]])
    assert sorted(enumerated.pareto_front_.index) == brute_force_front(F)
    table = enumerated.pareto_front_.table
    assert list(table) == ["params", "accuracy", "n_params", "size_bytes"]
    assert len(table["params"]) == len(enumerated.pareto_front_.index)
    i = enumerated.pareto_front_.index[0]
    assert table["accuracy"][0] == res["mean_test_score"][i]
    assert table["params"][0] == res["params"][i]


@pytest.mark.parametrize("name", SEARCHES)
def test_each_search_finds_a_front_and_knee_refit_picks_its_knee(name):
    search = SEARCHES[name](n_iter=12, cv=CV, random_state=0, objectives=OBJECTIVES,
                            refit="knee").fit(X, y)
    res = search.cv_results_
    F = objective_matrix(res, OBJECTIVES)
    assert search.best_index_ == knee_point(F)
    assert search.best_index_ in search.pareto_front_.index
    assert search.refit == "knee"  # the user's parameter is left as it was
    assert search.best_estimator_.score(X, y) > 0.5
    assert len(search.pareto_front_.index) >= 2


def test_results_helpers_read_a_knee_search():
    pd = pytest.importorskip("pandas")
    from skautosearch.results import convergence, to_dataframe

    search = AnnealingSearchCV(
        PIPE, GRID, n_iter=6, cv=CV, random_state=0, refit="knee",
        scoring={"accuracy": "accuracy", "f1": "f1_macro"},
        objectives={"f1": "max", "n_params": "min"},
    ).fit(X, y)
    df = to_dataframe(search, sort_by="rank")
    assert isinstance(df, pd.DataFrame) and len(df) == 6
    n_fits, best = convergence(search)
    assert best[-1] == max(search.cv_results_["mean_test_f1"])


@pytest.mark.parametrize("name", ["annealing", "bayes"])
def test_user_weights_are_reproducible_and_change_the_search(name):
    params = dict(n_iter=10, cv=CV, random_state=0, objectives=OBJECTIVES)
    a = SEARCHES[name](objective_weights={"accuracy": 1.0, "n_params": 1.0}, **params)
    b = SEARCHES[name](objective_weights={"accuracy": 1.0, "n_params": 1.0}, **params)
    assert a.fit(X, y).cv_results_["params"] == b.fit(X, y).cv_results_["params"]
    small = SEARCHES[name](objective_weights={"accuracy": 0.01, "n_params": 1.0}, **params)
    small.fit(X, y)
    assert np.median(small.cv_results_["mean_n_params"]) <= np.median(
        a.cv_results_["mean_n_params"])


def test_the_one_standard_error_helper_refits_the_smallest_good_model():
    search = GeneticSearchCV(
        PIPE, GRID, n_iter=24, population_size=6, cv=CV, random_state=0,
        objectives=OBJECTIVES, refit=smallest_within_one_se("score", "n_params"),
    ).fit(X, y)
    res = search.cv_results_
    scores, sizes = np.asarray(res["mean_test_score"]), np.asarray(res["mean_n_params"])
    best = np.argmax(scores)
    threshold = scores[best] - res["std_test_score"][best] / np.sqrt(3)
    good = scores >= threshold
    assert sizes[search.best_index_] == sizes[good].min()
    assert sizes[search.best_index_] < sizes[best]


def test_nsga2_population_spreads_along_the_front():
    search = GeneticSearchCV(PIPE, GRID, n_iter=18, population_size=6, cv=CV, random_state=0,
                             objectives=OBJECTIVES).fit(X, y)
    ks = {p["select__n_components"] for p in search.cv_results_["params"]}
    # Not all in one corner: both small and large models were explored.
    assert min(ks) <= 4 and max(ks) >= 32


def test_resume_records_the_costs_too(tmp_path):
    path = tmp_path / "journal.jsonl"
    params = dict(n_iter=6, population_size=3, cv=CV, random_state=0,
                  objectives={"accuracy": "max", "size_bytes": "min"}, checkpoint=path)
    first = GeneticSearchCV(PIPE, GRID, **params).fit(X, y)
    again = GeneticSearchCV(PIPE, GRID, **params).fit(X, y)
    assert again.n_replayed_fits_ == 18
    np.testing.assert_array_equal(first.cv_results_["mean_size_bytes"],
                                  again.cv_results_["mean_size_bytes"])
    with pytest.raises(ValueError, match="the cost measures recorded"):
        GeneticSearchCV(PIPE, GRID, **{**params, "objectives": {"accuracy": "max",
                                                                "latency": "min"}}).fit(X, y)


class NeverFit(ClassifierMixin, BaseEstimator):
    def __init__(self, c=1.0):
        self.c = c

    def fit(self, X, y):
        raise AssertionError("no fit may run before the parameters are checked")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(objectives={"acuracy": "max", "n_params": "min"}), ValueError,
     "unknown objective 'acuracy'.*n_params, n_nonzero, size_bytes, latency.*accuracy"),
    (dict(objectives={"accuracy": "maximize"}), ValueError,
     "objectives\\['accuracy'\\] must be 'max' or 'min', got 'maximize'"),
    (dict(objectives=["accuracy"]), ValueError, "objectives"),
    (dict(objectives={"f1": "max", "size_bytes": "min"}, scoring="accuracy"), ValueError,
     "unknown objective 'f1'"),
    (dict(objectives={"accuracy": "max", "size_bytes": "min"},
          objective_weights={"accuracy": 1.0}), ValueError, "objective_weights must give"),
    (dict(objectives={"accuracy": "max", "size_bytes": "min"},
          objective_weights={"accuracy": 1.0, "size_bytes": -1}), ValueError,
     "objective_weights\\['size_bytes'\\] must be a finite number > 0"),
    (dict(objective_weights={"accuracy": 1.0}), ValueError, "objective_weights needs"),
    (dict(refit="knee"), ValueError, "refit='knee' needs objectives"),
])
def test_bad_objectives_are_rejected_before_any_fit(kwargs, error, match):
    search = GeneticSearchCV(NeverFit(), {"c": [1.0, 2.0]}, n_iter=2, population_size=2,
                             elitism=0, **kwargs)
    with pytest.raises(error, match=match):
        search.fit(X, y)


def test_multimetric_scorers_can_be_objectives():
    search = AnnealingSearchCV(
        PIPE, GRID, n_iter=8, cv=CV, random_state=0,
        scoring={"accuracy": "accuracy", "f1": "f1_macro"}, refit="accuracy",
        objectives={"f1": "max", "latency": "min"},
    ).fit(X, y)
    assert np.all(np.asarray(search.cv_results_["mean_latency"]) > 0)
    front = search.pareto_front_
    assert set(front.table) == {"params", "f1", "latency"}
