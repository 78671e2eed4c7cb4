"""The searches under joblib's Dask backend give the same results as under loky."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV, Real

distributed = pytest.importorskip("dask.distributed")
joblib = pytest.importorskip("joblib")

X, y = load_iris(return_X_y=True)
SPACE = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-4, 10, prior="log-uniform")}
CV = StratifiedKFold(3, shuffle=True, random_state=0)


@pytest.fixture(scope="module")
def client():
    # In-process workers talking over inproc:// transport: no network at all.
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False,
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.mark.parametrize("cls", [GeneticSearchCV, AnnealingSearchCV, BayesianSearchCV])
def test_same_cv_results_under_dask_as_under_loky(cls, client):
    def search():
        return cls(SVC(), SPACE, n_iter=8, cv=CV, n_jobs=2, random_state=0)

    loky = search().fit(X, y)
    with joblib.parallel_config(backend="dask"):
        dask = search().fit(X, y)
    assert loky.cv_results_["params"] == dask.cv_results_["params"]
    for key in ("split0_test_score", "split2_test_score", "mean_test_score", "batch"):
        np.testing.assert_array_equal(loky.cv_results_[key], dask.cv_results_[key])
    assert loky.best_params_ == dask.best_params_
