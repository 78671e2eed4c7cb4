"""Plots of fitted searches. Needs matplotlib: ``pip install skautosearch[plot]``.

* :func:`plot_convergence` -- best score so far against fits, several searches on
  one axis.
* :func:`plot_parameters` -- the score of each candidate against each parameter.
* :func:`plot_generations` -- a :class:`~skautosearch.GeneticSearchCV`'s fitness by
  generation.
* :func:`plot_annealing` -- an :class:`~skautosearch.AnnealingSearchCV`'s score and
  temperature along its chains.
* :func:`plot_pareto` -- every candidate's score against a cost, with the Pareto
  front and the chosen model.
* :func:`plot_budgets` -- a budgeted search's candidates, score against budget.

Every function takes an optional ``ax`` (or ``axes``) to draw into and returns
the axes it drew on; it never calls ``plt.show()``.
"""

import numbers

import numpy as np

from skautosearch._progress import _score_key
from skautosearch.pareto import (
    _objective_column,
    objective_matrix,
    pareto_front,
    parse_objectives,
)
from skautosearch.results import _cv_results, convergence

__all__ = [
    "plot_annealing",
    "plot_budgets",
    "plot_convergence",
    "plot_generations",
    "plot_parameters",
    "plot_pareto",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skautosearch.plot needs matplotlib: pip install skautosearch[plot]"
        ) from exc
    return plt


def _score_label(search):
    """'Mean CV score (accuracy)' style label from the search's scoring."""
    scoring = getattr(search, "scoring", None)
    refit = getattr(search, "refit", True)
    if isinstance(refit, str):
        name = refit
    elif isinstance(scoring, str):
        name = scoring
    elif scoring is None and hasattr(search, "estimator"):
        from sklearn.base import is_regressor

        name = "R²" if is_regressor(search.estimator) else "accuracy"
    else:
        name = "score"
    return f"mean CV score ({name})"


def _new_axes(ax, plt, **subplots_kwargs):
    if ax is not None:
        return ax
    _, ax = plt.subplots(**subplots_kwargs)
    return ax


def plot_convergence(searches, *, ax=None, reference=None, reference_label=None,
                     legend=True):
    """Best score so far against the number of fits, one line per search.

    Parameters
    ----------
    searches : fitted search, list of them, or dict
        Fitted scikit-learn searches (ours, ``GridSearchCV``,
        ``RandomizedSearchCV``, ...). A dict maps legend labels to searches; a
        list is labelled by class name.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; ``None`` makes a new figure.
    reference : float, default=None
        A score to draw as a dashed horizontal line, e.g. ``GridSearchCV``'s best.
    reference_label : str, default=None
        Legend text for ``reference``.
    legend : bool, default=True
        Draw the legend (outside the axes, on the right).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    See Also
    --------
    skautosearch.results.convergence : The numbers behind each line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    >>> from sklearn.svm import SVC
    >>> from skautosearch.plot import plot_convergence
    >>> X, y = load_iris(return_X_y=True)
    >>> space = {"C": [0.01, 0.1, 1.0, 10.0], "gamma": [0.01, 0.1, 1.0]}
    >>> grid = GridSearchCV(SVC(), space, cv=3).fit(X, y)
    >>> rand = RandomizedSearchCV(SVC(), space, n_iter=4, cv=3,
    ...                           random_state=0).fit(X, y)
    >>> ax = plot_convergence({"grid": grid, "random": rand},
    ...                       reference=grid.best_score_, reference_label="grid best")
    >>> ax.get_xlabel()
    'number of fits'
    """
    plt = _pyplot()
    searches = _labelled(searches)
    ax = _new_axes(ax, plt, figsize=(10, 4.5), layout="constrained")
    finals = []
    for i, (label, search) in enumerate(searches.items()):
        n_fits, best = convergence(search)
        # Lines often share a score: dashes and widths that shrink line after line
        # let an earlier line show around a later one drawn over it.
        width = max(3.2 - 0.45 * i, 1.2)
        line, = ax.step(n_fits, best, where="post", linewidth=width,
                        linestyle=_LINESTYLES[i % len(_LINESTYLES)],
                        label=f"{label}: {best[-1]:.4f} after {n_fits[-1]} fits")
        ax.plot(n_fits[-1:], best[-1:], "o", color=line.get_color())
        finals.append(best[-1])
    _focus_on_the_top(ax, finals, reference)
    if reference is not None:
        ax.axhline(reference, color="0.3", linestyle="--", linewidth=1,
                   label=reference_label or f"reference ({reference:.4f})")
    first = next(iter(searches.values()))
    ax.set_xlabel("number of fits")
    ax.set_ylabel("best " + _score_label(first) + " so far")
    ax.set_title("Convergence: best score against number of fits")
    ax.set_xlim(left=0)
    ax.grid(True, alpha=0.3)
    if legend:
        # Outside the axes: inside, it hides the lines that climb from below.
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    return ax


_LINESTYLES = ("-", "--", "-.", ":")


def _focus_on_the_top(ax, finals, reference):
    """Keep the y axis on the final scores, not on the poor first candidates."""
    finals = [f for f in finals + [reference] if f is not None and np.isfinite(f)]
    if not finals:
        return
    low, high = min(finals), max(finals)
    margin = max(0.15 * (high - low), 0.01 * max(abs(high), 1e-12), 1e-3)
    bottom = low - margin
    if bottom > ax.get_ylim()[0]:
        ax.set_ylim(bottom, high + margin / 3)


def _labelled(searches):
    if isinstance(searches, dict):
        if not searches:
            raise ValueError("searches is empty.")
        return searches
    if not isinstance(searches, (list, tuple)):
        searches = [searches]
    if not searches:
        raise ValueError("searches is empty.")
    labels = [type(search).__name__ for search in searches]
    return {
        (f"{label} #{i}" if labels.count(label) > 1 else label): search
        for i, (label, search) in enumerate(zip(labels, searches))
    }


def _space_dims(search):
    """Parameter name -> its definition in the search space (merged sub-spaces)."""
    space = getattr(search, "param_distributions", None)
    if space is None:
        space = getattr(search, "param_grid", None)
    if space is None:
        return {}
    dims = {}
    for sub in space if isinstance(space, (list, tuple)) else [space]:
        dims.update(sub)
    return dims


def _is_log_scale(dim, values):
    """Whether a parameter reads best on a log axis.

    skopt ``Real``/``Integer`` with ``prior="log-uniform"`` and
    ``scipy.stats.loguniform`` are log; a list of positive numbers that spans two
    decades or more (``[0.01, 0.1, 1, 10]``) is too.
    """
    prior = getattr(dim, "prior", None)
    if prior == "log-uniform":
        return True
    dist_name = getattr(getattr(dim, "dist", None), "name", None)
    if dist_name in ("loguniform", "reciprocal"):
        return True
    numeric = [v for v in values if _is_number(v)]
    if prior is not None or dist_name is not None or len(numeric) != len(values):
        return False
    numeric = np.asarray(numeric, dtype=float)
    if numeric.size < 2 or numeric.min() <= 0:
        return False
    return numeric.max() / numeric.min() >= 100


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def plot_parameters(search, *, params=None, axes=None):
    """The mean CV score of every candidate against each parameter.

    One panel per parameter. Candidates are coloured by evaluation order (dark
    early, light late) and the best one is ringed in red. Numeric parameters get
    a numeric axis -- logarithmic for log-uniform dimensions and for value lists
    spanning two decades or more; other parameters (strings, ``None``, tuples)
    are placed at evenly spaced categories.

    Parameters
    ----------
    search : fitted BaseSearchCV
        Any fitted scikit-learn search.
    params : list of str, default=None
        Parameters to plot; ``None`` plots every parameter that varies.
    axes : array of matplotlib.axes.Axes, default=None
        One axes per parameter; ``None`` makes a new figure.

    Returns
    -------
    axes : ndarray of matplotlib.axes.Axes
        One per parameter, in the order of ``params``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import RandomizedSearchCV
    >>> from sklearn.svm import SVC
    >>> from skautosearch.plot import plot_parameters
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomizedSearchCV(
    ...     SVC(), {"C": loguniform(1e-2, 1e2), "kernel": ["rbf", "linear"]},
    ...     n_iter=6, cv=3, random_state=0).fit(X, y)
    >>> axes = plot_parameters(search)
    >>> [(ax.get_xlabel(), ax.get_xscale()) for ax in axes]
    [('C', 'log'), ('kernel', 'linear')]
    """
    plt = _pyplot()
    results = _cv_results(search)
    all_params = [dict(p) for p in results["params"]]
    params = params or _varying_params(all_params)
    if not params:
        raise ValueError("No parameter varies across the candidates: nothing to plot.")
    unknown = [p for p in params if not any(p in cand for cand in all_params)]
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown}; the search has "
                         f"{sorted({k for cand in all_params for k in cand})}.")
    created = axes is None
    if created:
        ncols = min(3, len(params))
        nrows = -(-len(params) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.6 * nrows),
                                 squeeze=False, sharey=True, layout="constrained")
        for extra in axes.ravel()[len(params):]:
            extra.remove()
        fig.suptitle(f"{type(search).__name__}: score against each parameter")
    axes = np.asarray(axes, dtype=object).ravel()[: len(params)]
    scores = np.asarray(results[_score_key(search)], dtype=float)
    dims = _space_dims(search)
    for i, (ax, name) in enumerate(zip(axes, params)):
        points = _parameter_panel(ax, name, all_params, scores, dims.get(name))
        if not created or i % ncols == 0:  # shared y axis: label it once a row
            ax.set_ylabel(_score_label(search))
    axes[0].figure.colorbar(points, ax=list(axes), label="evaluation order",
                            fraction=0.05, pad=0.02)
    return axes


def _varying_params(all_params):
    names = []
    for cand in all_params:
        names += [k for k in cand if k not in names]
    return [n for n in names
            if len({repr(c.get(n, "<absent>")) for c in all_params}) > 1]


def _parameter_panel(ax, name, all_params, scores, dim):
    rows = [i for i, cand in enumerate(all_params) if name in cand]
    values = [all_params[i][name] for i in rows]
    y = scores[rows]
    if all(_is_number(v) for v in values):
        x = np.asarray(values, dtype=float)
        if _is_log_scale(dim, values):
            ax.set_xscale("log")
    else:
        categories = list(dict.fromkeys(repr(v) if not isinstance(v, str) else v
                                        for v in values))
        labels = [repr(v) if not isinstance(v, str) else v for v in values]
        x = np.array([categories.index(lab) for lab in labels], dtype=float)
        # A little horizontal spread, so that equal scores do not hide each other.
        x += np.random.default_rng(0).uniform(-0.12, 0.12, size=x.size)
        ax.set_xticks(range(len(categories)), categories, rotation=30 if
                      max(map(len, categories)) > 6 else 0)
        ax.set_xlim(-0.5, len(categories) - 0.5)
    points = ax.scatter(x, y, c=np.asarray(rows), cmap="viridis", s=28,
                        edgecolor="none", vmin=0, vmax=max(len(all_params) - 1, 1))
    if np.isfinite(y).any():
        best = int(np.nanargmax(y))
        ax.scatter(x[best], y[best], s=120, facecolor="none", edgecolor="red",
                   linewidth=1.5, label="best")
    ax.set_xlabel(name)
    ax.grid(True, alpha=0.3)
    return points


def _require_columns(search, columns, what):
    results = _cv_results(search)
    missing = [c for c in columns if c not in results]
    if missing:
        raise ValueError(
            f"{what} needs the cv_results_ column(s) {missing}, which "
            f"{type(search).__name__} does not record."
        )
    return results


def plot_generations(search, *, ax=None):
    """A genetic search's fitness (mean CV score) by generation.

    Each individual is a dot, placed in the generation that first evaluated it;
    lines join the best, the mean and the worst of those new individuals, and a
    dashed line shows the best so far. Elites carried into a generation are not
    refitted, so they appear only in the generation that found them: a
    generation's "best" can fall while the best so far holds.

    Parameters
    ----------
    search : fitted GeneticSearchCV
        Or any fitted search whose ``cv_results_`` has a ``generation`` column.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If ``cv_results_`` has no ``generation`` column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skautosearch import GeneticSearchCV
    >>> from skautosearch.plot import plot_generations
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GeneticSearchCV(SVC(), {"C": [0.01, 0.1, 1, 10, 100]},
    ...                          n_iter=5, cv=3, random_state=0).fit(X, y)
    >>> plot_generations(search).get_xlabel()
    'generation'
    """
    plt = _pyplot()
    results = _require_columns(search, ["generation"], "plot_generations")
    generation = np.asarray(results["generation"], dtype=int)
    scores = np.asarray(results[_score_key(search)], dtype=float)
    ax = _new_axes(ax, plt, figsize=(7, 4.5))
    ax.scatter(generation, scores, s=14, color="0.6", alpha=0.7, label="individual")
    gens = np.unique(generation)
    per_gen = [scores[generation == g] for g in gens]
    for stat, style, label in ((np.nanmax, "-o", "best"), (np.nanmean, "-s", "mean"),
                               (np.nanmin, "-v", "worst")):
        ax.plot(gens, [_nan_stat(stat, s) for s in per_gen], style, label=label,
                markersize=4)
    best_so_far = np.fmax.accumulate([_nan_stat(np.nanmax, s) for s in per_gen])
    ax.step(gens, best_so_far, "k--", where="post", linewidth=1, label="best so far")
    ax.set_xlabel("generation")
    ax.set_ylabel(_score_label(search))
    ax.set_title(f"{type(search).__name__}: fitness by generation")
    ax.set_xlim(gens[0] - 0.5, gens[-1] + 0.5)
    _integer_ticks(ax, gens)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", title="new in each generation", fontsize="small",
              title_fontsize="small")
    return ax


def _integer_ticks(ax, values):
    if len(values) <= 12:
        ax.set_xticks(values)
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)


def _nan_stat(stat, values):
    return stat(values) if np.isfinite(values).any() else np.nan


def plot_annealing(search, *, axes=None):
    """An annealing search's scores along each chain, and the temperature, by step.

    Top panel: the mean CV score of the candidate each chain proposed at each step
    (one line a chain) and, at step 0, the initial sample the chains start from
    (rows whose ``chain`` is -1). Bottom panel: the temperature, which sets how
    often a chain accepts a worse candidate (log scale when it spans two decades).

    Parameters
    ----------
    search : fitted AnnealingSearchCV
        Or any fitted search whose ``cv_results_`` has ``step``, ``chain`` and
        ``temperature`` columns.
    axes : pair of matplotlib.axes.Axes, default=None
        Axes for the scores and the temperature; ``None`` makes a new figure.

    Returns
    -------
    axes : ndarray of matplotlib.axes.Axes, shape (2,)
        The score axes and the temperature axes.

    Raises
    ------
    ValueError
        If ``cv_results_`` lacks one of those columns.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skautosearch import AnnealingSearchCV
    >>> from skautosearch.plot import plot_annealing
    >>> X, y = load_iris(return_X_y=True)
    >>> search = AnnealingSearchCV(SVC(), {"C": [0.01, 0.1, 1, 10, 100]},
    ...                            n_iter=5, n_initial_points=3, cv=3,
    ...                            random_state=0).fit(X, y)
    >>> score_ax, temp_ax = plot_annealing(search)
    >>> temp_ax.get_ylabel()
    'temperature'
    """
    plt = _pyplot()
    results = _require_columns(search, ["step", "chain", "temperature"],
                               "plot_annealing")
    step = np.asarray(results["step"], dtype=int)
    chain = np.asarray(results["chain"], dtype=int)
    scores = np.asarray(results[_score_key(search)], dtype=float)
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True,
                                 layout="constrained",
                                 gridspec_kw={"height_ratios": [2, 1]})
        fig.suptitle(f"{type(search).__name__}: score and temperature by step")
    score_ax, temp_ax = axes
    _annealing_scores(score_ax, step, chain, scores)
    score_ax.set_ylabel(_score_label(search))
    _annealing_temperature(temp_ax, step, np.asarray(results["temperature"], float))
    return np.array([score_ax, temp_ax], dtype=object)


def _annealing_scores(ax, step, chain, scores):
    initial = chain < 0
    if initial.any():
        ax.scatter(step[initial], scores[initial], s=18, color="0.6",
                   label="initial sample")
    if initial.all():
        ax.text(0.03, 0.5, "n_iter was spent on the\ninitial sample: no chain\nmoved",
                transform=ax.transAxes, ha="left", va="center", color="0.3")
    for c in np.unique(chain[~initial]):
        rows = np.flatnonzero(chain == c)
        rows = rows[np.argsort(step[rows], kind="stable")]
        ax.plot(step[rows], scores[rows], "-o", markersize=3, linewidth=1,
                label=f"chain {c}")
    if np.isfinite(scores).any():
        best = np.nanargmax(scores)
        ax.scatter(step[best], scores[best], s=120, facecolor="none",
                   edgecolor="red", linewidth=1.5, label="best", zorder=3)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")


def _annealing_temperature(ax, step, temperature):
    # Every chain shares the temperature of its step: one line says it all.
    steps, first = np.unique(step, return_index=True)
    ax.plot(steps, temperature[first], "-o", color="0.3", markersize=3)
    if (temperature > 0).all() and temperature.max() / temperature.min() >= 100:
        ax.set_yscale("log")
    ax.set_ylabel("temperature")
    ax.set_xlabel("step")
    ax.set_xlim(steps[0] - 0.5, steps[-1] + 0.5)
    _integer_ticks(ax, steps)
    ax.grid(True, alpha=0.3)


#: Axis labels of the cost measures of :mod:`skautosearch.costs`.
_COST_LABELS = {
    "n_params": "number of parameters",
    "n_nonzero": "number of non-zero parameters",
    "size_bytes": "model size (bytes)",
    "latency": "latency (seconds per row)",
    "fit_time": "fit time (s)",
    "score_time": "score time (s)",
}
# Costs spanning more than this many decades get a log axis.
_LOG_DECADES = 1.5


def plot_pareto(search, *, x="size_bytes", y=None, ax=None, objectives=None):
    """Every candidate's score against a cost, with the Pareto front and the chosen model.

    Candidates are grey dots; the Pareto front is highlighted and joined by a
    step line (the edge of what the front attains); the model the search chose
    (``best_index_``) is a red star. The x axis is logarithmic when the cost
    spans more than 1.5 decades.

    Parameters
    ----------
    search : fitted search
        Any fitted search whose ``cv_results_`` holds the two columns; see
        :func:`skautosearch.pareto.objective_matrix` for how a name finds its
        column (``mean_test_<name>``, ``mean_<name>``, or ``mean_test_score``
        for the single scorer). A ``pareto_front_`` attribute with an
        ``"index"`` entry gives the front to highlight (the front of all the
        search's objectives, which may include some not plotted); otherwise the
        front of the two plotted objectives is computed.
    x : str, default="size_bytes"
        The cost for the x axis: a measure of :data:`skautosearch.costs.COST_MEASURES`,
        or any per-candidate mean such as ``"fit_time"``.
    y : str, default=None
        The score for the y axis; ``None`` takes the first ``"max"`` objective,
        or else the score the search refits on.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; ``None`` makes a new figure.
    objectives : dict of str to {"max", "min"}, default=None
        Directions of the objectives; ``None`` reads the search's
        ``objectives`` if it has one. ``x`` or ``y`` missing from it is
        minimised (``x``) or maximised (``y``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If ``cv_results_`` has no column for ``x`` or ``y`` (the message lists
        those it has), or they name the same column.

    See Also
    --------
    skautosearch.pareto.pareto_front : The front of any number of objectives.
    skautosearch.pareto.knee_point : A balanced point of the front.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skautosearch.plot import plot_pareto
    >>> cv_results = {"mean_test_score": [0.80, 0.90, 0.93, 0.85],
    ...               "mean_n_params": [10, 50, 400, 90]}
    >>> ax = plot_pareto(cv_results, x="n_params")
    >>> ax.get_xlabel(), ax.get_xscale()
    ('number of parameters', 'log')
    """
    plt = _pyplot()
    results = _cv_results(search)
    if objectives is None:
        objectives = getattr(search, "objectives", None)
    directions = {}
    if objectives:
        directions = dict(objectives)
        parse_objectives(directions)  # only to raise its errors on a bad direction
    y = y if y is not None else _default_score(search, directions)
    scoring = getattr(search, "scoring", None)
    scoring = scoring if isinstance(scoring, str) else None
    pair = {y: directions.get(y, "max"), x: directions.get(x, "min")}
    if len(pair) < 2:
        raise ValueError(f"x and y are the same objective ({x!r}): nothing to plot.")
    F = objective_matrix(results, pair, scoring=scoring)
    ys = np.asarray(results[_objective_column(results, y, scoring)], dtype=float)
    xs = np.asarray(results[_objective_column(results, x, scoring)], dtype=float)
    ax = _new_axes(ax, plt, figsize=(7, 4.5))
    ax.scatter(xs, ys, s=18, color="0.65", label="candidate")
    _front(ax, xs, ys, _front_index(search, F), x_is_min=pair[x] == "min")
    _chosen(ax, xs, ys, getattr(search, "best_index_", None))
    finite = xs[np.isfinite(xs)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 10**_LOG_DECADES:
        ax.set_xscale("log")
    ax.set_xlabel(_COST_LABELS.get(x, x))
    y_is_the_score = _objective_column(results, y, scoring) == _score_key(search)
    ax.set_ylabel(_score_label(search) if y_is_the_score else f"mean CV {y}")
    ax.set_title(f"{type(search).__name__}: Pareto front of {y} and {x}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return ax


def _default_score(search, directions):
    maximised = [name for name, direction in directions.items() if direction == "max"]
    if maximised:
        return maximised[0]
    return _score_key(search)[len("mean_test_"):]


def _front_index(search, F):
    front = getattr(search, "pareto_front_", None)
    if isinstance(front, dict) and "index" in front:
        return np.asarray(front["index"], dtype=int)
    return pareto_front(F)


def _front(ax, xs, ys, front, x_is_min):
    front = front[np.argsort(xs[front], kind="stable")]
    # The edge of the region the front dominates: a step at each front point.
    line, = ax.step(xs[front], ys[front], where="post" if x_is_min else "pre",
                    linewidth=1.2, color="C0")
    ax.scatter(xs[front], ys[front], s=42, color=line.get_color(), edgecolor="black",
               linewidth=0.6, zorder=3, label=f"Pareto front ({front.size})")


def _chosen(ax, xs, ys, index):
    if index is None or not isinstance(index, numbers.Integral):
        return
    ax.scatter(xs[index], ys[index], marker="*", s=260, color="red", edgecolor="black",
               linewidth=0.6, zorder=4, label=f"chosen (candidate {index})")


def plot_budgets(search, *, ax=None):
    """A budgeted search's candidates: each one's score against its budget, rung by rung.

    Each candidate is a line through the budgets (rungs) it reached; those stopped early
    end low and left, the promoted ones climb to the right. The model the search chose
    is drawn in red. Learning curves that cross a lot mean early budgets rank badly
    (raise ``min_resources``); curves that keep their order mean the budgets help.

    Parameters
    ----------
    search : fitted search
        A search fitted with ``resource`` (its ``cv_results_`` has ``n_resources``).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; ``None`` makes a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.

    Raises
    ------
    ValueError
        If the search has no budgets.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skautosearch.plot import plot_budgets
    >>> cv_results = {"params": [{"C": 1, "epochs": 1}, {"C": 2, "epochs": 1},
    ...                          {"C": 2, "epochs": 3}],
    ...               "n_resources": [1, 1, 3], "mean_test_score": [0.5, 0.7, 0.9]}
    >>> ax = plot_budgets(cv_results)
    >>> len(ax.lines)
    2
    """
    plt = _pyplot()
    results = _require_columns(search, ["n_resources", "params"], "plot_budgets")
    key = _score_key(search) if not isinstance(search, dict) else "mean_test_score"
    scores = np.asarray(results[key], dtype=float)
    budgets = np.asarray(results["n_resources"], dtype=float)
    resource = _resource_name(search, results)
    curves = {}  # a candidate's rows, across its budgets
    for i, params in enumerate(results["params"]):
        candidate = repr(sorted((k, repr(v)) for k, v in params.items() if k != resource))
        curves.setdefault(candidate, []).append(i)
    best = getattr(search, "best_index_", None)
    ax = _new_axes(ax, plt, figsize=(7, 4.5))
    for rows in curves.values():
        chosen = best is not None and best in rows
        ax.plot(budgets[rows], scores[rows], marker="o", markersize=3,
                color="tab:red" if chosen else "0.6", alpha=1.0 if chosen else 0.6,
                zorder=3 if chosen else 2, label="chosen" if chosen else None)
    if budgets.max() / max(budgets.min(), 1) >= 8:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(f"budget ({resource or 'resource'})")
    ax.set_ylabel(_score_label(search) if not isinstance(search, dict) else "score")
    ax.set_title("candidates by budget (successive halving)")
    if best is not None:
        ax.legend(loc="lower right")
    return ax


def _resource_name(search, results):
    """The searched resource: the search's ``resource``, or the parameter that is the budget."""
    resource = getattr(search, "resource", None)
    if resource is not None:
        return resource
    params, budgets = results["params"], results["n_resources"]
    for name in params[0]:
        if all(p.get(name) == b for p, b in zip(params, budgets)):
            return name
    return None
