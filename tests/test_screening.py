"""Pre-screening of proposals by a GP of the scores (genetic and annealing searches)."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from skautosearch import AnnealingSearchCV, Conditional, GeneticSearchCV, Integer, Real
from skautosearch._screening import Screen, copula
from skautosearch.space import SearchSpace


def test_copula_maps_ranks_to_normal_quantiles_and_failures_to_the_worst():
    z = copula([0.99, 0.10, 0.98, np.nan, -np.inf])
    assert np.all(np.diff(z[[1, 2, 0]]) > 0)  # order kept
    assert z[3] == z[4] == z[1]  # failures tie with the worst score
    # A cliff to chance accuracy no longer dwarfs the differences at the top.
    assert z[0] - z[2] > 0.3
    assert np.allclose(copula([np.nan, np.nan]), 0.0)


def test_screen_picks_the_proposals_nearest_the_good_region():
    space = SearchSpace({"x": Real(0.0, 1.0), "kind": ["a", "b"]})
    rng = np.random.default_rng(0)
    told = space.sample(12, rng)
    # Scores peak at x = 0.7 with kind "b"; a few failures.
    scores = {g: (np.nan if g[1][0] < 0.1 else -abs(g[1][0] - 0.7) - 0.5 * (g[1][1] == 0))
              for g in told}
    proposals = [(0, (x, k)) for x in np.linspace(0.02, 0.98, 25) for k in (0, 1)]
    picked = Screen(space).pick(scores, proposals, 4)
    assert len(picked) == 4 and len(set(picked)) == 4
    # The better category, and away from the failures and the poor low x; expected
    # improvement may still reach past the best point seen (0.84) to explore.
    assert all(k == 1 and x > 0.4 for _, (x, k) in picked)


def test_screen_keeps_the_order_until_it_has_enough_points_and_handles_conditions():
    space = SearchSpace({
        "n": Integer(1, 3),
        "width": Conditional(Real(0.0, 1.0), when={"n": [2, 3]}),
    })
    proposals = [(0, (1, None)), (0, (2, 0.5)), (0, (3, 0.9))]
    assert Screen(space).pick({}, proposals, 2) == proposals[:2]
    told = {(0, (1, None)): 0.5, (0, (2, 0.1)): 0.6, (0, (2, 0.8)): 0.9, (0, (3, 0.7)): 0.95,
            (0, (3, 0.2)): 0.7}
    picked = Screen(space).pick(told, proposals, 1)
    assert picked == [(0, (3, 0.9))]


class Bowl(RegressorMixin, BaseEstimator):
    """Scores -(distance to an optimum off-centre) in log space, whatever the data."""

    def __init__(self, a=1.0, b=1.0):
        self.a = a
        self.b = b

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y):
        return -((np.log10(self.a) - 1.3) ** 2 + (np.log10(self.b) + 2.2) ** 2)


@pytest.mark.parametrize("search", [GeneticSearchCV, AnnealingSearchCV])
def test_screening_finds_better_candidates_for_the_same_number_of_fits(search):
    X, y = np.zeros((6, 1)), np.zeros(6)
    space = {"a": Real(1e-4, 1e4, prior="log-uniform"),
             "b": Real(1e-4, 1e4, prior="log-uniform")}

    def best(screening, seed):
        s = search(Bowl(), space, n_iter=24, cv=2, screening=screening, refit=False,
                   random_state=seed).fit(X, y)
        assert len(s.cv_results_["params"]) == 24
        return s.best_score_

    plain = np.mean([best(1, seed) for seed in range(6)])
    screened = np.mean([best(8, seed) for seed in range(6)])
    assert screened > plain


def test_a_long_search_is_screened_from_its_best_candidates_only():
    space = SearchSpace({"x": Real(0.0, 1.0), "y": Real(0.0, 1.0)})
    rng = np.random.default_rng(0)
    told = space.sample(1000, rng)
    scores = {g: -(g[1][0] - 0.3) ** 2 - (g[1][1] - 0.6) ** 2 for g in told}
    proposals = [(0, (x, y)) for x in (0.1, 0.3, 0.9) for y in (0.1, 0.6, 0.9)]
    assert Screen(space).pick(scores, proposals, 1) == [(0, (0.3, 0.6))]
