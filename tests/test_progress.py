import io

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

import skautosearch
from skautosearch._progress import ProgressCallback, progress_bar

X, y = load_iris(return_X_y=True)
SPACE = {"C": [0.01, 0.1, 1.0, 10.0, 100.0]}


class _Search:
    """What a search exposes to its callbacks during fit."""

    refit = True
    n_splits_ = 3
    n_iter = 4
    verbose = 1


def _results(scores):
    return {"params": [{}] * len(scores), "mean_test_score": scores}


def test_bar_counts_fits_and_shows_the_best_so_far():
    out = io.StringIO()
    bar = ProgressCallback(file=out, mininterval=0)
    search = _Search()
    assert bar(search, _results([0.5, np.nan])) is None  # never stops the search
    assert (bar.n_fits_, bar.best_score_) == (6, 0.5)
    bar(search, _results([0.5, np.nan, 0.9, 0.7]))
    assert (bar.n_fits_, bar.best_score_) == (12, 0.9)
    bar.close()
    text = out.getvalue()
    assert "12/12" in text and "best=0.9000" in text and "_Search" in text


def test_bar_shrinks_its_total_when_the_search_stops_early():
    out = io.StringIO()
    bar = ProgressCallback(file=out, mininterval=0)
    bar(_Search(), _results([0.5]))
    bar.close()
    assert "3/3" in out.getvalue().splitlines()[-1].split("\r")[-1]


def test_bar_with_a_failed_batch_shows_no_best():
    bar = ProgressCallback(file=io.StringIO())
    bar(_Search(), _results([np.nan]))
    assert np.isnan(bar.best_score_)
    bar.close()


def test_progress_bar_only_when_verbose():
    quiet = _Search()
    quiet.verbose = 0
    with progress_bar(quiet) as bar:
        assert bar is None
    out = io.StringIO()
    with progress_bar(_Search(), file=out) as bar:
        assert "0/12" in out.getvalue()  # drawn, and timing, from the start
        bar(_Search(), _results([0.1, 0.2]))
    assert bar.n_fits_ == 6 and bar._bar is None  # closed on exit


def test_progress_bar_is_closed_when_the_search_raises():
    with pytest.raises(RuntimeError):
        with progress_bar(_Search(), file=io.StringIO()) as bar:
            bar(_Search(), _results([0.1]))
            raise RuntimeError("fit failed")
    assert bar._bar is None


def test_callback_follows_a_core_search():
    out = io.StringIO()
    bar = ProgressCallback(file=out, mininterval=0)
    search = skautosearch.BayesianSearchCV(
        SVC(), SPACE, n_iter=4, cv=2, random_state=0, callbacks=[bar]
    ).fit(X, y)
    bar.close()
    assert bar.n_fits_ == 4 * 2
    assert bar.best_score_ == search.best_score_
    assert "8/8" in out.getvalue()


@pytest.mark.filterwarnings("ignore:The estimator SVC does not support callbacks")
def test_sklearn_progressbar_callback_runs_with_a_core_search():
    pytest.importorskip("rich")
    callback = pytest.importorskip("sklearn.callback")
    params = dict(n_iter=4, cv=2, random_state=0)
    plain = skautosearch.AnnealingSearchCV(SVC(), SPACE, **params).fit(X, y)
    search = skautosearch.AnnealingSearchCV(SVC(), SPACE, **params)
    search.set_callbacks(callback.ProgressBar())
    search.fit(X, y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  plain.cv_results_["mean_test_score"])
    # GridSearchCV is the reference: the same callback works there too.
    GridSearchCV(SVC(), SPACE, cv=2).set_callbacks(callback.ProgressBar()).fit(X, y)


def test_docstring_examples_run():
    import doctest

    from skautosearch import _progress as module

    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
