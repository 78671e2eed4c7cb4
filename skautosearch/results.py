"""Read a fitted search's ``cv_results_``: as a DataFrame, or as a convergence curve.

:func:`to_dataframe` needs pandas (``pip install skautosearch[results]``);
:func:`convergence` needs only NumPy.
"""

import numpy as np

from skautosearch._progress import _score_key

__all__ = ["STRATEGY_COLUMNS", "convergence", "to_dataframe"]

#: Columns the searches add to ``cv_results_``, in the order :func:`to_dataframe`
#: puts them first: ``batch`` (all three searches), ``generation``
#: (:class:`~skautosearch.GeneticSearchCV`), ``chain``, ``step`` and ``temperature``
#: (:class:`~skautosearch.AnnealingSearchCV`), ``iteration``
#: (:class:`~skautosearch.BayesianSearchCV`), and with budgets ``iter``, ``n_resources``,
#: ``bracket`` and ``resources_trained``.
STRATEGY_COLUMNS = ("batch", "generation", "chain", "step", "temperature", "iteration",
                    "iter", "n_resources", "bracket", "resources_trained")


def _cv_results(search):
    if isinstance(search, dict):
        return search
    results = getattr(search, "cv_results_", None)
    if results is None:
        raise ValueError(
            f"{type(search).__name__} is not fitted: call fit before reading its "
            "results, or pass a cv_results_ dict."
        )
    return results


def _n_splits(search, results):
    n_splits = getattr(search, "n_splits_", None)
    if n_splits is not None:
        return int(n_splits)
    return sum(1 for key in results if key.startswith("split") and
               key.endswith("_test_" + _score_key(search)[len("mean_test_"):]))


def convergence(search, *, metric=None):
    """Best score so far against the number of fits, in evaluation order.

    Parameters
    ----------
    search : fitted BaseSearchCV or dict
        A fitted search (any scikit-learn search, including
        ``GridSearchCV``), or its ``cv_results_``.
    metric : str, default=None
        For multi-metric scoring, the scorer name; ``None`` uses the metric the
        search refits on (``mean_test_score`` for a single metric).

    Returns
    -------
    n_fits : ndarray of int, shape (n_candidates,)
        Fits made when each candidate was done: its 1-based position times the
        number of CV splits (the final refit is not counted).
    best_so_far : ndarray of float, shape (n_candidates,)
        Best mean test score among the candidates evaluated up to then; failed
        candidates (``nan``) are skipped.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.svm import SVC
    >>> from skautosearch.results import convergence
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(SVC(), {"C": [0.01, 1.0, 10.0]}, cv=3).fit(X, y)
    >>> n_fits, best = convergence(search)
    >>> n_fits.tolist(), best.round(3).tolist()
    ([3, 6, 9], [0.32, 0.96, 0.973])
    """
    results = _cv_results(search)
    key = f"mean_test_{metric}" if metric else _score_key(search)
    if key not in results:
        raise ValueError(
            f"cv_results_ has no {key!r}; "
            f"available: {sorted(k for k in results if k.startswith('mean_test_'))}"
        )
    scores = np.asarray(results[key], dtype=float)
    n_fits = np.arange(1, len(scores) + 1) * _n_splits(search, results)
    return n_fits, np.fmax.accumulate(scores)


def _import_pandas():
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            "skautosearch.results.to_dataframe needs pandas: "
            "pip install skautosearch[results]"
        ) from exc
    return pd


def to_dataframe(search, *, sort_by=None):
    """A fitted search's ``cv_results_`` as a pandas DataFrame, one row a candidate.

    The rows keep evaluation order (the index, ``candidate``, is the row of
    ``cv_results_``). Strategy columns come first (see :data:`STRATEGY_COLUMNS`),
    then the parameters, the scores, the times, and two derived columns:
    ``n_fits`` (fits made when the candidate was done) and ``best_so_far``
    (best mean test score up to that row), as in :func:`convergence`.

    Parameters
    ----------
    search : fitted BaseSearchCV or dict
        A fitted search, or its ``cv_results_``.
    sort_by : str, default=None
        Column to sort by: ``"rank"`` sorts by the rank of the refit metric
        (best first); any other column name sorts ascending by that column;
        ``None`` keeps evaluation order.

    Returns
    -------
    pandas.DataFrame
        ``params`` holds each candidate's parameter dict; ``param_<name>`` one
        column per parameter (missing where a candidate's sub-space lacks it).

    Raises
    ------
    ImportError
        If pandas is not installed.
    ValueError
        If the search is not fitted or ``sort_by`` names no column.

    See Also
    --------
    convergence : The best-so-far curve without pandas.
    skautosearch.plot.plot_convergence : Plot it for several searches.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import RandomizedSearchCV
    >>> from sklearn.svm import SVC
    >>> from skautosearch.results import to_dataframe
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomizedSearchCV(SVC(), {"C": [0.01, 0.1, 1.0, 10.0]},
    ...                             n_iter=3, cv=3, random_state=0).fit(X, y)
    >>> df = to_dataframe(search, sort_by="rank")
    >>> df[["param_C", "mean_test_score", "n_fits"]].round(3)
    ... # doctest: +NORMALIZE_WHITESPACE
               param_C  mean_test_score  n_fits
    candidate
    1             10.0            0.973       6
    0              1.0            0.960       3
    2              0.1            0.900       9
    """
    pd = _import_pandas()
    results = _cv_results(search)
    df = pd.DataFrame({key: _column(value) for key, value in results.items()})
    df.index.name = "candidate"
    n_fits, best = convergence(search)
    df["n_fits"] = n_fits
    df["best_so_far"] = best
    first = [col for col in STRATEGY_COLUMNS if col in df.columns]
    df = df[first + [col for col in df.columns if col not in first]]
    return _sorted(df, search, sort_by)


def _column(value):
    # Keep masked entries (parameters absent from a candidate's sub-space) as
    # None in object columns and nan in numeric ones, as pandas does.
    if isinstance(value, np.ma.MaskedArray):
        return value
    return list(value) if not isinstance(value, np.ndarray) else value


def _sorted(df, search, sort_by):
    if sort_by is None:
        return df
    if sort_by == "rank":
        sort_by = "rank_test_" + _score_key(search)[len("mean_test_"):]
    if sort_by not in df.columns:
        raise ValueError(f"sort_by={sort_by!r} is not a column of the results.")
    return df.sort_values(sort_by, kind="stable")
