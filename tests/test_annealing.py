"""AnnealingSearchCV's cooling schedules."""

import math

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, Integer, Real, annealing
from skautosearch.annealing import _resample, _temperature

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


def test_resampling_copies_the_best_chain_when_cold_and_keeps_every_chain_when_hot():
    rng = np.random.default_rng(0)
    scores = np.array([0.5, 0.9, 0.7, 0.6])
    assert _resample(scores, 1e-6, rng).tolist() == [1, 1, 1, 1]
    # Equal weights: every chain draws itself once and keeps its own state.
    assert _resample(np.full(4, 0.8), 1.0, rng).tolist() == [0, 1, 2, 3]
    assert _resample(scores, 1e6, rng).tolist() == [0, 1, 2, 3]


def test_resampling_draws_copies_within_one_of_their_expected_number():
    rng = np.random.default_rng(0)
    scores = np.array([0.0, 1.0, 2.0, 3.0, 0.5, 2.5, 1.5, 0.2])
    weights = np.exp(scores - scores.max())
    expected = len(scores) * weights / weights.sum()
    for _ in range(50):
        counts = np.bincount(_resample(scores, 1.0, rng), minlength=len(scores))
        assert counts.sum() == len(scores)
        assert np.all(np.abs(counts - expected) < 1)


def test_resampling_replaces_failed_chains_and_leaves_all_failed_chains_alone():
    rng = np.random.default_rng(0)
    parents = _resample(np.array([-np.inf, 0.9, np.nan, 0.9]), 1.0, rng)
    assert set(parents.tolist()) == {1, 3}
    assert _resample(np.full(3, -np.inf), 1.0, rng).tolist() == [0, 1, 2]


@pytest.mark.parametrize("budgeted", [False, True])
def test_budgeted_resampling_applies_to_budgeted_searches_only(monkeypatch, budgeted):
    # In a budgeted search most initial candidates stop at the first rung, and a chain
    # sitting on one explores around a loser; resampling moves it to the winners.
    seen = []
    monkeypatch.setattr(AnnealingSearchCV, "_resampling", "budgeted")  # off by default
    monkeypatch.setattr(annealing, "_resample",
                        lambda scores, *args: seen.append(list(scores)) or
                        _resample(scores, *args))
    budget = dict(resource="n_samples", min_resources=30, max_resources=90) if budgeted else {}
    search = AnnealingSearchCV(
        SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform"), "degree": Integer(1, 4)},
        n_iter=12, n_chains=4, n_initial_points=4, cv=3, random_state=0, **budget,
    ).fit(X, y)
    assert len(set(map(str, search.cv_results_["params"]))) == 12
    # After the first batch and each step: 4 initial points, then steps of 3 chains
    # (the upper bracket's share of 4), 4, and 1 (the last configuration).
    assert len(seen) == (4 if budgeted else 0)
