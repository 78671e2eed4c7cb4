"""Running a batch's fits: in parallel through joblib, one (candidate, split) per task.

Each task is scikit-learn's own ``_fit_and_score``, wrapped so that

* a fit whose test score is NaN or infinite gets ``error_score`` instead;
* a fit running longer than ``timeout`` seconds is interrupted, and its worker process
  killed if the interruption cannot land (a long call inside C code);
* each failure carries a short reason for ``cv_results_["failure_reason"]``;
* a multi-objective search's cost measures are taken on the fold's fitted model.

Results stream back as tasks finish (``return_as="generator_unordered"``), so the
caller can journal each fit at once. When a worker process dies (killed, out of
memory, ``os._exit``), joblib aborts the whole call: the tasks already finished are
kept and the unfinished ones run again, halved at each new death, until the task that
kills its worker runs alone and is recorded as failed. The same holds under joblib's
Dask backend, where a task that keeps killing workers raises ``KilledWorker``.
"""

import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np
from joblib import parallel_config
from joblib.parallel import get_active_backend
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from ._budget import fit_and_score_at_budget
from ._deadline import CandidateTimeout, Deadline
from ._sklearn_private import HAS_FIT_CALLBACKS, _fit_and_score, _MultimetricScorer, _safe_split
from .costs import measure_costs

# Exceptions joblib or Dask raise when a worker process dies under a task.
_WORKER_DEATH = {"TerminatedWorkerError", "BrokenProcessPool", "KilledWorker"}
_MAX_REASON = 200


@dataclass
class Task:
    """One fit: candidate ``candidate`` of ``n_candidates`` on split ``split``."""

    candidate: int
    n_candidates: int
    split: int
    n_splits: int
    parameters: dict
    train: np.ndarray
    test: np.ndarray
    callback_ctx: object = None  # scikit-learn >= 1.9's context of this fit task
    step: object = None  # a budgeted search's rung (skautosearch._budget.Step)


def _is_worker_death(exc):
    return any(cls.__name__ in _WORKER_DEATH for cls in type(exc).__mro__)


def short_reason(fit_error):
    """The exception of a fit's traceback on one line, e.g. ``"ValueError: C must be > 0"``."""
    if not fit_error:
        return ""
    lines = str(fit_error).strip().splitlines()
    # The exception follows the last "  File ..." frame and its indented source line.
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    start = frames[-1] + 1 if frames else 0
    while start < len(lines) - 1 and lines[start].startswith(" "):
        start += 1
    reason = " ".join(line.strip() for line in lines[start:] if line.strip())
    return reason[:_MAX_REASON]


def _finite(score):
    values = score.values() if isinstance(score, dict) else [score]
    try:
        return all(np.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def _run_task(task_id, estimator, X, y, task, fit_kwargs, timeout, tombstones, costs,
              caller=None):
    """Fit and score one task in a worker; returns ``(task_id, out)``.

    With ``costs`` (names of :data:`skautosearch.costs.COST_MEASURES`), they are
    measured on the fold's fitted model and its test rows, as ``out["costs"]``.
    ``caller`` is the search, for scikit-learn's callbacks (with ``task.callback_ctx``).
    """
    raise_errors = fit_kwargs["error_score"] == "raise"
    callbacks = {}
    if task.callback_ctx is not None and HAS_FIT_CALLBACKS:
        callbacks = dict(caller=caller, callback_ctx=task.callback_ctx)
    deadline = Deadline(timeout, os.path.join(tombstones, str(task_id)))
    start = time.perf_counter()
    try:
        with deadline:
            out = _fit(estimator, X, y, task, fit_kwargs, bool(costs), callbacks)
            deadline.stop()
    except CandidateTimeout:
        out = None
    if deadline.expired:
        message = f"timed out after {timeout:g} s"
        if raise_errors:
            raise TimeoutError(
                f"Candidate {task.parameters!r} {message} (candidate_timeout={timeout})."
            )
        out = _failed(task, fit_kwargs, message, time.perf_counter() - start, costs)
        out["timeout"] = timeout
    elif out["fit_error"] is None and not _finite(out["test_scores"]):
        # The fit worked, so scikit-learn does not count it as failed; its score is
        # replaced all the same, so that it cannot win or mislead the strategy.
        message = f"non-finite test score {out['test_scores']!r}"
        if raise_errors:
            raise ValueError(f"Candidate {task.parameters!r} got a {message}.")
        out["test_scores"] = error_scores(fit_kwargs["scorer"], fit_kwargs["error_score"])
        out["failure_reason"] = message
    if costs and "costs" not in out:
        fitted = out.pop("estimator")
        out["costs"] = dict.fromkeys(costs, np.nan)
        if out["fit_error"] is None:
            X_test, _ = _safe_split(fitted, X, y, task.test, task.train)
            out["costs"] = measure_costs(fitted, X_test, costs)
    out.setdefault("failure_reason", short_reason(out["fit_error"]))
    return task_id, out


def _fit(estimator, X, y, task, fit_kwargs, return_estimator, callbacks):
    """``_fit_and_score`` of one task; at a budgeted search's rung, the continuing fit."""
    if task.step is None:
        # A fresh clone for every fit, as scikit-learn's evaluate_candidates does: a
        # candidate must not inherit another's parameters (n_jobs=1 shares the object).
        return _fit_and_score(
            clone(estimator), X, y, train=task.train, test=task.test, parameters=task.parameters,
            split_progress=(task.split, task.n_splits),
            candidate_progress=(task.candidate, task.n_candidates),
            return_estimator=return_estimator, **fit_kwargs, **callbacks,
        )
    return fit_and_score_at_budget(
        estimator, X, y, step=task.step, scorer=fit_kwargs["scorer"], train=task.train,
        test=task.test, parameters=task.parameters, fit_params=fit_kwargs["fit_params"],
        score_params=fit_kwargs["score_params"],
        return_train_score=fit_kwargs["return_train_score"],
        error_score=fit_kwargs["error_score"], return_estimator=return_estimator,
        split=task.split,
    )


def error_scores(scorer, error_score):
    """``error_score`` shaped like ``scorer``'s output (a dict for several metrics)."""
    if isinstance(scorer, _MultimetricScorer):
        return {name: error_score for name in scorer._scorers}
    return error_score


def _failed(task, fit_kwargs, reason, fit_time, costs):
    """The ``out`` of a failed fit, shaped as scikit-learn's, with ``reason`` as error."""
    scores = error_scores(fit_kwargs["scorer"], fit_kwargs["error_score"])
    failed = {
        "fit_error": reason,
        "test_scores": scores,
        "n_test_samples": len(task.test),
        "fit_time": fit_time,
        "score_time": 0.0,
        "failure_reason": reason,
    }
    if costs:
        failed["costs"] = dict.fromkeys(costs, np.nan)
    if fit_kwargs.get("return_train_score"):
        failed["train_scores"] = scores
    return failed


def make_parallel(n_jobs, pre_dispatch, scatter=()):
    """The ``Parallel`` of a whole search; enter it once so its workers are kept.

    Results stream back as they finish; a backend that cannot stream (Ray's) returns
    them at the end of each batch. Under joblib's Dask backend the ``scatter`` objects
    (the data) are sent to the workers once for the search, not once per batch.
    """
    backend, config_n_jobs = get_active_backend()
    if scatter and type(backend).__name__ == "DaskDistributedBackend" and not getattr(
        backend, "data_futures", None
    ):
        scattering = type(backend)(client=backend.client, scatter=list(scatter))
        with parallel_config(backend=scattering, n_jobs=config_n_jobs):
            return make_parallel(n_jobs, pre_dispatch)
    try:
        return Parallel(n_jobs=n_jobs, pre_dispatch=pre_dispatch,
                        return_as="generator_unordered")
    except ValueError:
        return Parallel(n_jobs=n_jobs, pre_dispatch=pre_dispatch)


def run_tasks(tasks, estimator, X, y, fit_kwargs, *, parallel, timeout, on_result,
              costs=(), caller=None):
    """Run every task; call ``on_result(task, out)`` in the caller's thread as each ends.

    ``parallel`` comes from :func:`make_parallel`. A task whose worker dies is reported
    with a failed ``out`` and a reason, and so are the candidate's other splits not run
    yet; every other error propagates (``error_score="raise"``, or a bug). ``caller``
    is the search, passed to scikit-learn's callbacks.
    """
    with tempfile.TemporaryDirectory(prefix="skautosearch-") as tombstones:
        _Runner(estimator, X, y, fit_kwargs, parallel, timeout, on_result, tombstones,
                costs, caller).run(list(tasks))


class _Runner:
    def __init__(self, estimator, X, y, fit_kwargs, parallel, timeout, on_result,
                 tombstones, costs, caller):
        self.args = (estimator, X, y)
        self.caller = caller
        self.fit_kwargs = fit_kwargs
        self.parallel = parallel
        self.timeout = timeout
        self.on_result = on_result
        self.tombstones = tombstones
        self.costs = tuple(costs)
        self.doomed = {}  # candidate -> why one of its fits killed a worker

    def run(self, tasks):
        """Run ``tasks``; after a worker death, run the unfinished ones again in halves."""
        tasks = [task for task in tasks if not self._fail_if_doomed(task)]
        finished = set()
        by_id = {id(task): task for task in tasks}
        try:
            for task_id, out in self.parallel(
                delayed(_run_task)(id(task), *self.args, task, self.fit_kwargs, self.timeout,
                                   self.tombstones, self.costs, self.caller)
                for task in tasks
            ):
                finished.add(task_id)
                self.on_result(by_id[task_id], out)
            return
        except Exception as exc:
            if not _is_worker_death(exc):
                raise
            death = exc
        unfinished = [task for task in tasks if id(task) not in finished]
        killed = [task for task in unfinished
                  if os.path.exists(os.path.join(self.tombstones, str(id(task))))]
        for task in killed:
            self._doom(task, f"timed out after {self.timeout:g} s (worker killed)")
        unfinished = [task for task in unfinished if task not in killed]
        if len(unfinished) == 1 and not killed:
            self._doom(unfinished[0], f"worker process died ({type(death).__name__})")
            return
        # Run the rest again: together if the culprit is known, else in halves.
        half = len(unfinished) if killed else len(unfinished) // 2
        for group in (unfinished[:half], unfinished[half:]):
            if group:
                self.run(group)

    def _doom(self, task, message):
        self.doomed[task.candidate] = message
        self._fail_if_doomed(task)

    def _fail_if_doomed(self, task):
        message = self.doomed.get(task.candidate)
        if message is not None:
            timed_out = message.startswith("timed out")
            out = _failed_or_raise(task, self.fit_kwargs, message,
                                   self.timeout if timed_out else 0.0, self.costs)
            if timed_out:
                out["timeout"] = self.timeout
            self.on_result(task, out)
        return message is not None


def _failed_or_raise(task, fit_kwargs, message, fit_time, costs):
    if fit_kwargs["error_score"] == "raise":
        raise RuntimeError(f"Candidate {task.parameters!r}: {message}.")
    return _failed(task, fit_kwargs, message, fit_time, costs)
