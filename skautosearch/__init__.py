"""skautosearch: model search and compression for scikit-learn and Keras.

Three drop-in replacements for :class:`~sklearn.model_selection.GridSearchCV` that choose
their next candidates from earlier scores, all speaking one search-space language:

* :class:`GeneticSearchCV` — a genetic algorithm;
* :class:`AnnealingSearchCV` — simulated annealing;
* :class:`BayesianSearchCV` — Bayesian optimisation (scikit-optimize).

Importing this package does not import TensorFlow; :mod:`skautosearch.keras` and
:mod:`skautosearch.compression` do.
"""

from skopt.space import Categorical, Integer, Real

from .annealing import AnnealingSearchCV
from .bayes import BayesianSearchCV
from .genetic import GeneticSearchCV

__version__ = "0.1.0.dev0"

__all__ = [
    "AnnealingSearchCV",
    "BayesianSearchCV",
    "Categorical",
    "GeneticSearchCV",
    "Integer",
    "Real",
    "__version__",
]
