"""The fits of one search: answered from the journal or run, recorded, and formatted.

:class:`Trials` takes batches of candidates (parameter dicts), answers each
(candidate, split) from the checkpoint journal when it can, runs the rest through
:func:`skautosearch._dispatch.run_tasks`, journals every fit as it ends, and keeps the
results in evaluation order. ``cv_results_`` is formatted by scikit-learn's own
``BaseSearchCV._format_results`` from exactly the outputs its ``_fit_and_score``
returned, so it has ``GridSearchCV``'s layout.
"""

import numpy as np

from . import _journal
from ._dispatch import Task, run_tasks
from ._sklearn_private import HAS_FIT_CALLBACKS, _insert_error_scores

# Keys our fits add to scikit-learn's ``_fit_and_score`` output; not for scikit-learn.
_OWN_KEYS = ("failure_reason", "costs", "timeout", "trained")


def _sklearn_out(out):
    return {key: value for key, value in out.items() if key not in _OWN_KEYS}


def _stale(out, timeout):
    """Whether a journaled fit must run again: it timed out under a shorter timeout."""
    recorded = out.get("timeout")
    return recorded is not None and (timeout is None or timeout > recorded)


class Trials:
    """Every fit of one search, in evaluation order.

    Parameters
    ----------
    search : BaseSequentialSearchCV
        The search (for its settings and ``_format_results``); never modified.
    inputs : FitInputs
        Data, folds and fit settings (see :mod:`skautosearch._inputs`).
    parallel : joblib.Parallel
        The search's ``Parallel``, already entered.
    journal : Journal or None
        The checkpoint journal.
    callback_ctx : CallbackContext or None
        scikit-learn >= 1.9's callback context of the search; each fit task gets a
        subcontext, as in ``GridSearchCV``.
    """

    def __init__(self, search, inputs, parallel, journal=None, callback_ctx=None):
        self.search = search
        self.inputs = inputs
        self.parallel = parallel
        self.journal = journal
        self.callback_ctx = callback_ctx
        self.records = []  # (params, outs per split, more_results row)
        self.n_replayed = 0
        self._n_tasks = 0  # fit tasks so far, for the callback contexts' ids

    def run(self, candidate_params, more_results, steps=None):
        """Fit (or replay) every candidate on every split; return their outputs.

        ``more_results`` maps column names to one value per candidate. ``steps`` gives
        each candidate's rung in a budgeted search (:class:`skautosearch._budget.Step`).
        Returns one list of per-split outputs per candidate.
        """
        inputs, journal = self.inputs, self.journal
        timeout = self.search.candidate_timeout
        steps = steps or [None] * len(candidate_params)
        # A rung's budget of rows is not among the parameters: it is part of the key.
        keys = [_journal.params_key(p if s is None else {**p, "__budget__": s.budget})
                for p, s in zip(candidate_params, steps)]
        outs = [[None] * inputs.n_splits for _ in candidate_params]
        tasks = []
        for c, params in enumerate(candidate_params):
            for s, (train, test) in enumerate(inputs.splits):
                answer = journal.answer(keys[c], s) if journal is not None else None
                if answer is not None and not _stale(answer, timeout):
                    outs[c][s] = answer
                    self.n_replayed += 1
                else:
                    tasks.append(Task(c, len(candidate_params), s, inputs.n_splits, params,
                                      train, test, self._task_context(), steps[c]))

        def record(task, out):
            outs[task.candidate][task.split] = out
            if journal is not None:
                journal.append(keys[task.candidate], task.split, out)

        run_tasks(
            tasks, inputs.estimator, inputs.X, inputs.y, inputs.fit_kwargs,
            parallel=self.parallel, timeout=timeout, on_result=record, costs=inputs.costs,
            caller=self.search if self.callback_ctx is not None else None,
        )
        for row, (params, candidate_outs) in enumerate(zip(candidate_params, outs)):
            more = {key: values[row] for key, values in more_results.items()}
            more["failure_reason"] = next(
                (out["failure_reason"] for out in candidate_outs if out.get("failure_reason")),
                "",
            )
            if steps[row] is not None:
                more["resources_trained"] = sum(out.get("trained", 0) for out in candidate_outs)
            for name in inputs.costs:
                values = [out["costs"][name] for out in candidate_outs]
                more[f"mean_{name}"], more[f"std_{name}"] = np.mean(values), np.std(values)
            self.records.append((params, candidate_outs, more))
        return outs

    def _task_context(self):
        """A callback subcontext for the next fit task (scikit-learn >= 1.9), or None."""
        if self.callback_ctx is None or not HAS_FIT_CALLBACKS:
            return None
        self._n_tasks += 1
        return self.callback_ctx.subcontext(
            task_name="candidate-split-evaluation", task_id=self._n_tasks - 1
        )

    @property
    def all_failed(self):
        return all(out["fit_error"] is not None
                   for _, outs, _ in self.records for out in outs)

    @property
    def last_failure(self):
        return next((row["failure_reason"] for _, _, row in reversed(self.records)
                     if row["failure_reason"]), "")

    def results(self):
        """``cv_results_`` of every candidate so far, formatted by scikit-learn."""
        params = [p for p, _, _ in self.records]
        more = {key: [row[key] for _, _, row in self.records] for key in self.records[0][2]}
        return self.search._format_results(params, self.inputs.n_splits, self.all_outs(),
                                           more)

    def all_outs(self):
        """Every fit's scikit-learn output, candidate-major, as ``GridSearchCV`` keeps them."""
        outs = [_sklearn_out(out) for _, candidate_outs, _ in self.records
                for out in candidate_outs]
        if callable(self.search.scoring):
            # A callable scoring's failed fits get error scores shaped like its dicts.
            _insert_error_scores(outs, self.search.error_score)
        return outs
