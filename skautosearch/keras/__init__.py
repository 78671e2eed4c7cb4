"""Keras models in scikit-learn searches (needs the ``keras`` extra).

Importing this sub-package imports TensorFlow; ``import skautosearch`` does
not.  It also sizes TensorFlow's thread pools from the limits joblib gives its
workers (see :func:`configure_threads`), lets a joblib worker's memory grow
past loky's limit before it is replaced (see :func:`configure_worker_memory`),
and asks TensorFlow once whether op determinism is on, so that a seeded fit of
SciKeras itself cannot leave it on.

Public names
------------
KerasClassifier, KerasRegressor
    SciKeras wrappers that scikit-learn recognises, with fast refits.
SKLearnClassifier, SKLearnRegressor
    ``keras.wrappers`` estimators whose dict entries are searchable.
adapt_estimator
    What the searches call on Keras-based estimators.
build_mlp, build_cnn, build_lstm_classifier
    Model builders for architecture search.
TwoStageSearchCV
    Architecture search, then training hyper-parameter search.
load_cifar10, load_imdb, load_digits_images, make_token_sequences
    Data for the workflows, with offline fallbacks.
"""

from .._keras_state import prime_op_determinism
from ._fast import (
    clear_model_pool,
    configure_threads,
    configure_worker_memory,
    model_pool_info,
)

configure_threads()  # before TensorFlow runs its first operation
configure_worker_memory()  # TensorFlow grows per architecture: loky must not take it for a leak
# So that SciKeras's seeded fits restore op determinism even when used directly.
prime_op_determinism()

from ._adapt import (  # noqa: E402
    KERAS_DICT_PARAMS,
    SKLearnClassifier,
    SKLearnRegressor,
    adapt_estimator,
)
from ._wrappers import KerasClassifier, KerasRegressor  # noqa: E402
from .builders import MAX_BLOCKS, build_cnn, build_lstm_classifier, build_mlp  # noqa: E402
from .datasets import (  # noqa: E402
    DatasetUnavailableError,
    keras_datasets_dir,
    load_cifar10,
    load_digits_images,
    load_imdb,
    make_token_sequences,
)
from .two_stage import TwoStageSearchCV  # noqa: E402

__all__ = [
    "KerasClassifier",
    "KerasRegressor",
    "SKLearnClassifier",
    "SKLearnRegressor",
    "KERAS_DICT_PARAMS",
    "adapt_estimator",
    "build_mlp",
    "build_cnn",
    "build_lstm_classifier",
    "MAX_BLOCKS",
    "TwoStageSearchCV",
    "DatasetUnavailableError",
    "keras_datasets_dir",
    "load_cifar10",
    "load_imdb",
    "load_digits_images",
    "make_token_sequences",
    "configure_threads",
    "configure_worker_memory",
    "model_pool_info",
    "clear_model_pool",
]
