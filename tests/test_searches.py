"""Behaviour of the three searches, as a scikit-learn user relies on it."""

import pickle
import time

import numpy as np
import pytest
import sklearn
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_iris, make_classification
from sklearn.decomposition import PCA
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV, Integer, Real

X, y = load_iris(return_X_y=True)
CV = StratifiedKFold(3, shuffle=True, random_state=0)
STRATEGIES = {
    "genetic": (GeneticSearchCV, dict(population_size=4), "generation"),
    "annealing": (AnnealingSearchCV, dict(n_chains=2, n_initial_points=4), "chain"),
    "bayes": (BayesianSearchCV, dict(n_points=2, n_initial_points=4), "iteration"),
}
SVC_SPACE = {"C": Real(1e-2, 1e3, prior="log-uniform"),
             "gamma": Real(1e-4, 1e1, prior="log-uniform")}


def make(name, estimator=None, space=None, **kwargs):
    cls, defaults, _ = STRATEGIES[name]
    params = {"n_iter": 8, "cv": CV, "random_state": 0, **defaults, **kwargs}
    return cls(estimator if estimator is not None else SVC(), space or SVC_SPACE, **params)


def rows(search):
    res = search.cv_results_
    return [(p, res["mean_test_score"][i]) for i, p in enumerate(res["params"])]


class FitCounter(ClassifierMixin, BaseEstimator):
    """Counts its fits (across clones, in this process) and fails when told to."""

    fits = 0

    def __init__(self, fail=False, c=1.0):
        self.fail = fail
        self.c = c

    def fit(self, X, y):
        type(self).fits += 1
        if self.fail:
            raise RuntimeError("this candidate cannot be fitted")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.fixture
def fit_counter():
    FitCounter.fits = 0
    return FitCounter


@pytest.mark.parametrize("name", STRATEGIES)
def test_same_scores_as_grid_search_on_its_own_candidates(name):
    grid = {"C": [0.01, 0.1, 1.0, 10.0], "kernel": ["linear", "rbf"]}
    search = make(name, space=grid, n_iter=8).fit(X, y)
    reference = GridSearchCV(SVC(), grid, cv=CV).fit(X, y)
    expected = {tuple(sorted(p.items())): i for i, p in enumerate(reference.cv_results_["params"])}
    assert len(search.cv_results_["params"]) == 8
    for i, params in enumerate(search.cv_results_["params"]):
        j = expected[tuple(sorted(params.items()))]
        for key in ("split0_test_score", "split1_test_score", "split2_test_score"):
            assert search.cv_results_[key][i] == reference.cv_results_[key][j]
    assert search.best_score_ == reference.best_score_
    assert search.stop_reason_ in ("n_iter", "exhausted")


@pytest.mark.parametrize("name", STRATEGIES)
def test_budget_distinct_candidates_and_strategy_columns(name):
    search = make(name, n_iter=9).fit(X, y)
    res = search.cv_results_
    keys = [tuple(sorted(p.items())) for p in res["params"]]
    assert len(keys) == 9 and len(set(keys)) == 9
    column = STRATEGIES[name][2]
    assert len(res[column]) == len(res["batch"]) == 9
    assert list(res["batch"]) == sorted(res["batch"])
    assert search.n_batches_ == res["batch"][-1] + 1
    assert search.stop_reason_ == "n_iter"


@pytest.mark.parametrize("name", STRATEGIES)
def test_small_space_is_exhausted_without_refitting_repeats(name, fit_counter):
    search = make(name, FitCounter(), {"c": [1, 2, 3]}, n_iter=20)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    assert search.stop_reason_ == "exhausted"
    assert fit_counter.fits == 3 * 3 + 1  # 3 candidates x 3 folds + refit


@pytest.mark.parametrize("name", STRATEGIES)
def test_reproducible_and_independent_of_n_jobs(name):
    first = make(name, n_jobs=1, random_state=3).fit(X, y)
    second = make(name, n_jobs=2, random_state=3).fit(X, y)
    assert rows(first) == rows(second)
    for key in ("split0_test_score", "rank_test_score", "batch", STRATEGIES[name][2]):
        np.testing.assert_array_equal(first.cv_results_[key], second.cv_results_[key])
    other = make(name, n_jobs=1, random_state=4).fit(X, y)
    assert rows(other) != rows(first)


@pytest.mark.parametrize("name", STRATEGIES)
def test_global_random_state_is_neither_read_nor_changed(name):
    # SVC() itself draws a libsvm seed from the global state: pin it.
    estimator = SVC(random_state=0)
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    first = make(name, estimator, random_state=5).fit(X, y)
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.seed(1)
    assert rows(make(name, estimator, random_state=5).fit(X, y)) == rows(first)


@pytest.mark.parametrize("name", STRATEGIES)
def test_pipeline_with_alternative_sub_spaces(name):
    pipe = Pipeline([("scale", StandardScaler()), ("reduce", PCA()), ("clf", SVC())])
    space = [
        {"clf": [SVC()], "clf__C": Real(0.1, 10.0, prior="log-uniform"),
         "reduce__n_components": Integer(1, 4)},
        {"clf": [LogisticRegression()], "clf__C": stats.loguniform(0.1, 10.0)},
    ]
    search = make(name, pipe, space, n_iter=8).fit(X, y)
    kinds = {type(p["clf"]).__name__ for p in search.cv_results_["params"]}
    assert kinds == {"SVC", "LogisticRegression"}
    assert search.score(X, y) > 0.9
    # The user's pipeline is untouched.
    assert isinstance(pipe.named_steps["clf"], SVC) and pipe.named_steps["clf"].C == 1.0


def test_scipy_distributions_including_unbounded_ones_in_every_strategy():
    space = {"alpha": stats.expon(scale=2.0), "fit_intercept": [True, False]}
    Xr, yr = X[:, :3], X[:, 3]
    for name in STRATEGIES:
        search = make(name, Ridge(), space, cv=KFold(3), n_iter=6).fit(Xr, yr)
        alphas = [p["alpha"] for p in search.cv_results_["params"]]
        assert all(np.isfinite(alphas)) and min(alphas) > 0


def test_nested_in_cross_val_score_clone_and_pickle():
    search = make("genetic", n_iter=4)
    scores = cross_val_score(search, X, y, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.8)
    cloned = clone(search)
    assert cloned.get_params()["population_size"] == 4 and not hasattr(cloned, "cv_results_")
    search.set_params(population_size=2, elitism=1)
    assert search.population_size == 2
    fitted = make("annealing", n_iter=4).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert restored.best_params_ == fitted.best_params_


@pytest.mark.parametrize("name", STRATEGIES)
def test_multimetric_with_refit_by_name_and_by_callable(name):
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    by_name = make(name, scoring=scoring, refit="f1", n_iter=6).fit(X, y)
    assert "mean_test_acc" in by_name.cv_results_
    assert by_name.best_score_ == max(by_name.cv_results_["mean_test_f1"])

    def lowest_c_within_tolerance(results):
        best = np.max(results["mean_test_acc"])
        ok = np.flatnonzero(results["mean_test_acc"] >= best - 0.05)
        return ok[np.argmin(np.asarray(results["param_C"], dtype=float)[ok])]

    by_callable = make(name, scoring=scoring, refit=lowest_c_within_tolerance, n_iter=6)
    by_callable.fit(X, y)
    assert by_callable.best_index_ == lowest_c_within_tolerance(by_callable.cv_results_)
    assert by_callable.predict(X).shape == y.shape


class WeightSpy(ClassifierMixin, BaseEstimator):
    """LogisticRegression recording the rows and ``sample_weight`` each fit received."""

    received = []  # (X, sample_weight) of every fit in this process, clones included

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        weights = None if sample_weight is None else np.array(sample_weight)
        type(self).received.append((np.array(X), weights))
        self.model_ = LogisticRegression(C=self.C).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


def _rows_and_weights_received(X_all):
    """For each fit: the indices of the rows it got, and the weights it got."""
    fits = []
    for X_fit, weights in WeightSpy.received:
        rows = np.array([np.flatnonzero((X_all == row).all(axis=1))[0] for row in X_fit])
        fits.append((rows, weights))
    return fits


@pytest.fixture
def weight_spy():
    WeightSpy.received = []
    yield WeightSpy
    WeightSpy.received = []


@pytest.mark.parametrize("name", STRATEGIES)
def test_return_train_score_and_sample_weight_sliced_with_the_rows(name, weight_spy):
    Xc, yc = make_classification(60, random_state=0)
    weights = np.linspace(0.5, 2.0, len(yc))  # a distinct weight for every row
    search = make(name, WeightSpy(), {"C": Real(0.1, 10)}, n_iter=4,
                  return_train_score=True)
    search.fit(Xc, yc, sample_weight=weights)
    assert "mean_train_score" in search.cv_results_
    fits = _rows_and_weights_received(Xc)
    assert len(fits) == 4 * 3 + 1  # 4 candidates x 3 folds, and the refit
    for rows, received in fits:
        assert received is not None, "sample_weight was dropped"
        np.testing.assert_array_equal(received, weights[rows])
    assert sorted(fits[-1][0]) == list(range(len(yc)))  # the refit saw every row


@pytest.mark.parametrize("name", STRATEGIES)
def test_metadata_routing_sends_weights_to_fit_and_groups_to_the_splitter(name, weight_spy):
    Xc, yc = make_classification(60, random_state=0)
    weights = np.linspace(0.5, 2.0, len(yc))
    groups = np.arange(len(yc)) % 6
    with sklearn.config_context(enable_metadata_routing=True):
        spy = WeightSpy().set_fit_request(sample_weight=True).set_score_request(
            sample_weight=False)
        search = make(name, spy, {"C": Real(0.1, 10)}, n_iter=4, cv=GroupKFold(3))
        search.fit(Xc, yc, sample_weight=weights, groups=groups)
    fits = _rows_and_weights_received(Xc)
    assert len(fits) == 4 * 3 + 1
    for rows, received in fits[:-1]:
        assert received is not None, "sample_weight was dropped"
        np.testing.assert_array_equal(received, weights[rows])
        # GroupKFold(3) over 6 groups holds out 2 whole groups: 4 are trained on.
        assert len(set(groups[rows])) == 4
        assert np.isin(groups, groups[rows]).sum() == len(rows)
    np.testing.assert_array_equal(fits[-1][1], weights)


@pytest.mark.parametrize("name", STRATEGIES)
def test_failing_candidates_get_error_score_and_the_search_goes_on(name, fit_counter):
    space = {"fail": [False, True], "c": [1.0, 2.0, 3.0]}
    search = make(name, FitCounter(), space, n_iter=6, error_score=-1.0)
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    res = search.cv_results_
    failed = [p["fail"] for p in res["params"]]
    assert True in failed and False in failed and len(failed) >= 4
    assert all(s == -1.0 for s, f in zip(res["mean_test_score"], failed) if f)
    assert search.best_params_["fail"] is False


def test_error_score_raise_raises_the_original_error(fit_counter):
    search = make("genetic", FitCounter(fail=True), {"c": [1.0, 2.0]}, error_score="raise")
    with pytest.raises(RuntimeError, match="cannot be fitted"):
        search.fit(X, y)


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_candidate_failing_says_so(name, fit_counter):
    search = make(name, FitCounter(fail=True), {"c": Real(0.1, 1.0)}, n_iter=4)
    with pytest.raises(ValueError, match="Every one of the 4 candidates failed.*"
                                         "RuntimeError: this candidate cannot be fitted"):
        search.fit(X, y)


@pytest.mark.parametrize("name", STRATEGIES)
def test_callback_sees_results_and_stops_the_search(name):
    seen = []

    def stop_after_two_batches(search, results):
        seen.append(len(results["params"]))
        return len(seen) == 2

    search = make(name, n_iter=30, callbacks=[stop_after_two_batches]).fit(X, y)
    assert search.stop_reason_ == "callback" and search.n_batches_ == 2
    assert seen[-1] == len(search.cv_results_["params"]) < 30


@pytest.mark.parametrize("name", STRATEGIES)
def test_patience_stops_after_batches_without_improvement(name):
    # A constant score never improves after the first batch.
    space = {"c": Real(0.1, 10.0)}
    search = make(name, FitCounter(), space, n_iter=40, patience=2).fit(X, y)
    assert search.stop_reason_ == "patience"
    assert search.n_batches_ == 3


def test_max_time_stops_after_the_batch_that_crosses_it():
    class Slow(FitCounter):
        def fit(self, X, y):
            time.sleep(0.02)
            return super().fit(X, y)

    search = make("genetic", Slow(), {"c": Real(0.1, 10.0)}, n_iter=100, max_time=0.05)
    search.fit(X, y)
    assert search.stop_reason_ == "max_time"
    assert search.n_batches_ == 1


BAD_PARAMS = [
    ("genetic", dict(n_iter=0), "n_iter"),
    ("genetic", dict(population_size=1), "population_size"),
    ("genetic", dict(mutation_probability=1.5), "mutation_probability"),
    ("genetic", dict(crossover_probability=-0.1), "crossover_probability"),
    ("genetic", dict(elitism=4), "elitism=4 must be smaller than population_size=4"),
    ("annealing", dict(initial_temperature=0.0), "initial_temperature"),
    ("annealing", dict(initial_temperature=-1.0), "initial_temperature"),
    ("annealing", dict(initial_temperature=float("inf")), "initial_temperature"),
    ("annealing", dict(cooling=lambda step: float("nan")), r"cooling\(0\)"),
    ("annealing", dict(cooling="fast"), "cooling"),
    ("bayes", dict(surrogate="SVM"), "surrogate"),
    ("bayes", dict(n_points=0), "n_points"),
    ("genetic", dict(max_time=0), "max_time"),
    ("annealing", dict(patience=0), "patience"),
    ("bayes", dict(cv=KFold(3, shuffle=True)), "consistent folds"),
]


@pytest.mark.parametrize("name, params, match", BAD_PARAMS)
def test_bad_parameters_raise_before_any_fit(name, params, match, fit_counter):
    search = make(name, FitCounter(), {"c": Real(0.1, 1.0)}, **params)
    with pytest.raises(ValueError, match=match):
        search.fit(X, y)
    assert fit_counter.fits == 0


@pytest.mark.parametrize("name", STRATEGIES)
def test_unknown_parameter_names_the_estimator_and_the_key(name, fit_counter):
    search = make(name, FitCounter(), {"c": [1.0], "gama": Real(0.1, 1.0)})
    with pytest.raises(ValueError, match=r"Invalid parameter 'gama'.*FitCounter\(\)"):
        search.fit(X, y)
    assert fit_counter.fits == 0


def test_bad_space_raises_before_any_fit(fit_counter):
    for space in ({}, {"c": []}, {"c": (1.0, 0.5)}, {"c": "big"}):
        with pytest.raises((ValueError, TypeError), match="param_distributions"):
            make("genetic", FitCounter(), space).fit(X, y)
    assert fit_counter.fits == 0


def test_importing_skautosearch_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, skautosearch; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize("name", STRATEGIES)
def test_verbose_draws_a_progress_bar_over_fits_with_the_best_score(name, capsys):
    search = make(name, n_iter=6, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert f"{type(search).__name__}:" in err and "/18" in err  # 6 candidates x 3 folds
    assert f"best={search.best_score_:.4f}" in err


class Routed(FitCounter):
    """Accepts any ``model__*`` parameter without listing it, as SciKeras does."""

    def set_params(self, **params):
        routed = {k: v for k, v in params.items() if k.startswith("model__")}
        self.routed_ = routed
        return super().set_params(**{k: v for k, v in params.items() if k not in routed})


def test_parameters_an_estimator_accepts_without_listing_them_are_searchable():
    search = make("genetic", Routed(), {"model__units": Integer(1, 8), "c": [1.0]}, n_iter=4)
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    with pytest.raises(ValueError, match="Invalid parameter 'units'"):
        make("genetic", Routed(), {"units": Integer(1, 8)}).fit(X, y)


def test_public_names_load_lazily_and_star_import_works():
    import subprocess
    import sys

    code = ("import sys, skautosearch; assert 'skopt' not in sys.modules; "
            "from skautosearch import *; print(sorted(n for n in dir() if n[0].isupper()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["['AnnealingSearchCV',", "'BayesianSearchCV',",
                                  "'Categorical',", "'Conditional',",
                                  "'GeneticSearchCV',", "'Integer',",
                                  "'ProgressCallback',", "'Real']"], out.stderr


class TwoParams(FitCounter):
    """Records the parameters each fit received (None: never set)."""

    received = []

    def __init__(self, a=None, b=None):
        self.a = a
        self.b = b

    def fit(self, X, y):
        type(self).received.append((self.a, self.b))
        self.classes_ = np.unique(y)
        return self


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_candidate_never_inherits_parameters_of_another_sub_space(name):
    TwoParams.received = []
    make(name, TwoParams(), [{"a": [1, 2]}, {"b": [1, 2]}], n_iter=4).fit(X, y)
    assert len(TwoParams.received) == 4 * 3 + 1
    assert all((a is None) != (b is None) for a, b in TwoParams.received)


def test_every_genetic_generation_holds_population_size_distinct_candidates(monkeypatch):
    # Pre-screened children often become the elites at once; they must not then take
    # two places in the population they are bred from.
    populations = []
    breed = GeneticSearchCV._breed

    def spy(self, ev, population, scores, rng, n_children):
        populations.append(list(population))
        return breed(self, ev, population, scores, rng, n_children)

    monkeypatch.setattr(GeneticSearchCV, "_breed", spy)
    make("genetic", n_iter=40, population_size=6).fit(X, y)
    assert len(populations) >= 6
    for population in populations:
        assert len(population) == len(set(population)) == 6
