"""When a search stops: its budget, its space, its clock, its patience and its callbacks.

:class:`Stopping` is told after each batch whether it brought new candidates and
whether it improved the search; its ``reason`` is the search's ``stop_reason_``:

* ``"n_iter"``: ``n_iter`` distinct candidates were evaluated;
* ``"exhausted"``: every candidate of a finite space was evaluated;
* ``"stalled"``: the strategy proposed no new candidate for
  :data:`MAX_STALLED_BATCHES` batches in a row, though the space has more;
* ``"max_time"``, ``"patience"``, ``"callback"``: the user's rules.
"""

import time

# Consecutive batches with no new candidate before a search is declared stalled.
MAX_STALLED_BATCHES = 10


class Stopping:
    """The stopping rules of one search.

    Parameters
    ----------
    search : BaseSequentialSearchCV
        For ``n_iter``, ``max_time`` and ``patience``.
    space_size : int or float
        Number of distinct candidates of the space (``inf`` if continuous).
    callbacks : list of callables
        ``callback(search, results) -> bool``; True stops the search.
    """

    def __init__(self, search, space_size, callbacks):
        self.search = search
        self.space_size = space_size
        self.callbacks = callbacks
        self.reason = None
        self._start = time.monotonic()
        self._stalled = 0
        self._since_improvement = 0

    def after_batch(self, n_evaluated, any_new, improved, results):
        """Update the rules after a batch; ``results`` is ``cv_results_`` so far or None."""
        self._stalled = 0 if any_new else self._stalled + 1
        self._since_improvement = 0 if improved else self._since_improvement + 1
        search = self.search
        if n_evaluated >= search.n_iter:
            self.reason = "n_iter"
        elif n_evaluated >= self.space_size:
            self.reason = "exhausted"
        elif self._stalled >= MAX_STALLED_BATCHES:
            self.reason = "stalled"
        elif search.max_time is not None and time.monotonic() - self._start >= search.max_time:
            self.reason = "max_time"
        elif search.patience is not None and self._since_improvement >= search.patience:
            self.reason = "patience"
        if any_new and results is not None:
            # Every callback sees every batch, even once one has asked to stop.
            if any([callback(search, results) for callback in self.callbacks]):
                self.reason = self.reason or "callback"

    def after_finish(self, results):
        """Show the callbacks the final ``results`` after the search's last fits.

        A budgeted search runs the top rung of its last batch after the strategy is
        done (see :meth:`skautosearch._evaluator.Evaluator.finish`); there is nothing
        left to stop, so the callbacks' answers are ignored.
        """
        for callback in self.callbacks:
            callback(self.search, results)
