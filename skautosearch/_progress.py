"""Progress bars over the fits of a search.

The searches call their ``callbacks`` after each batch of candidates with
``(search, results)``; :class:`ProgressCallback` is such a callback that draws a
tqdm bar over fits (candidates x CV splits) with the best score so far and the
estimated time left.

For the core searches' ``verbose >= 1`` path, :func:`progress_bar` is a context
manager that yields a :class:`ProgressCallback` (or ``None`` when ``verbose < 1``)
and closes the bar when the search ends, however it ends.
"""

import math
from contextlib import contextmanager

import numpy as np

__all__ = ["ProgressCallback", "progress_bar"]


def _score_key(search):
    """The ``cv_results_`` key of the score that decides the best candidate."""
    refit = getattr(search, "refit", True)
    if isinstance(refit, str) and refit != "knee":
        return f"mean_test_{refit}"
    if refit == "knee":  # the knee of a Pareto front: its first scorer objective
        results = getattr(search, "cv_results_", None) or {}
        for name in getattr(search, "objectives", None) or {}:
            if f"mean_test_{name}" in results:
                return f"mean_test_{name}"
    return "mean_test_score"


def _expected_fits(search):
    """Fits the search plans to make (candidates x splits), or None if unknown.

    Unknown for a budgeted search: how many candidates reach each budget depends on
    the scores. Its bar counts resource units trained instead (see ``ProgressCallback``).
    """
    if getattr(search, "resource", None) is not None:
        return None
    n_splits = getattr(search, "n_splits_", None)
    n_candidates = getattr(search, "n_iter", None)
    if n_candidates is None and hasattr(search, "param_grid"):
        from sklearn.model_selection import ParameterGrid

        n_candidates = len(ParameterGrid(search.param_grid))
    if n_splits is None or n_candidates is None:
        return None
    return int(n_candidates) * int(n_splits)


class ProgressCallback:
    """A tqdm progress bar over the fits of a search, with the best score so far.

    Pass it in a search's ``callbacks``: the search calls it after each batch of
    candidates with ``(search, results)``. The bar counts fits (candidates x CV
    splits, the refit is not counted), shows the best mean test score so far and,
    once the total is known, the estimated time left. It never stops the search.

    Parameters
    ----------
    total : int, default=None
        Number of fits expected. ``None`` reads it from the search at the first
        call: ``n_iter * n_splits_`` (or the size of ``param_grid`` times
        ``n_splits_``). A search that stops early leaves the bar short of its total.
    desc : str, default=None
        Text in front of the bar; ``None`` uses the search's class name.
    file : file-like, default=None
        Where to draw the bar; ``None`` is ``sys.stderr``.
    leave : bool, default=True
        Keep the finished bar on screen.
    disable : bool, default=False
        Draw nothing (the callback still counts fits).
    **tqdm_kwargs : dict
        Further keyword arguments for :class:`tqdm.tqdm`, e.g. ``position``.

    Attributes
    ----------
    n_fits_ : int
        Fits counted so far.
    best_score_ : float
        Best mean test score seen so far (``nan`` before the first batch).

    See Also
    --------
    progress_bar : The context manager that opens and closes one.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.svm import SVC
    >>> from skautosearch._progress import ProgressCallback
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(SVC(), {"C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    >>> bar = ProgressCallback(file=io.StringIO())
    >>> bar(search, search.cv_results_)  # what a search does after each batch
    >>> bar.n_fits_, round(bar.best_score_, 3)
    (9, 0.973)
    >>> bar.close()
    """

    def __init__(
        self, total=None, *, desc=None, file=None, leave=True, disable=False,
        **tqdm_kwargs,
    ):
        self.total = total
        self.desc = desc
        self.file = file
        self.leave = leave
        self.disable = disable
        self.tqdm_kwargs = tqdm_kwargs
        self.n_fits_ = 0
        self.best_score_ = math.nan
        self._bar = None
        self._n_rows = 0

    def _open(self, search):
        from tqdm.auto import tqdm

        total = self.total if self.total is not None else _expected_fits(search)
        self._bar = tqdm(
            total=total,
            desc=self.desc or type(search).__name__,
            unit=getattr(search, "resource", None) or "fit",
            file=self.file,
            leave=self.leave,
            disable=self.disable,
            dynamic_ncols=True,
            **self.tqdm_kwargs,
        )

    def on_batch_start(self, search, n_fits):
        """Open the bar before the first batch so that the clock starts with it.

        Parameters
        ----------
        search : BaseSearchCV
            The search being fitted.
        n_fits : int
            Fits in the batch about to run (unused: the bar moves when it ends).
        """
        if self._bar is None:
            self._open(search)

    def __call__(self, search, results):
        """Advance the bar by the fits of the rows added since the last call.

        Parameters
        ----------
        search : BaseSearchCV
            The search being fitted (``n_splits_`` is set).
        results : dict
            ``cv_results_`` so far.

        Returns
        -------
        None
            Never asks the search to stop.
        """
        if self._bar is None:
            self._open(search)
        n_rows = len(results["params"])
        if "resources_trained" in results:  # a budgeted search: count what was trained
            new_fits = int(np.sum(results["resources_trained"][self._n_rows:]))
        else:
            new_fits = (n_rows - self._n_rows) * int(getattr(search, "n_splits_", 1))
        self._n_rows = n_rows
        self.n_fits_ += new_fits
        scores = np.asarray(results.get(_score_key(search), []), dtype=float)
        if np.isfinite(scores).any():
            self.best_score_ = float(np.nanmax(scores))
            self._bar.set_postfix_str(f"best={self.best_score_:.4f}", refresh=False)
        if self._bar.total is not None and self.n_fits_ > self._bar.total:
            self._bar.total = self.n_fits_
        self._bar.update(new_fits)
        return None

    def close(self):
        """Close the bar; a search that stopped early shows how far it went."""
        if self._bar is not None:
            if self._bar.total is not None and self.n_fits_ < self._bar.total:
                self._bar.total = self.n_fits_
                self._bar.refresh()
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


@contextmanager
def progress_bar(search, *, total=None, **kwargs):
    """Open a progress bar for ``search`` when its ``verbose >= 1``.

    Parameters
    ----------
    search : BaseSearchCV
        The search being fitted; its ``verbose`` decides whether a bar is drawn.
    total : int, default=None
        Fits expected; ``None`` reads them from the search (see
        :class:`ProgressCallback`).
    **kwargs : dict
        Passed to :class:`ProgressCallback`.

    Yields
    ------
    callback : ProgressCallback or None
        Already drawn (at 0 fits); call it after each batch with
        ``(search, results)``. ``None`` when ``search.verbose < 1``.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.svm import SVC
    >>> from skautosearch._progress import progress_bar
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(SVC(), {"C": [1.0, 10.0]}, cv=2, verbose=1)
    >>> search.n_splits_ = 2  # set by fit before the candidates are evaluated
    >>> with progress_bar(search, file=io.StringIO()) as bar:
    ...     bar(search, {"params": [{"C": 1.0}], "mean_test_score": [0.95]})
    >>> bar.n_fits_, bar.best_score_
    (2, 0.95)
    """
    if getattr(search, "verbose", 0) < 1:
        yield None
        return
    callback = ProgressCallback(total, **kwargs)
    callback.on_batch_start(search, 0)  # the clock starts with the search
    try:
        yield callback
    finally:
        callback.close()

