"""The private scikit-learn names skautosearch uses still mean what it relies on.

Every one is listed in :mod:`skautosearch._sklearn_private`; if a scikit-learn release
changes one, a test here fails (and the package refuses to import) instead of a search
silently doing something else.
"""

import ast
import pathlib

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.model_selection._search import BaseSearchCV
from sklearn.svm import SVC

import skautosearch
from skautosearch import GeneticSearchCV
from skautosearch import _sklearn_private as private

X, y = load_iris(return_X_y=True)
PACKAGE = pathlib.Path(skautosearch.__file__).parent


def _private_sklearn_imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn"):
            if any(part.startswith("_") for part in node.module.split(".")) or any(
                alias.name.startswith("_") for alias in node.names
            ):
                yield node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sklearn") and any(
                    part.startswith("_") for part in alias.name.split(".")
                ):
                    yield alias.name


def test_no_other_module_imports_a_private_scikit_learn_name():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(set(_private_sklearn_imports(path)))
        for path in PACKAGE.rglob("*.py") if path.name != "_sklearn_private.py"
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_fit_and_score_returns_what_the_dispatcher_reads():
    train, test = next(KFold(3).split(X))
    out = private._fit_and_score(
        SVC(), X, y, scorer=check_scoring(SVC()), train=train, test=test, verbose=0,
        parameters={"C": 2.0}, fit_params={}, score_params={}, return_train_score=False,
        return_parameters=False, return_n_test_samples=True, return_times=True,
        return_estimator=True, split_progress=(0, 3), candidate_progress=(0, 1),
        error_score=np.nan,
    )
    assert {"fit_error", "test_scores", "n_test_samples", "fit_time", "score_time",
            "estimator"} <= set(out)
    assert out["fit_error"] is None and out["estimator"].C == 2.0
    assert out["n_test_samples"] == len(test)


def test_our_cv_results_are_grid_search_cvs_on_the_same_candidates():
    space = {"C": [0.1, 1.0, 10.0]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    grid = GridSearchCV(SVC(), space, cv=cv, return_train_score=True).fit(X, y)
    ours = GeneticSearchCV(SVC(), space, n_iter=3, population_size=3, cv=cv, random_state=0,
                           return_train_score=True).fit(X, y)
    order = [ours.cv_results_["params"].index(p) for p in grid.cv_results_["params"]]
    for key, value in grid.cv_results_.items():
        if "time" in key:
            continue
        mine = ours.cv_results_[key]
        mine = [mine[i] for i in order] if key == "params" else np.asarray(mine)[order]
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(value), err_msg=key)
    # Ties are broken by order, which differs: the best is one of grid's rank-1 candidates.
    assert ours.best_score_ == grid.best_score_
    grid_rank = grid.cv_results_["rank_test_score"]
    assert grid_rank[grid.cv_results_["params"].index(ours.best_params_)] == 1


def test_multimetric_scoring_and_refit_by_name_match_grid_search():
    space = {"C": [0.01, 0.1, 1.0]}
    scoring = {"acc": "accuracy", "bal": "balanced_accuracy"}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    grid = GridSearchCV(LogisticRegression(max_iter=500), space, cv=cv, scoring=scoring,
                        refit="bal").fit(X, y)
    ours = GeneticSearchCV(LogisticRegression(max_iter=500), space, n_iter=3,
                           population_size=3, cv=cv, scoring=scoring, refit="bal",
                           random_state=0).fit(X, y)
    assert ours.multimetric_ and set(ours.scorer_) == {"acc", "bal"}
    assert ours.best_params_ == grid.best_params_
    assert ours.best_score_ == grid.best_score_


def test_yields_constant_splits_tells_a_reshuffling_splitter():
    assert private._yields_constant_splits(KFold(3))
    assert private._yields_constant_splits(KFold(3, shuffle=True, random_state=0))
    assert not private._yields_constant_splits(KFold(3, shuffle=True))


def test_check_method_params_slices_sample_weight_like_x():
    weights = np.arange(len(y), dtype=float)
    params = private._check_method_params(X, params={"sample_weight": weights},
                                          indices=np.array([3, 5]))
    np.testing.assert_array_equal(params["sample_weight"], [3.0, 5.0])


def test_a_changed_signature_fails_loudly(monkeypatch):
    def renamed(self, candidates, n_splits, out, more_results=None):
        pass

    monkeypatch.setattr(BaseSearchCV, "_format_results", renamed)
    with pytest.raises(ImportError, match="does not support scikit-learn .*_format_results"):
        private.check_signatures()


def test_a_missing_method_fails_loudly(monkeypatch):
    monkeypatch.delattr(BaseSearchCV, "_select_best_index")
    with pytest.raises(ImportError, match="_select_best_index is gone"):
        private.check_signatures()
