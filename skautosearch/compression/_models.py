"""Small SciKeras model builders used by the tests, examples and benchmarks.

SciKeras calls a builder with ``meta`` (shapes, classes) and the named
hyper-parameters; it compiles the returned model with the wrapper's ``loss``
and ``optimizer``.
"""

import keras


def _head(x, meta):
    if meta.get("n_classes_"):
        return keras.layers.Dense(
            meta["n_classes_"], activation="softmax", name="output"
        )(x)
    return keras.layers.Dense(1, name="output")(x)


def mlp(hidden=(64,), meta=None, compile_kwargs=None):
    """A ReLU multi-layer perceptron with a softmax (or linear) output."""
    inputs = keras.Input(shape=(meta["n_features_in_"],))
    x = inputs
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
    return keras.Model(inputs, _head(x, meta), name="mlp")


def cnn(filters=(32, 64), dense=128, side=8, meta=None, compile_kwargs=None):
    """A small CNN for ``side`` x ``side`` grey images given as flat rows.

    Conv-ReLU blocks (3x3, 'same'); the second and later are followed by 2x2
    max pooling; then Flatten, a ReLU Dense layer and the output layer.
    """
    inputs = keras.Input(shape=(meta["n_features_in_"],))
    x = keras.layers.Reshape((side, side, 1))(inputs)
    for i, n in enumerate(filters):
        x = keras.layers.Conv2D(
            n, 3, padding="same", activation="relu", name=f"conv_{i}"
        )(x)
        if i:
            x = keras.layers.MaxPooling2D(2, name=f"pool_{i}")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(dense, activation="relu", name="dense")(x)
    return keras.Model(inputs, _head(x, meta), name="cnn")
