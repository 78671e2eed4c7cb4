"""Multi-objective helpers: Pareto fronts, crowding, knees, and a one-standard-error refit.

Pure NumPy. Objectives are given as a dict such as
``{"accuracy": "max", "size_bytes": "min"}`` and read from a search's
``cv_results_`` by :func:`objective_matrix`, which turns them into an
``(n_candidates, n_objectives)`` matrix in which every objective is to be
*minimised* (maximised ones are negated). :func:`non_dominated_sort`,
:func:`crowding_distance`, :func:`pareto_front` and :func:`knee_point` work on
that matrix. :func:`smallest_within_one_se` makes a ``refit`` callable that picks
the smallest model whose score is within one standard error of the best.

Rows with a ``nan`` or infinite objective (failed candidates) are never on a
front: :func:`non_dominated_sort` puts them in a last front of their own.
"""

import numpy as np

from skautosearch.costs import COST_MEASURES

__all__ = [
    "crowding_distance",
    "knee_point",
    "non_dominated_sort",
    "objective_matrix",
    "parse_objectives",
    "pareto_front",
    "smallest_within_one_se",
]

_SIGNS = {"min": 1.0, "max": -1.0}


def parse_objectives(objectives):
    """Validate objectives and return their names with minimisation signs.

    Parameters
    ----------
    objectives : dict of str to {"max", "min"}
        Objective name to direction, in order, e.g.
        ``{"accuracy": "max", "size_bytes": "min"}``. A single objective is
        accepted (its front is its best candidates) although a front needs
        two to be a trade-off.

    Returns
    -------
    objectives : list of (str, float)
        ``(name, sign)`` pairs: ``sign`` is ``+1.0`` for ``"min"`` and
        ``-1.0`` for ``"max"``, so that ``sign * value`` is to be minimised.

    Raises
    ------
    TypeError
        If ``objectives`` is not a dict, or a name is not a string.
    ValueError
        If it is empty or a direction is not ``"max"`` or ``"min"``.

    Examples
    --------
    >>> from skautosearch.pareto import parse_objectives
    >>> parse_objectives({"accuracy": "max", "size_bytes": "min"})
    [('accuracy', -1.0), ('size_bytes', 1.0)]
    """
    if not isinstance(objectives, dict):
        raise TypeError(
            "objectives must be a dict of name to 'max' or 'min', e.g. "
            f"{{'accuracy': 'max', 'size_bytes': 'min'}}; got {type(objectives).__name__}."
        )
    if not objectives:
        raise ValueError("objectives is empty: give at least one objective.")
    parsed = []
    for name, direction in objectives.items():
        if not isinstance(name, str):
            raise TypeError(f"objectives keys must be str; got {name!r}.")
        if not isinstance(direction, str) or direction not in _SIGNS:
            raise ValueError(
                f"objectives[{name!r}] must be 'max' or 'min', got {direction!r}."
            )
        parsed.append((name, _SIGNS[direction]))
    return parsed


def _as_matrix(F):
    F = np.asarray(F, dtype=float)
    if F.ndim != 2:
        raise ValueError(f"F must be a 2-D array (n_points, n_objectives); got shape {F.shape}.")
    return F


def _dominance(F):
    """``D[i, j]``: row ``i`` dominates row ``j`` (no worse on all, better on one)."""
    n, m = F.shape
    no_worse = np.ones((n, n), dtype=bool)
    better = np.zeros((n, n), dtype=bool)
    for k in range(m):  # one objective at a time: n x n memory, not n x n x m
        column = F[:, k]
        no_worse &= column[:, None] <= column[None, :]
        better |= column[:, None] < column[None, :]
    return no_worse & better


def non_dominated_sort(F):
    """Sort points into Pareto fronts (to minimise every objective).

    The first front holds the points no other point dominates; the second,
    those only the first front dominates; and so on. A point dominates another
    if it is no worse on every objective and better on one: equal points share
    a front.

    Parameters
    ----------
    F : array-like of shape (n_points, n_objectives)
        Objective values, all to be minimised.

    Returns
    -------
    fronts : list of ndarray of int
        Row indices of each front, ascending, best front first. Rows with a
        ``nan`` or infinite value form the last front (after every front of
        finite rows).

    Examples
    --------
    >>> from skautosearch.pareto import non_dominated_sort
    >>> F = [[1, 4], [2, 2], [3, 3], [4, 1], [float("nan"), 0]]
    >>> [front.tolist() for front in non_dominated_sort(F)]
    [[0, 1, 3], [2], [4]]
    """
    F = _as_matrix(F)
    finite = np.flatnonzero(np.isfinite(F).all(axis=1))
    dominates = _dominance(F[finite])
    n_dominators = dominates.sum(axis=0)
    remaining = np.ones(finite.size, dtype=bool)
    fronts = []
    while remaining.any():
        front = np.flatnonzero(remaining & (n_dominators == 0))
        fronts.append(finite[front])
        remaining[front] = False
        n_dominators -= dominates[front].sum(axis=0)
    failed = np.flatnonzero(~np.isfinite(F).all(axis=1))
    if failed.size:
        fronts.append(failed)
    return fronts


def pareto_front(F):
    """Row indices of the non-dominated points (to minimise every objective).

    Parameters
    ----------
    F : array-like of shape (n_points, n_objectives)
        Objective values, all to be minimised.

    Returns
    -------
    front : ndarray of int
        Ascending indices of the rows no other row dominates; rows with a
        ``nan`` or infinite value are never on it (empty if all have one).

    Examples
    --------
    >>> from skautosearch.pareto import pareto_front
    >>> pareto_front([[1, 4], [2, 2], [3, 3], [4, 1]]).tolist()
    [0, 1, 3]
    """
    F = _as_matrix(F)
    fronts = non_dominated_sort(F)
    if not fronts or not np.isfinite(F[fronts[0]]).all():
        return np.array([], dtype=int)
    return fronts[0]


def crowding_distance(F):
    """NSGA-II crowding distance of the points of one front.

    For each objective, the points are sorted; the two extremes get an infinite
    distance and every other point adds the gap between its two neighbours,
    divided by the objective's range over the front (Deb et al., 2002). An
    objective on which all points are equal adds nothing. Larger means lonelier:
    NSGA-II prefers those points to keep the front spread out.

    Parameters
    ----------
    F : array-like of shape (n_points, n_objectives)
        Finite objective values of the points of one front.

    Returns
    -------
    distance : ndarray of shape (n_points,)
        Crowding distance; ``inf`` for the boundary points (and for every
        point of a front of two or fewer).

    References
    ----------
    K. Deb, A. Pratap, S. Agarwal and T. Meyarivan, "A fast and elitist
    multiobjective genetic algorithm: NSGA-II", IEEE Transactions on
    Evolutionary Computation 6(2), 182-197, 2002.

    Examples
    --------
    >>> from skautosearch.pareto import crowding_distance
    >>> crowding_distance([[0, 5], [1, 2], [2, 1], [4, 0]]).round(2).tolist()
    [inf, 1.3, 1.15, inf]
    """
    F = _as_matrix(F)
    n, m = F.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(F[:, k], kind="stable")
        values = F[order, k]
        distance[order[[0, -1]]] = np.inf
        span = values[-1] - values[0]
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def knee_point(F):
    """Row index of the knee of the first front: the most balanced trade-off.

    Each objective is scaled to [0, 1] over the first front (0 the front's best,
    1 its worst; an objective constant on the front scales to 0); the knee is
    the front point nearest, in Euclidean distance, to the ideal point where
    every scaled objective is 0. Ties go to the point best on the first
    objective, then the second, and so on. A front of one point is its own
    knee; on a front of two, both points are one away from the ideal, and the
    tie-break picks the one better on the first objective.

    Parameters
    ----------
    F : array-like of shape (n_points, n_objectives)
        Objective values, all to be minimised (see :func:`objective_matrix`).

    Returns
    -------
    index : int
        Row of ``F`` of the knee.

    Raises
    ------
    ValueError
        If no row is finite, so that there is no front.

    Examples
    --------
    >>> from skautosearch.pareto import knee_point
    >>> knee_point([[0, 10], [1, 3], [2, 2], [5, 1], [10, 0]])  # (0.2, 0.2) scaled
    2
    """
    F = _as_matrix(F)
    front = pareto_front(F)
    if front.size == 0:
        raise ValueError("No row of F is finite: there is no Pareto front.")
    points = F[front]
    low, span = points.min(axis=0), np.ptp(points, axis=0)
    scaled = (points - low) / np.where(span > 0, span, 1.0)
    distance = np.sqrt((scaled**2).sum(axis=1))
    # lexsort's last key sorts first: distance, then objective 0, 1, ...
    order = np.lexsort([*points.T[::-1], distance])
    return int(front[order[0]])


# --------------------------------------------------------------------------- cv_results_


def _mean_columns(cv_results):
    return sorted(key for key in cv_results if key.startswith("mean_"))


def _objective_column(cv_results, name, scoring=None):
    """The ``cv_results_`` column that holds objective ``name`` (see objective_matrix)."""
    for column in (f"mean_test_{name}", f"mean_{name}"):
        if column in cv_results:
            return column
    single_metric = "mean_test_score" in cv_results
    is_scorer = name not in COST_MEASURES and (scoring is None or name == scoring)
    if single_metric and is_scorer:
        return "mean_test_score"
    raise ValueError(
        f"No cv_results_ column for objective {name!r}: looked for "
        f"'mean_test_{name}' and 'mean_{name}'. Available: {_mean_columns(cv_results)}."
    )


def objective_matrix(cv_results, objectives, *, scoring=None):
    """The objectives of every candidate, as a matrix to minimise.

    Objective ``name`` is read from the first ``cv_results_`` column found among:

    1. ``mean_test_<name>``: a scorer of multi-metric scoring, or ``"score"``
       for single-metric scoring (``mean_test_score``);
    2. ``mean_<name>``: a cost measure (:data:`skautosearch.costs.COST_MEASURES`,
       recorded as ``mean_<measure>`` and ``std_<measure>``, averaged over the
       folds), or another per-candidate mean such as ``mean_fit_time``;
    3. ``mean_test_score``, when the search used single-metric scoring and
       ``name`` is not a cost measure: ``name`` is then taken as the scorer's
       (``"accuracy"`` for ``scoring="accuracy"``, or for a classifier's
       default score). Give ``scoring`` to accept only its own name there.

    Parameters
    ----------
    cv_results : dict
        A fitted search's ``cv_results_``.
    objectives : dict of str to {"max", "min"}
        See :func:`parse_objectives`.
    scoring : str, default=None
        The search's ``scoring`` if it is a single scorer name: with it, rule 3
        accepts only that name. ``None`` accepts any name that is not a cost
        measure.

    Returns
    -------
    F : ndarray of shape (n_candidates, n_objectives)
        ``sign * column`` for each objective, in order: maximised objectives are
        negated, so every column is to be minimised.

    Raises
    ------
    ValueError
        If an objective has no column (the message lists the ``mean_*``
        columns there are), or two objectives read the same column.

    Examples
    --------
    >>> from skautosearch.pareto import objective_matrix
    >>> cv_results = {"mean_test_score": [0.9, 0.8], "mean_size_bytes": [500, 100]}
    >>> objective_matrix(cv_results, {"accuracy": "max", "size_bytes": "min"})
    array([[ -0.9, 500. ],
           [ -0.8, 100. ]])
    """
    parsed = parse_objectives(objectives)
    columns = [_objective_column(cv_results, name, scoring) for name, _ in parsed]
    for column in columns:
        if columns.count(column) > 1:
            others = [n for (n, _), c in zip(parsed, columns) if c == column]
            raise ValueError(f"Objectives {others} all read the column {column!r}.")
    return np.column_stack([
        sign * np.asarray(cv_results[column], dtype=float)
        for (_, sign), column in zip(parsed, columns)
    ])


# --------------------------------------------------------------------------- refit


class _SmallestWithinOneSE:
    """The refit callable :func:`smallest_within_one_se` returns.

    A class, not a closure, so that a search holding it can be pickled.
    """

    def __init__(self, score, size):
        self.score, self.size = score, size

    def __repr__(self):
        return f"smallest_within_one_se(score={self.score!r}, size={self.size!r})"

    def __call__(self, cv_results):
        scores = _column(cv_results, f"mean_test_{self.score}")
        stds = _column(cv_results, f"std_test_{self.score}")
        sizes = _column(cv_results, f"mean_{self.size}")
        if not np.isfinite(scores).any():
            raise ValueError(f"Every candidate's mean_test_{self.score} is nan.")
        best = int(np.nanargmax(scores))
        n_splits = _n_splits(cv_results, self.score)
        threshold = scores[best] - stds[best] / np.sqrt(n_splits)
        within = np.flatnonzero(scores >= threshold)  # nan compares False
        sizes = np.where(np.isnan(sizes[within]), np.inf, sizes[within])
        # lexsort's last key sorts first: smallest size, then highest score.
        return int(within[np.lexsort([-scores[within], sizes])[0]])


def _column(cv_results, key):
    if key not in cv_results:
        raise ValueError(
            f"cv_results_ has no {key!r}; available: {_mean_columns(cv_results)}."
        )
    return np.asarray(cv_results[key], dtype=float)


def _n_splits(cv_results, score):
    suffix = f"_test_{score}"
    n_splits = sum(1 for key in cv_results
                   if key.startswith("split") and key.endswith(suffix)
                   and key[len("split"):-len(suffix)].isdigit())
    if n_splits == 0:
        raise ValueError(
            f"cv_results_ has no 'split<i>{suffix}' columns to count the CV splits by."
        )
    return n_splits


def smallest_within_one_se(score="score", size="n_params"):
    """A ``refit`` callable: the smallest model within one standard error of the best.

    The one-standard-error rule (Hastie, Tibshirani and Friedman, *The Elements
    of Statistical Learning*, 7.10): a model whose mean CV score is within one
    standard error of the best one's is as good as the data can tell, so take
    the simplest of them. Here the standard error is the best candidate's
    ``std_test_<score>`` divided by the square root of the number of CV
    splits, as in scikit-learn's example "Balance model complexity and
    cross-validated score"; among the candidates whose ``mean_test_<score>``
    reaches the best minus that, the one with the smallest ``mean_<size>`` is
    chosen (ties: the higher score, then the earlier candidate). A candidate
    whose size is ``nan`` is chosen only if no other qualifies.

    Parameters
    ----------
    score : str, default="score"
        The scorer: ``"score"`` for single-metric scoring
        (``mean_test_score``), or a name of multi-metric scoring.
    size : str, default="n_params"
        The ``cv_results_`` column ``mean_<size>`` to minimise: a cost measure
        of :mod:`skautosearch.costs`, or any per-candidate mean such as
        ``fit_time``.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate, to
        pass as a search's ``refit``. It raises ``ValueError`` if a column is
        missing or every score is ``nan``. Picklable.

    See Also
    --------
    knee_point : A balanced trade-off on the Pareto front instead.

    Examples
    --------
    >>> from skautosearch.pareto import smallest_within_one_se
    >>> cv_results = {
    ...     "mean_test_score": [0.90, 0.95, 0.94], "std_test_score": [0.0, 0.02, 0.0],
    ...     "split0_test_score": [0, 0, 0], "split1_test_score": [0, 0, 0],
    ...     "split2_test_score": [0, 0, 0], "split3_test_score": [0, 0, 0],
    ...     "mean_n_params": [10, 1000, 100]}
    >>> smallest_within_one_se()(cv_results)  # 0.94 >= 0.95 - 0.02 / 2
    2
    """
    for name, value in (("score", score), ("size", size)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str; got {value!r}.")
    return _SmallestWithinOneSE(score, size)
