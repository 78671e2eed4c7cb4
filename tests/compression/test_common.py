import pickle
import subprocess
import sys
from functools import partial

import numpy as np
import pytest
from compression_helpers import make_mlp
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks as checks

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV
from skautosearch.compression import (
    Distillation,
    LiteRTQuantization,
    MagnitudePruning,
    Quantization,
    StructuredPruning,
)

pytestmark = pytest.mark.keras


def _fast_mlp(hidden=(8,)):
    from skautosearch.compression._models import mlp
    from skautosearch.keras import KerasClassifier  # tag-correct, reuses traced models

    return KerasClassifier(
        mlp,
        model__hidden=hidden,
        loss="sparse_categorical_crossentropy",
        epochs=1,
        verbose=0,
        random_state=0,
    )


def _compressors(student=make_mlp):
    return [
        MagnitudePruning(
            student(), pruning_epochs=1, fine_tune_epochs=0, validation_fraction=None
        ),
        StructuredPruning(student(), fine_tune_epochs=0, validation_fraction=None),
        Quantization(student(), validation_fraction=None),
        Distillation(
            LogisticRegression(max_iter=100),
            student(),
            epochs=1,
            augment=None,
            validation_fraction=None,
        ),
        LiteRTQuantization(student(), validation_fraction=None),
    ]


def test_importing_skautosearch_does_not_import_tensorflow():
    code = (
        "import sys, skautosearch; "
        "assert not {'tensorflow', 'keras'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# scikit-learn's common checks that apply without fitting. The fitting checks
# (``parametrize_with_checks``) run ~40 checks per estimator, each fitting Keras
# models several times: minutes per estimator, over this suite's budget. Fitting,
# cloning, pickling and searching are covered by the search test below and the
# per-estimator modules.
@pytest.mark.parametrize(
    "est",
    _compressors(partial(make_mlp, scikeras=True)),
    ids=lambda e: type(e).__name__,
)
def test_classifier_tags_clone_and_params(est):
    assert is_classifier(est)  # even around SciKeras's tag-less KerasClassifier
    assert clone(est).get_params()["validation_fraction"] is None
    checks.check_no_attributes_set_in_init(type(est).__name__, est)
    checks.check_get_params_invariance(type(est).__name__, est)
    checks.check_set_params(type(est).__name__, est)
    checks.check_estimator_repr(type(est).__name__, est)
    checks.check_estimator_cloneable(type(est).__name__, est)


_SEARCHES = [
    (0, GeneticSearchCV, {"magnitudepruning__sparsity": [0.5, 0.8]}),
    (1, AnnealingSearchCV, {"structuredpruning__fraction": [0.25, 0.5]}),
    (2, BayesianSearchCV, {"quantization__dtype": ["int8", "float16"]}),
    (3, GridSearchCV, {"distillation__temperature": [1.0, 4.0]}),
]


@pytest.mark.parametrize(
    "index, search, grid", _SEARCHES, ids=[s.__name__ for _, s, _ in _SEARCHES]
)
def test_last_step_of_a_pipeline_under_a_search(digits, index, search, grid):
    X, y = digits
    pipe = make_pipeline(FunctionTransformer(), _compressors(_fast_mlp)[index])
    kwargs = (
        {"param_grid": grid}
        if search is GridSearchCV
        else {"param_distributions": grid, "n_iter": 2, "random_state": 0}
    )
    found = search(pipe, cv=StratifiedKFold(2), **kwargs).fit(X, y)
    assert found.cv_results_["mean_test_score"].shape == (2,)
    assert np.all(np.isfinite(found.cv_results_["mean_test_score"]))
    name, value = next(iter(found.best_params_.items()))
    assert value in grid[name]
    best = found.best_estimator_[-1]
    assert getattr(best, name.split("__")[1]) == value
    assert "after" in best.compression_report_
    restored = pickle.loads(pickle.dumps(found.best_estimator_))
    np.testing.assert_array_equal(restored.predict(X[:50]), found.predict(X[:50]))


def test_regressor_by_delegation(digits):
    from sklearn.base import is_regressor

    from skautosearch.compression._models import mlp
    from skautosearch.keras import KerasRegressor

    X, y = digits
    target = X[:, 20:30].sum(axis=1)
    reg = KerasRegressor(mlp, model__hidden=(8,), loss="mse", epochs=2, verbose=0)
    pruned = MagnitudePruning(reg, sparsity=0.5, pruning_epochs=1, fine_tune_epochs=1)
    assert is_regressor(pruned) and not is_classifier(pruned)
    pruned.fit(X, target)
    assert pruned.predict(X).shape == (len(X),)
    assert pruned.score(X, target) == pytest.approx(
        1
        - np.sum((target - pruned.predict(X)) ** 2)
        / np.sum((target - target.mean()) ** 2),
        rel=1e-4,
    )
    assert pruned.sparsity_["__all__"] == pytest.approx(0.5, abs=0.01)
