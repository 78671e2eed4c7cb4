import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.svm import SVC

import skautosearch
from skautosearch.results import STRATEGY_COLUMNS, convergence, to_dataframe

pd = pytest.importorskip("pandas")

X, y = load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def grid():
    return GridSearchCV(SVC(), {"C": [0.01, 1.0, 10.0]}, cv=3).fit(X, y)


def _fake_search(results, n_splits=2):
    """An object with a fitted search's attributes, for strategy columns."""

    class Fitted:
        refit = True

    search = Fitted()
    search.cv_results_ = results
    search.n_splits_ = n_splits
    return search


def test_convergence_counts_fits_and_keeps_the_best_so_far(grid):
    n_fits, best = convergence(grid)
    scores = grid.cv_results_["mean_test_score"]
    assert n_fits.tolist() == [3, 6, 9]
    assert best.tolist() == np.maximum.accumulate(scores).tolist()


def test_convergence_skips_failed_candidates():
    search = _fake_search({"params": [{}] * 4,
                           "mean_test_score": [np.nan, 0.5, np.nan, 0.4]})
    n_fits, best = convergence(search)
    assert n_fits.tolist() == [2, 4, 6, 8]
    assert np.isnan(best[0]) and best[1:].tolist() == [0.5, 0.5, 0.5]


def test_convergence_reads_a_cv_results_dict(grid):
    n_fits, best = convergence(grid.cv_results_)
    assert n_fits.tolist() == [3, 6, 9]
    assert best[-1] == grid.best_score_


def test_convergence_multimetric_uses_the_refit_metric():
    search = RandomizedSearchCV(
        SVC(), {"C": [0.01, 1.0, 10.0]}, n_iter=3, cv=2, random_state=0,
        scoring=["accuracy", "balanced_accuracy"], refit="balanced_accuracy",
    ).fit(X, y)
    _, best = convergence(search)
    assert best[-1] == search.cv_results_["mean_test_balanced_accuracy"].max()
    _, best_acc = convergence(search, metric="accuracy")
    assert best_acc[-1] == search.cv_results_["mean_test_accuracy"].max()
    with pytest.raises(ValueError, match="mean_test_f1"):
        convergence(search, metric="f1")


def test_to_dataframe_keeps_every_value_in_evaluation_order(grid):
    df = to_dataframe(grid)
    assert df.index.name == "candidate"
    assert df.index.tolist() == [0, 1, 2]
    for key, value in grid.cv_results_.items():
        if key == "params":
            assert df["params"].tolist() == value
        else:
            np.testing.assert_array_equal(df[key].to_numpy(), np.asarray(value))
    assert df["n_fits"].tolist() == [3, 6, 9]
    assert df["best_so_far"].iloc[-1] == grid.best_score_


def test_to_dataframe_puts_strategy_columns_first():
    results = {
        "params": [{"C": 1.0}, {"C": 2.0}],
        "param_C": np.ma.masked_array([1.0, 2.0]),
        "mean_test_score": [0.5, 0.7],
        "rank_test_score": np.array([2, 1]),
        "temperature": [1.0, 0.5],
        "chain": [0, 1],
        "batch": [0, 0],
        "step": [0, 0],
    }
    df = to_dataframe(_fake_search(results))
    assert df.columns[:4].tolist() == ["batch", "chain", "step", "temperature"]
    assert set(STRATEGY_COLUMNS) >= {"batch", "generation", "iteration"}
    assert df["temperature"].tolist() == [1.0, 0.5]


def test_to_dataframe_sort_by_rank_puts_the_best_first(grid):
    df = to_dataframe(grid, sort_by="rank")
    assert df["rank_test_score"].tolist() == sorted(df["rank_test_score"])
    assert df["mean_test_score"].iloc[0] == grid.best_score_
    assert df.index[0] == grid.best_index_
    with pytest.raises(ValueError, match="sort_by='nope'"):
        to_dataframe(grid, sort_by="nope")


def test_to_dataframe_subspaces_leave_missing_parameters_empty():
    search = GridSearchCV(
        SVC(), [{"kernel": ["rbf"], "C": [1.0, 10.0]}, {"kernel": ["linear"]}], cv=2
    ).fit(X, y)
    df = to_dataframe(search)
    assert df["param_C"].isna().tolist() == [False, False, True]


def test_to_dataframe_unfitted_search_raises():
    with pytest.raises(ValueError, match="not fitted"):
        to_dataframe(GridSearchCV(SVC(), {"C": [1.0]}))


def test_to_dataframe_without_pandas_names_the_extra(grid, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install skautosearch\[results\]"):
        to_dataframe(grid)


def test_core_strategy_columns_reach_the_dataframe():
    search = skautosearch.GeneticSearchCV(
        SVC(), {"C": [0.01, 0.1, 1.0, 10.0, 100.0]}, n_iter=4, cv=2,
        population_size=4, random_state=0,
    ).fit(X, y)
    df = to_dataframe(search)
    assert df.columns[:2].tolist() == ["batch", "generation"]
    assert len(df) == 4


def test_docstring_examples_run():
    import doctest

    from skautosearch import results as module

    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
