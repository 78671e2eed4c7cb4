"""Budgets: successive halving and Hyperband brackets inside every search.

With ``resource`` set, a candidate is first trained with a small budget of it (epochs,
trees, iterations, rows) and only the best ``1 / factor`` of each batch go on to a
``factor`` times larger budget, up to ``max_resources``. The budgets are the *rungs*
``min_resources * factor**k`` (the last one ``max_resources``). Which rung a batch's new
candidates enter at rotates from batch to batch over Hyperband's brackets (Li et al.,
2018), so that a ``min_resources`` too small to rank candidates is hedged by brackets
that start higher; ``n_brackets=1`` is plain successive halving. As in Hyperband, a batch
that starts higher has fewer new candidates (:meth:`Schedule.batch_size`), so that every
bracket costs about the same; each strategy asks :meth:`Evaluator.batch_size
<skautosearch._evaluator.Evaluator.batch_size>` how many to propose.

A promoted candidate continues: each fold's model resumes from the previous rung (see
:mod:`skautosearch._continuation`) instead of being trained again from scratch as in
scikit-learn's ``HalvingRandomSearchCV``.

The strategies propose batches as without budgets and read one score per candidate,
its mean test score at the highest rung it reached (usually its largest budget: the
better candidates of a batch have the higher rungs). A batch's top rung runs beside the
next batch's first rung, so that its few long fits do not leave workers idle; until it
has run, its candidates' scores are those of the rung below (see
:meth:`skautosearch._evaluator.Evaluator._successive_halving`).
"""

import numbers
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """The rungs and brackets of a budgeted search.

    Parameters
    ----------
    resource : str
        ``"n_samples"`` or an integer parameter of the estimator.
    min_resources, max_resources : int
        The smallest and largest budgets.
    factor : int
        η: each rung has ``factor`` times the budget and ``1 / factor`` of the
        candidates of the one below.
    n_brackets : int or None
        How many of Hyperband's brackets to rotate over (None: all of them).
    """

    resource: str
    min_resources: int
    max_resources: int
    factor: int
    n_brackets: int = None

    @property
    def rungs(self):
        """The budgets, smallest first: ``min_resources * factor**k`` below
        ``max_resources``, then ``max_resources``."""
        rungs = [self.min_resources]
        while rungs[-1] * self.factor < self.max_resources:
            rungs.append(rungs[-1] * self.factor)
        if rungs[-1] < self.max_resources:
            rungs.append(self.max_resources)
        return rungs

    def entry_rung(self, batch):
        """The rung at which batch number ``batch``'s new candidates start."""
        n_brackets = len(self.rungs)
        if self.n_brackets is not None:
            n_brackets = min(self.n_brackets, n_brackets)
        return batch % n_brackets

    def batch_size(self, batch, n):
        """How many new candidates batch number ``batch`` takes when the lowest bracket's
        batch takes ``n``.

        Hyperband's shares (Li et al., 2018): a bracket that starts ``e`` rungs higher
        has ``factor**e`` times the budget per candidate and ``e`` fewer rungs, so it
        gets ``n / factor**e * n_rungs / (n_rungs - e)`` candidates (at least one) and
        each bracket costs about the same. With rungs 1, 3, 9, 27 and ``n=8``: 8, 4, 2
        and 1 candidates, about 36 epochs each with continuation, where 8 in every
        bracket cost 36, 54, 108 and 216.
        """
        n_rungs, entry = len(self.rungs), self.entry_rung(batch)
        share = n / self.factor**entry * n_rungs / (n_rungs - entry)
        return max(1, min(n, int(np.floor(share + 0.5))))

    def n_promoted(self, n_candidates):
        """How many of ``n_candidates`` at a rung go on to the next one (at least one)."""
        return max(1, n_candidates // self.factor)


def promoted(scores, n):
    """Indices of the ``n`` best finite ``scores`` (failures are never promoted)."""
    scores = np.asarray(scores, dtype=float)
    order = [i for i in np.argsort(-scores, kind="stable") if np.isfinite(scores[i])]
    return order[:n]


def check_schedule(search, estimator, n_rows):
    """The :class:`Schedule` of ``search``, or None without ``resource``.

    Raises ``ValueError`` naming the parameter before any fit when the budget settings
    do not fit together or the estimator cannot take the resource.
    """
    if search.resource is None:
        for name in ("min_resources", "max_resources", "n_brackets"):
            if getattr(search, name) is not None:
                raise ValueError(f"{name} needs resource: set resource, or leave {name} "
                                 "as None.")
        return None
    from ._continuation import N_SAMPLES, resource_param

    resource = resource_param(estimator, search.resource)
    max_resources = search.max_resources
    if max_resources is None:
        max_resources = n_rows if resource == N_SAMPLES else estimator.get_params(
            deep=True)[resource]
    _check_positive_int("max_resources", max_resources)
    min_resources = search.min_resources
    if min_resources is None:
        min_resources = max(1, max_resources // search.factor**2)
    _check_positive_int("min_resources", min_resources)
    if min_resources > max_resources:
        raise ValueError(
            f"min_resources={min_resources} must be <= max_resources={max_resources}."
        )
    if resource == N_SAMPLES and max_resources > n_rows:
        raise ValueError(
            f"max_resources={max_resources} is more than the {n_rows} training rows of the "
            "smallest fold."
        )
    return Schedule(resource, int(min_resources), int(max_resources), int(search.factor),
                    search.n_brackets)


def _check_positive_int(name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")


@dataclass(frozen=True)
class Step:
    """One candidate's rung, for the fit tasks of its splits.

    ``store`` keeps fold models between rungs (a ``ModelStore``: only its folder
    travels to the workers); ``continued`` says the previous rung's models are there to
    resume from; ``keep`` says this rung's models may be promoted and must be saved.
    """

    resource: str
    budget: int
    key: str
    store: object
    continued: bool
    keep: bool


def fit_and_score_at_budget(estimator, X, y, *, step, scorer, train, test, parameters,
                            fit_params, score_params, return_train_score=False,
                            error_score=np.nan, return_estimator=False, split=0):
    """``_fit_and_score`` for one rung of one split, continuing the previous rung's model.

    scikit-learn's ``_fit_and_score`` can only fit from scratch; this fits through
    :func:`skautosearch._continuation.fit_to_budget` and scores with scikit-learn's
    ``_score``, returning the same keys, plus ``trained``: the resource units this fit
    trained (the budget from scratch, the difference when it continued).
    """
    from traceback import format_exc

    from sklearn.base import clone

    from ._continuation import fit_to_budget
    from ._dispatch import error_scores
    from ._sklearn_private import _check_method_params, _safe_split, _score

    estimator = clone(estimator).set_params(**clone(parameters, safe=False))
    fit_params = _check_method_params(X, params=fit_params, indices=train)
    X_train, y_train = _safe_split(estimator, X, y, train)
    X_test, y_test = _safe_split(estimator, X, y, test, train)
    previous = step.store.load((step.key, split)) if step.continued else None
    result = {"n_test_samples": len(test)}
    start = time.time()
    try:
        fitted = fit_to_budget(estimator, X_train, y_train, resource=step.resource,
                               budget=step.budget, previous=previous, fit_params=fit_params)
    except Exception:
        if error_score == "raise":
            raise
        error_score = error_scores(scorer, error_score)
        result.update(fit_error=format_exc(), test_scores=error_score,
                      fit_time=time.time() - start, score_time=0.0, trained=0)
        if return_train_score:
            result["train_scores"] = error_score
        return result
    result.update(fit_error=None, fit_time=time.time() - start, trained=fitted.trained)
    model = fitted.estimator
    result["test_scores"] = _score(model, X_test, y_test, scorer,
                                   _check_method_params(X, score_params, indices=test),
                                   error_score)
    result["score_time"] = time.time() - start - result["fit_time"]
    if return_train_score:
        result["train_scores"] = _score(model, X_train, y_train, scorer,
                                        _check_method_params(X, score_params, indices=train),
                                        error_score)
    if step.keep:
        step.store.save((step.key, split), model)
    if return_estimator:
        result["estimator"] = model
    return result
