"""The searches under Ray's joblib backend give the same results as under loky.

Ray is not a test dependency (about 250 MB installed); the module is skipped without it.
Ray's backend cannot stream results and starts a pool of actors for every batch (seconds
each), so the searches here are one batch each.
"""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV, Real

ray = pytest.importorskip("ray")
ray_joblib = pytest.importorskip("ray.util.joblib")
joblib = pytest.importorskip("joblib")

X, y = load_iris(return_X_y=True)
SPACE = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-4, 10, prior="log-uniform")}
CV = StratifiedKFold(3, shuffle=True, random_state=0)


@pytest.fixture(scope="module")
def ray_backend():
    # A local Ray instance of 2 CPUs, no dashboard; started once for the module.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray_joblib.register_ray()
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.parametrize("cls", [GeneticSearchCV, AnnealingSearchCV, BayesianSearchCV])
def test_same_cv_results_under_ray_as_under_loky(cls, ray_backend):
    def search():
        return cls(SVC(), SPACE, n_iter=4, cv=CV, n_jobs=2, random_state=0)

    loky = search().fit(X, y)
    with joblib.parallel_config(backend="ray"):
        on_ray = search().fit(X, y)
    assert loky.cv_results_["params"] == on_ray.cv_results_["params"]
    for key in ("split0_test_score", "split2_test_score", "mean_test_score", "batch"):
        np.testing.assert_array_equal(loky.cv_results_[key], on_ray.cv_results_[key])
    assert loky.best_params_ == on_ray.best_params_
