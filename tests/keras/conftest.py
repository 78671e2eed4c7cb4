"""Tiny data and estimators shared by the Keras tests."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("scikeras")


@pytest.fixture(scope="session")
def digits():
    """240 digits rows in [0, 1], float32, all ten classes."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:240] / 16.0).astype(np.float32), y[:240]


@pytest.fixture(scope="session")
def easy_binary():
    """Two classes a single unit separates, rows sorted by class."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 60)
    X = (rng.normal(size=(120, 4)) * 0.1 + y[:, None] * 2.0 - 1.0).astype(np.float32)
    return X, y


@pytest.fixture(autouse=True)
def no_global_tensorflow_state_left_behind():
    """Every Keras test must leave TensorFlow's op determinism as it found it.

    Asking TensorFlow first fixes its answer, which hides the fresh-process
    leak of #11; tests/test_keras_state.py checks that case in subprocesses.
    """
    from tensorflow.python.framework import config

    before = config.is_op_determinism_enabled()
    yield
    assert config.is_op_determinism_enabled() == before, "op determinism left changed"


@pytest.fixture
def variables_created_in_trace():
    """A context manager recording the names of variables created inside a ``tf.function`` trace.

    A ``tf.function`` that creates variables on its first trace is traced twice.
    """
    import contextlib

    import tensorflow as tf

    @contextlib.contextmanager
    def record():
        names = []

        def creator(next_creator, **kwargs):
            if tf.inside_function():
                names.append(kwargs.get("name"))
            return next_creator(**kwargs)

        with tf.variable_creator_scope(creator):
            yield names

    return record
