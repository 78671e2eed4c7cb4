"""AnnealingSearchCV's cooling schedules."""

import math

import pytest
from sklearn.datasets import load_iris
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, Real
from skautosearch.annealing import _temperature

X, y = load_iris(return_X_y=True)


@pytest.mark.parametrize("schedule", ["exponential", "linear", "logarithmic"])
def test_every_schedule_stays_finite_and_positive_for_thousands_of_steps(schedule):
    temperatures = [_temperature(schedule, 1.0, 0.85, step) for step in (0, 100, 5000, 10**6)]
    assert all(math.isfinite(t) and t > 0 for t in temperatures)
    assert temperatures == sorted(temperatures, reverse=True)


def test_exponential_cooling_is_floored_like_linear_cooling():
    # 0.85 ** 5000 underflows to 0.0: the search raised mid-way, after thousands of fits.
    assert _temperature("exponential", 2.0, 0.85, 5000) == pytest.approx(2.0 / 1000)
    assert _temperature("exponential", 2.0, 0.85, 3) == pytest.approx(2.0 * 0.85**3)


def test_a_fast_exponential_cooling_runs_to_the_end_of_the_budget():
    # With rate 1e-200, rate ** 2 underflows at the second step.
    search = AnnealingSearchCV(
        SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")}, n_iter=8, n_chains=2,
        n_initial_points=2, cooling_rate=1e-200, cv=3, random_state=0,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    assert min(search.cv_results_["temperature"]) > 0
