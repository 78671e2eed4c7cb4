"""scikit-learn's grid and randomized searches, with progress after each chunk."""

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
        return ParameterSampler(self.param_distributions, self.n_iter,
                                random_state=self.random_state)
