"""The estimators of ``skautosearch compare`` and their search spaces.

A space is in the package's space language (:mod:`skautosearch.space`): lists of
choices, ``Real`` and ``Integer`` ranges, :class:`~skautosearch.Conditional`
dimensions, as ``--space`` and ``--param`` give them too. GridSearchCV gets a grid
over the same ranges (geometric for log-uniform ones), one sub-grid per activity
pattern of a conditional space; the other searches get the same ranges as
scipy.stats distributions, so all of them search the same space.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np

from ._common import UsageError


def _log(low, high):
    from skautosearch import Real

    return Real(low, high, prior="log-uniform")


def int_range(low, high):
    """An integer dimension, both ends included."""
    from skautosearch import Integer

    return Integer(low, high)


def _cat(*values):
    return list(values)


def _map(space, function):
    """``function`` applied to every dimension, inside Conditional ones too."""
    from skautosearch import Conditional

    return {name: Conditional(function(dim.dimension), when=dim.when)
            if isinstance(dim, Conditional) else function(dim)
            for name, dim in space.items()}


def _inner(dim):
    from skautosearch import Conditional

    return dim.dimension if isinstance(dim, Conditional) else dim


def _is_log(dim):
    return getattr(dim, "prior", None) == "log-uniform"


def distribution(dim):
    """The scipy.stats distribution (or list) of a dimension, for every non-grid search.

    A log-uniform integer has no scipy.stats twin: it stays a skopt ``Integer``,
    which the searches (``RandomizedSearchCV`` through :mod:`._searches`) read.
    """
    from scipy.stats import loguniform, randint, uniform

    from skautosearch import Integer, Real

    if isinstance(dim, Real):
        return (loguniform(dim.low, dim.high) if _is_log(dim)
                else uniform(dim.low, dim.high - dim.low))
    if isinstance(dim, Integer) and not _is_log(dim):
        return randint(dim.low, dim.high + 1)
    return dim


def distributions(space):
    """:func:`distribution` of every dimension of ``space``."""
    return _map(space, distribution)


def _grid_values(dim, points):
    from skautosearch import Integer, Real

    spread = np.geomspace if _is_log(dim) else np.linspace
    if isinstance(dim, Real):
        return [float(f"{v:.3g}") for v in spread(dim.low, dim.high, points)]
    if isinstance(dim, Integer):
        return sorted({int(round(v)) for v in spread(dim.low, dim.high, points)})
    return list(dim)


def make_grid(space, max_size):
    """A grid over ``space`` with at most about ``max_size`` points (>= 2 per range).

    A dict, or a list of dicts (one per activity pattern) if ``space`` has
    Conditional dimensions.
    """
    from skautosearch.space import to_param_grid

    inner = [_inner(d) for d in space.values()]
    n_cat = math.prod(len(d) for d in inner if isinstance(d, list))
    n_num = sum(not isinstance(d, list) for d in inner)
    points = max(2, int((max_size / n_cat) ** (1 / n_num))) if n_num else 0
    grids = to_param_grid(_map(space, lambda dim: _grid_values(dim, points)))
    return grids[0] if len(grids) == 1 else grids


# ---------------------------------------------------------------------- estimators


@dataclass
class _EstimatorSpec:
    help: str
    make: object  # (task, seed, quick) -> estimator
    space: object  # () -> dict; built on use, so that --help imports no skopt
    scale: bool = True
    keras: bool = False
    needs_images: bool = False
    regression_space: object = field(default=None)  # () -> dict

    def space_for(self, task):
        """The built-in search space for ``task``."""
        if task == "regression" and self.regression_space is not None:
            return self.regression_space()
        return self.space()


def _svm(task, seed, quick):
    from sklearn.svm import SVC, SVR

    return SVC() if task == "classification" else SVR()


def _linear(task, seed, quick):
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "classification":
        return LogisticRegression(max_iter=2000)
    return Ridge()


def _knn(task, seed, quick):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return KNeighborsClassifier() if task == "classification" else KNeighborsRegressor()


def _forest(task, seed, quick):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return cls(random_state=seed)


def _boosting(task, seed, quick):
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    cls = (HistGradientBoostingClassifier if task == "classification"
           else HistGradientBoostingRegressor)
    return cls(max_iter=50 if quick else 100, random_state=seed)


def _mlp(task, seed, quick):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    return cls(max_iter=100 if quick else 300, random_state=seed)


def quiet_tensorflow():
    # TensorFlow's C++ start-up messages and retracing warnings drown the table.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _keras(builder_name, task, seed, quick, **model_kwargs):
    quiet_tensorflow()
    try:
        from skautosearch import keras as sk_keras
    except ImportError as exc:
        raise UsageError(
            "the Keras estimators need the keras extra: pip install "
            f"skautosearch[keras] ({exc})"
        ) from None
    builder = getattr(sk_keras, builder_name)
    # Every searched parameter is set here too: SciKeras lists routed parameters
    # (model__..., optimizer__...) in get_params only once they are set.
    common = dict(epochs=5 if quick else 15, batch_size=32, verbose=0,
                  random_state=seed, optimizer="adam", optimizer__learning_rate=1e-3,
                  **{f"model__{k}": v for k, v in model_kwargs.items()})
    if task == "classification":
        return sk_keras.KerasClassifier(
            builder, loss="sparse_categorical_crossentropy", **common)
    if builder_name == "build_cnn":
        raise UsageError("keras-cnn is a classifier; use keras-mlp for regression")
    return sk_keras.KerasRegressor(builder, loss="mse", model__task="regression",
                                   **common)


def _keras_mlp(task, seed, quick):
    return _keras("build_mlp", task, seed, quick, hidden_units=(32,), dropout=0.0)


def _keras_cnn(task, seed, quick):
    return _keras("build_cnn", task, seed, quick, input_shape=(8, 8, 1),
                  dense_units=32, n_blocks=1, filters_0=16, filters_1=16, kernel_size=3)


def _keras_cnn_space():
    """Blocks, the filters of each block that exists, kernel, learning rate."""
    from skautosearch import Conditional

    return {"model__n_blocks": _cat(1, 2), "model__filters_0": _cat(16, 32),
            "model__filters_1": Conditional(_cat(16, 32),
                                            when={"model__n_blocks": lambda n: n >= 2}),
            "model__kernel_size": _cat(2, 3),
            "optimizer__learning_rate": _log(1e-4, 3e-2)}


ESTIMATORS = {
    "svm": _EstimatorSpec(
        "support vector machine, RBF kernel (SVC / SVR): C, gamma",
        _svm, lambda: {"C": _log(1e-2, 1e3), "gamma": _log(1e-5, 1.0)}),
    "linear": _EstimatorSpec(
        "LogisticRegression (C) / Ridge (alpha)",
        _linear, lambda: {"C": _log(1e-4, 1e2)},
        regression_space=lambda: {"alpha": _log(1e-3, 1e3)}),
    "knn": _EstimatorSpec(
        "k nearest neighbours: n_neighbors, weights, p",
        _knn, lambda: {"n_neighbors": int_range(1, 30),
                       "weights": _cat("uniform", "distance"), "p": _cat(1, 2)}),
    "random-forest": _EstimatorSpec(
        "random forest: n_estimators, max_depth, max_features, min_samples_leaf",
        _forest, lambda: {"n_estimators": int_range(20, 200),
                          "max_depth": int_range(2, 20),
                          "max_features": _cat("sqrt", "log2"),
                          "min_samples_leaf": int_range(1, 10)}, scale=False),
    "gradient-boosting": _EstimatorSpec(
        "histogram gradient boosting: learning_rate, max_leaf_nodes, "
        "l2_regularization",
        _boosting, lambda: {"learning_rate": _log(1e-2, 0.5),
                            "max_leaf_nodes": int_range(4, 64),
                            "l2_regularization": _log(1e-4, 10.0)}, scale=False),
    "mlp": _EstimatorSpec(
        "scikit-learn multi-layer perceptron: hidden_layer_sizes, alpha, "
        "learning_rate_init",
        _mlp, lambda: {"hidden_layer_sizes": _cat((32,), (64,), (64, 32)),
                       "alpha": _log(1e-6, 1e-1),
                       "learning_rate_init": _log(1e-4, 1e-1)}),
    "keras-mlp": _EstimatorSpec(
        "Keras MLP (keras extra): hidden units, dropout, learning rate",
        _keras_mlp, lambda: {"model__hidden_units": _cat((32,), (64,), (64, 32)),
                             "model__dropout": _cat(0.0, 0.3),
                             "optimizer__learning_rate": _log(1e-4, 3e-2)},
        keras=True),
    "keras-cnn": _EstimatorSpec(
        "Keras CNN on 8x8 images (keras extra; digits only): blocks, filters per "
        "block, kernel size, learning rate",
        _keras_cnn, _keras_cnn_space, keras=True, needs_images=True),
}
