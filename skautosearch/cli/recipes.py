"""The workflow's models: data, estimator, architecture grid and spaces, budget.

``cnn``: ``build_cnn`` on scikit-learn's digits as 8x8x1 images (bundled). ``lstm``:
``build_lstm_classifier`` on IMDB reviews, or offline on synthetic token sequences.
Each has a ``quick`` version, tiny, to check an installation (and for the tests).
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Recipe:
    """One model's workflow: its data, estimator, spaces and budget."""

    name: str
    epochs: int
    n_train: int
    grid: list  # GridSearchCV's architecture grids (param_grid)
    space: dict  # the wider architecture space of the other searches
    training: dict  # stage 2: training hyper-parameters
    n_training: int  # stage 2 candidates
    seconds_per_fit: float  # a first guess for the time left, before any fit
    learning_rate: float = 3e-3  # of the architecture search (a few epochs only)


def _cnn_architectures(n_blocks, filters_0, filters_1, kernel_size, dense_units=None):
    """A ``build_cnn`` space: the second block's filters only when there is one.

    ``filters_1`` is a :class:`~skautosearch.Conditional` on ``n_blocks >= 2``, so
    no two candidates differ only in the filters of a block the network lacks.
    """
    from skautosearch import Conditional

    space = {"model__n_blocks": n_blocks, "model__filters_0": filters_0,
             "model__filters_1": Conditional(filters_1,
                                             when={"model__n_blocks": lambda n: n >= 2}),
             "model__kernel_size": kernel_size}
    if dense_units is not None:
        space["model__dense_units"] = dense_units
    return space


def _cnn_recipe(quick):
    from skautosearch import Categorical, Real
    from skautosearch.space import to_param_grid

    if quick:  # tiny models on a few rows: the tests' run, a second a fit
        grid = to_param_grid(_cnn_architectures([2], [4, 8], [4], [3]))
        space = _cnn_architectures([1, 2], [4, 8], [4], [3], [8, 16])
        return Recipe("cnn", 5, 300, grid, space,
                      {"optimizer__learning_rate": Real(3e-3, 3e-2, prior="log-uniform"),
                       "batch_size": Categorical([32, 64])}, 2, 0.5, 1e-2)
    # The CIFAR-10 workflow's two-block grid (filters per block in {32, 64}, kernel 3
    # or 5): 8 networks. The others search 1 or 2 blocks, filters, kernel and dense
    # units: 18 one-block and 54 two-block networks, 72 in all.
    grid = to_param_grid(_cnn_architectures([2], [32, 64], [32, 64], [3, 5]))
    space = _cnn_architectures([1, 2], [16, 32, 64], [16, 32, 64], [3, 5], [32, 64, 128])
    training = {"optimizer__learning_rate": Real(3e-4, 1e-2, prior="log-uniform"),
                "batch_size": Categorical([16, 32, 64]),
                "model__dropout": Real(0.0, 0.5)}
    return Recipe("cnn", 3, 1000, grid, space, training, 6, 2.0)


def _lstm_recipe(quick):
    from skautosearch import Categorical, Integer, Real
    from skautosearch.space import to_param_grid

    # One LSTM layer (n_units): no per-layer units, so no parameter is conditional.
    grid = to_param_grid({"model__embedding_dim": [8, 16] if quick else [16, 32],
                          "model__n_units": [8] if quick else [16, 32]})
    space = {"model__embedding_dim": [8, 16] if quick else [16, 32, 64],
             "model__n_units": Integer(4, 16) if quick else Integer(8, 64)}
    training = {"optimizer__learning_rate": Real(1e-3, 1e-2, prior="log-uniform"),
                "batch_size": Categorical([32, 64]),
                "model__dropout": Real(0.0, 0.5)}
    if quick:
        return Recipe("lstm", 1, 200, grid, space, training, 2, 1.0)
    return Recipe("lstm", 2, 800, grid, space, training, 4, 3.0)


RECIPES = {"cnn": _cnn_recipe, "lstm": _lstm_recipe}
_VOCAB, _MAXLEN = 5000, 100


def _load_cnn_data(recipe, seed):
    from sklearn.model_selection import train_test_split

    from skautosearch.keras import load_digits_images

    X, y = load_digits_images()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=recipe.n_train, random_state=seed, stratify=y)
    if len(X_test) > 2 * recipe.n_train:  # --quick: a test set in proportion
        X_test, y_test = X_test[: 2 * recipe.n_train], y_test[: 2 * recipe.n_train]
    note = ("scikit-learn's bundled digits as 8x8x1 images (the offline stand-in for "
            "CIFAR-10's 32x32x3)")
    return X_train, X_test, y_train, y_test, note


def _load_lstm_data(recipe, seed):
    from skautosearch.keras import DatasetUnavailableError, load_imdb, make_token_sequences

    n_test = recipe.n_train
    try:
        (X, y), (X_test, y_test) = load_imdb(num_words=_VOCAB, maxlen=_MAXLEN,
                                             n_train=None, n_test=None, download=False)
    except DatasetUnavailableError:
        X, y = make_token_sequences(n_samples=recipe.n_train + n_test, maxlen=_MAXLEN,
                                    vocab_size=_VOCAB, random_state=seed)
        note = ("SYNTHETIC token sequences (skautosearch.keras.make_token_sequences): "
                "IMDB's imdb.npz is not in the Keras cache, and the run stays offline")
        return X[:recipe.n_train], X[recipe.n_train:], y[:recipe.n_train], \
            y[recipe.n_train:], note
    rng = np.random.default_rng(seed)
    train = rng.permutation(len(X))[:recipe.n_train]
    test = rng.permutation(len(X_test))[:n_test]
    note = f"IMDB reviews, {_VOCAB}-word vocabulary, {_MAXLEN} tokens (a subset)"
    return X[train], X_test[test], y[train], y_test[test], note


def estimator_for(recipe, seed):
    """The Keras classifier the searches start from, before any search."""
    from skautosearch.keras import KerasClassifier, build_cnn, build_lstm_classifier

    common = dict(optimizer="adam", optimizer__learning_rate=recipe.learning_rate,
                  batch_size=32,
                  epochs=recipe.epochs, verbose=0, random_state=seed,
                  model__dropout=0.0)
    if recipe.name == "cnn":
        # Every searched parameter is set: SciKeras lists routed parameters
        # (model__...) in get_params only once they are set.
        return KerasClassifier(
            build_cnn, loss="sparse_categorical_crossentropy", model__n_blocks=2,
            model__filters_0=32, model__filters_1=32, model__kernel_size=3,
            model__dense_units=64, **common)
    return KerasClassifier(
        build_lstm_classifier, loss="binary_crossentropy", model__vocab_size=_VOCAB,
        model__embedding_dim=16, model__n_units=16, model__recurrent_dropout=0.0,
        **common)


def load_data(recipe, seed):
    """Train and test rows of ``recipe``'s data, and a line saying what they are."""
    loader = _load_cnn_data if recipe.name == "cnn" else _load_lstm_data
    return loader(recipe, seed)
