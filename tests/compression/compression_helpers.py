"""Tiny estimators shared by the compression tests."""

import keras
import numpy as np

from skautosearch.compression._models import cnn, mlp


def _wrapper(scikeras):
    if scikeras:
        from scikeras.wrappers import KerasClassifier
    else:  # subclass of SciKeras's that reuses traced models between fits: faster tests
        from skautosearch.keras import KerasClassifier
    return KerasClassifier


def make_mlp(hidden=(16,), epochs=1, scikeras=False, **kwargs):
    KerasClassifier = _wrapper(scikeras)

    return KerasClassifier(
        mlp,
        model__hidden=hidden,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=epochs,
        verbose=0,
        random_state=0,
        **kwargs,
    )


def make_cnn(filters=(4, 8), dense=16, epochs=1, scikeras=False):
    KerasClassifier = _wrapper(scikeras)

    return KerasClassifier(
        cnn,
        model__filters=filters,
        model__dense=dense,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=epochs,
        verbose=0,
        random_state=0,
    )


def make_sequential(layers, epochs=1, n_features=64, n_classes=10):
    """A keras.wrappers classifier over a fixed Sequential stack."""

    def build(X, y):
        model = keras.Sequential(
            [
                keras.Input((n_features,)),
                *[
                    keras.layers.deserialize(keras.layers.serialize(layer))
                    for layer in layers
                ],
                keras.layers.Dense(n_classes, activation="softmax", name="output"),
            ]
        )
        model.compile(loss="categorical_crossentropy", optimizer="adam")
        return model

    return keras.wrappers.SKLearnClassifier(
        model=build, fit_kwargs={"epochs": epochs, "verbose": 0}
    )


def kernels(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights if len(w.shape) >= 2]


def zero_fraction(arrays):
    total = sum(a.size for a in arrays)
    return sum(a.size - np.count_nonzero(a) for a in arrays) / total
