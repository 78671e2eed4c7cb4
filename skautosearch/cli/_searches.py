"""scikit-learn's grid and randomized searches, with progress after each chunk."""

import numpy as np
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
)


class ChunkedMixin:
    """Evaluate the parent search's candidates in chunks, so progress can be shown.

    The candidates, their order, the CV splits and so ``cv_results_`` are those of
    the parent class; only the number of ``evaluate_candidates`` calls differs.
    """

    progress = None  # called as progress(search, results) after each chunk
    chunk_size = 4  # candidates a chunk, at least: one each for n_jobs workers

    def _run_search(self, evaluate_candidates):
        from joblib import effective_n_jobs

        candidates = list(self._candidates())
        size = max(self.chunk_size, effective_n_jobs(self.n_jobs))  # every worker busy
        for start in range(0, len(candidates), size):
            results = evaluate_candidates(candidates[start:start + size])
            if self.progress is not None:
                self.progress(self, results)


class ChunkedGridSearchCV(ChunkedMixin, GridSearchCV):
    """``GridSearchCV`` that reports progress after each chunk of candidates."""

    def _candidates(self):
        return ParameterGrid(self.param_grid)


class ChunkedRandomizedSearchCV(ChunkedMixin, RandomizedSearchCV):
    """``RandomizedSearchCV`` that reports progress after each chunk of candidates."""

    def _candidates(self):
        if _sklearn_reads(self.param_distributions):
            return ParameterSampler(self.param_distributions, self.n_iter,
                                    random_state=self.random_state)
        return _draws(self.param_distributions, self.n_iter, self.random_state)


def _sklearn_reads(space):
    """Whether ``ParameterSampler`` reads ``space`` right: no Conditional, no skopt.

    A skopt dimension has an ``rvs`` that returns a list, which ``ParameterSampler``
    would pass on as the value.
    """
    from skopt.space import Dimension

    from skautosearch import Conditional

    subs = space if isinstance(space, (list, tuple)) else [space]
    return not any(isinstance(value, (Conditional, Dimension))
                   for sub in subs for value in sub.values())


def _draws(space, n_iter, random_state):
    """Up to ``n_iter`` distinct candidates drawn independently from ``space``'s priors.

    Candidates that differ only in inactive parameters are one candidate, so a
    small conditional space may give fewer (as ``RandomizedSearchCV`` gives the
    whole grid when it has fewer than ``n_iter`` points).
    """
    from sklearn.utils import check_random_state

    from skautosearch.space import SearchSpace

    space = SearchSpace(space)
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31 - 1))
    n = int(min(n_iter, space.size()))
    seen = {}
    for _ in range(100 * n_iter):  # a bound: size() may overcount a large space
        if len(seen) == n:
            break
        genome = space.sample(1, rng)[0]
        seen.setdefault(genome, space.decode(genome))
    return list(seen.values())
