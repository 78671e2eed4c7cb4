"""Structured pruning: remove whole Dense units and convolution filters."""

import warnings
from numbers import Integral, Real

import keras
import numpy as np

from .._sklearn_private import Interval, StrOptions
from ._base import (
    _BaseCompressor,
    _build_untrained,
    _check_keras_estimator,
    _compile_like,
    _encode,
    _get_model,
    _set_model,
    _wrapper_batch_size,
)

_SHRINKABLE = (
    keras.layers.Dense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
)
# Layers that carry channels through unchanged and have no per-channel weights.
_PASS_THROUGH = (
    keras.layers.Dropout,
    keras.layers.SpatialDropout1D,
    keras.layers.SpatialDropout2D,
    keras.layers.SpatialDropout3D,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.Softmax,
    keras.layers.ActivityRegularization,
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.MaxPooling3D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
    keras.layers.AveragePooling3D,
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalMaxPooling3D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalAveragePooling3D,
    keras.layers.InputLayer,
)
# Layers with one weight vector per channel on the last axis: sliced alongside.
_PER_CHANNEL = (keras.layers.BatchNormalization, keras.layers.LayerNormalization)


def _chain(model):
    """The layers of a single-path model, in order; refuse branching graphs."""
    layers = [
        layer
        for layer in model.layers
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    if isinstance(model, keras.Sequential):
        return layers
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            "StructuredPruning supports single-input, single-output layer stacks; "
            f"model {model.name!r} has {len(model.inputs)} inputs and "
            f"{len(model.outputs)} outputs."
        )
    previous = model.inputs[0]
    for layer in layers:
        if len(layer._inbound_nodes) != 1 or layer.input is not previous:
            raise ValueError(
                "StructuredPruning supports layer stacks without branches; layer "
                f"{layer.name!r} ({type(layer).__name__}) is not fed by the layer "
                "before it alone."
            )
        previous = layer.output
    return layers


def _is_shrinkable(layer):
    if not isinstance(layer, _SHRINKABLE):
        return False
    return (
        getattr(layer, "groups", 1) == 1
        and getattr(layer, "data_format", "channels_last") == "channels_last"
    )


def _is_per_channel(layer):
    axis = getattr(layer, "axis", -1)
    axis = axis if isinstance(axis, int) else (axis[0] if len(axis) == 1 else None)
    return isinstance(layer, _PER_CHANNEL) and axis in (-1, len(layer.input.shape) - 1)


def plan_pruning(model):
    """Which layers of ``model`` can lose units, and which layers stop that.

    A Dense/Conv layer can lose output units when everything between it and
    the next Dense/Conv layer carries channels through (dropout, activations,
    pooling, Flatten, batch/layer normalisation). The last such layer (the
    output) is never shrunk.

    Parameters
    ----------
    model : keras.Model
        A single-path model.

    Returns
    -------
    prunable : list of str
        Names of layers that can lose units or filters.
    blockers : dict
        ``{layer name: (type name, name of the layer it keeps from shrinking)}``.

    Examples
    --------
    >>> import keras
    >>> from skautosearch.compression.structured import plan_pruning
    >>> model = keras.Sequential([keras.Input((4,)),
    ...                           keras.layers.Dense(8, name="hidden"),
    ...                           keras.layers.Dense(2, name="out")])
    >>> plan_pruning(model)
    (['hidden'], {})
    """
    layers = _chain(model)
    prunable, blockers, producer = [], {}, None
    for layer in layers:
        if _is_shrinkable(layer):
            if producer is not None:
                prunable.append(producer.name)
            producer = layer
        elif producer is None or isinstance(
            layer, (*_PASS_THROUGH, keras.layers.Flatten)
        ):
            continue
        elif _is_per_channel(layer):
            continue
        else:
            blockers[layer.name] = (type(layer).__name__, producer.name)
            producer = None
    return prunable, blockers


def _importance(layer, criterion, activations):
    if criterion == "activation":
        return activations[layer.name]
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    axes = tuple(range(kernel.ndim - 1))
    if criterion == "l1":
        return np.abs(kernel).sum(axis=axes)
    return np.sqrt((kernel**2).sum(axis=axes))


def _mean_activations(model, names, X, max_rows=1024):
    """Mean absolute output of each named layer per unit/channel, on ``X``."""
    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    outputs = probe.predict(X[:max_rows], verbose=0, batch_size=256)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return {
        n: np.abs(o).reshape(-1, o.shape[-1]).mean(axis=0)
        for n, o in zip(names, outputs)
    }


def _new_layer(layer, n_out):
    config = layer.get_config()
    config["units" if isinstance(layer, keras.layers.Dense) else "filters"] = n_out
    return type(layer).from_config(config)


def _shrink(model, keep):
    """A new Sequential model keeping the ``keep[layer name]`` output units."""
    new_layers, new_weights, channels = (
        [],
        [],
        None,
    )  # channels: kept input indices or None
    for layer in _chain(model):
        weights = [np.asarray(w) for w in layer.get_weights()]
        if _is_shrinkable(layer):
            if channels is not None:
                weights[0] = np.take(weights[0], channels, axis=-2)
            out = keep.get(layer.name)
            if out is not None:
                weights = [np.take(weights[0], out, axis=-1)] + [
                    np.take(w, out, axis=-1) for w in weights[1:]
                ]
                new_layers.append(_new_layer(layer, len(out)))
            else:
                new_layers.append(type(layer).from_config(layer.get_config()))
            channels = out
        else:
            if channels is not None and isinstance(layer, keras.layers.Flatten):
                n_channels = layer.input.shape[-1]
                spatial = int(np.prod(layer.input.shape[1:-1]))
                channels = (
                    np.arange(spatial)[:, None] * n_channels + channels[None, :]
                ).ravel()
            elif channels is not None and isinstance(layer, _PER_CHANNEL):
                weights = [np.take(w, channels, axis=-1) for w in weights]
            new_layers.append(type(layer).from_config(layer.get_config()))
        new_weights.append(weights)
    new = keras.Sequential(
        [keras.Input(shape=model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)]
        + new_layers,
        name=model.name,
    )
    for layer, weights in zip(new_layers, new_weights):
        layer.set_weights(weights)
    return new


class StructuredPruning(_BaseCompressor):
    """Remove whole Dense units and convolution filters, then fine-tune.

    ``fit`` trains a clone of ``estimator``, ranks the output units of every
    hidden Dense and Conv layer by ``criterion``, rebuilds a genuinely smaller
    Keras model holding the surviving weights (the next layer loses the
    matching inputs; batch/layer normalisation is sliced alike), and
    fine-tunes it. Unlike masked sparsity, the smaller model predicts faster
    on a CPU. The output layer keeps all its units.

    Parameters
    ----------
    estimator : Keras-backed estimator
        SciKeras, ``skautosearch.keras`` or ``keras.wrappers`` estimator whose
        model is a single-path stack (Sequential, or functional without
        branches). Cloned, never modified.
        To compress an already fitted estimator without retraining it, pass
        ``sklearn.frozen.FrozenEstimator(fitted)``: it is copied, not modified.
    fraction : float, default=0.5
        Fraction of the units/filters removed from each hidden layer, in [0, 1).
        At least one unit is kept.
    criterion : {"l1", "l2", "activation"}, default="l1"
        Unit importance: L1 or L2 norm of its incoming weights, or its mean
        absolute activation on (up to 1,024 rows of) the training data.
    on_unsupported : {"raise", "skip"}, default="raise"
        What to do when a layer that cannot be sliced (say ``Reshape`` or
        ``LSTM``) follows a Dense/Conv layer: raise a ``ValueError`` naming it,
        or leave that Dense/Conv layer whole (a warning names both).
    fine_tune_epochs : int, default=5
        Epochs of training of the smaller model.
    batch_size : int or None, default=None
        Fine-tuning batch size; None takes the wrapped estimator's (or 32).
    validation_fraction : float or None, default=0.1
        Held-out share used for the scores of ``compression_report_``.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, initialisation and shuffling; global seeds are
        restored after ``fit``.
    verbose : int, default=0
        Keras verbosity of fine-tuning.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone; its Keras model is the smaller one.
    model_ : keras.Model
        The smaller Keras model (a ``keras.Sequential``).
    units_ : dict
        ``{layer name: (units before, units after)}`` for every shrunk layer.
    skipped_ : dict
        ``{layer name: reason}`` for layers left whole by ``on_unsupported="skip"``.
    compression_report_ : dict
        ``{"before": stats, "after": stats}`` (see :class:`MagnitudePruning`).
    classes_ : ndarray
        Class labels (classifiers).

    See Also
    --------
    MagnitudePruning : unstructured (masked) sparsity.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautosearch.keras import KerasClassifier, build_mlp
    >>> from skautosearch.compression import StructuredPruning
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasClassifier(build_mlp, model__hidden_units=(64,),
    ...                       loss="sparse_categorical_crossentropy",
    ...                       epochs=3, verbose=0, random_state=0)
    >>> small = StructuredPruning(clf, fraction=0.5, fine_tune_epochs=1,
    ...                           random_state=0).fit(X / 16, y)
    >>> list(small.units_.values())
    [(64, 32)]
    """

    _parameter_constraints = {
        **_BaseCompressor._parameter_constraints,
        "estimator": "no_validation",
        "fraction": "no_validation",  # checked in _validate, naming the parameter
        "criterion": [StrOptions({"l1", "l2", "activation"})],
        "on_unsupported": [StrOptions({"raise", "skip"})],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        *,
        fraction=0.5,
        criterion="l1",
        on_unsupported="raise",
        fine_tune_epochs=5,
        batch_size=None,
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.fraction = fraction
        self.criterion = criterion
        self.on_unsupported = on_unsupported
        self.fine_tune_epochs = fine_tune_epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose

    def _validate(self, X, y):
        _check_keras_estimator(self.estimator, "estimator")
        if (
            isinstance(self.fraction, bool)
            or not isinstance(self.fraction, Real)
            or not 0 <= self.fraction < 1
        ):
            raise ValueError(
                f"`fraction` must be a float in [0, 1); got {self.fraction!r}."
            )
        self._check_plan(_build_untrained(self.estimator, X, y))

    def _check_plan(self, model):
        prunable, blockers = plan_pruning(model)
        if blockers and self.on_unsupported == "raise":
            detail = "; ".join(
                f"{name!r} ({kind}) after {producer!r}"
                for name, (kind, producer) in blockers.items()
            )
            raise ValueError(
                f"StructuredPruning cannot slice these layers: {detail}. Set "
                "`on_unsupported='skip'` to leave the Dense/Conv layer before each "
                "whole."
            )
        if not prunable:
            raise ValueError(
                f"StructuredPruning found no hidden Dense/Conv layer to shrink in "
                f"model {model.name!r}."
            )
        return prunable, blockers

    def _compress(self, X, y):
        model = _get_model(self.estimator_)
        prunable, blockers = self._check_plan(model)
        self.skipped_ = {
            producer: f"followed by {name!r} ({kind}), which cannot be sliced"
            for name, (kind, producer) in blockers.items()
        }
        if self.skipped_:
            warnings.warn(
                f"StructuredPruning left these layers whole: {self.skipped_}",
                UserWarning,
                stacklevel=3,
            )
        X_enc, y_enc = _encode(self.estimator_, X, y)
        activations = (
            _mean_activations(model, prunable, X_enc)
            if self.criterion == "activation"
            else None
        )
        keep, self.units_ = {}, {}
        for name in prunable:
            layer = model.get_layer(name)
            scores = _importance(layer, self.criterion, activations)
            n_keep = max(1, int(round(len(scores) * (1 - self.fraction))))
            keep[name] = np.sort(np.argsort(-scores, kind="stable")[:n_keep])
            self.units_[name] = (len(scores), n_keep)
        small = _compile_like(_shrink(model, keep), model)
        if self.fine_tune_epochs and not small.trainable_weights:
            warnings.warn(
                "The pruned model has no trainable weights (its layers were frozen):"
                " fine-tuning cannot recover accuracy.",
                UserWarning,
                stacklevel=3,
            )
        if self.fine_tune_epochs:
            small.fit(
                X_enc,
                y_enc,
                epochs=self.fine_tune_epochs,
                batch_size=self.batch_size or _wrapper_batch_size(self.estimator_),
                verbose=self.verbose,
            )
        _set_model(self.estimator_, small)
