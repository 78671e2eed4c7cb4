"""skautosearch: model search and compression for scikit-learn and Keras.

Three drop-in replacements for :class:`~sklearn.model_selection.GridSearchCV` that choose
their next candidates from earlier scores, all speaking one search-space language:

* :class:`GeneticSearchCV` — a genetic algorithm;
* :class:`AnnealingSearchCV` — simulated annealing;
* :class:`BayesianSearchCV` — Bayesian optimisation (scikit-optimize).

Importing this package does not import TensorFlow; :mod:`skautosearch.keras` and
:mod:`skautosearch.compression` do. The public names are imported on first use, so
that ``import skautosearch`` (and the ``skautosearch --help`` command) stays instant.
"""

import importlib

__version__ = "0.1.0.dev0"

# Public name -> module that defines it.
_EXPORTS = {
    "AnnealingSearchCV": ".annealing",
    "BayesianSearchCV": ".bayes",
    "GeneticSearchCV": ".genetic",
    "Categorical": ".space",
    "Conditional": ".space",
    "Integer": ".space",
    "Real": ".space",
    "ProgressCallback": "._progress",
}

__all__ = [
    "AnnealingSearchCV",
    "BayesianSearchCV",
    "Categorical",
    "Conditional",
    "GeneticSearchCV",
    "Integer",
    "ProgressCallback",
    "Real",
    "__version__",
]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value  # later look-ups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
