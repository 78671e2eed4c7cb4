"""Gradual magnitude pruning of a Keras-backed estimator's weights."""

from numbers import Integral, Real

import keras
import numpy as np

from .._sklearn_private import Interval, StrOptions
from ._base import (
    _BaseCompressor,
    _build_untrained,
    _check_keras_estimator,
    _encode,
    _get_model,
    _wrapper_batch_size,
)

_NORMALIZATION = (
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.GroupNormalization,
    keras.layers.UnitNormalization,
)


def _prunable_weights(model, prune_bias):
    """``(layer_name, variable)`` pairs eligible for pruning.

    Kernels and embeddings (trainable, at least 2-D) always; biases only on
    request; normalisation layers never: their few parameters rescale whole
    channels, so zeroing them costs accuracy and saves nothing.
    """
    pairs = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, _NORMALIZATION) or layer.__class__.__name__.endswith(
            "Normalization"
        ):
            continue
        for var in layer._trainable_variables:
            is_bias = len(var.shape) == 1 and var.path.endswith("bias")
            if len(var.shape) >= 2 or (prune_bias and is_bias):
                pairs.append((layer.name, var))
    return pairs


def _check_sparsity(value, name):
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a float in [0, 1); got {value!r}.")


def polynomial_sparsity(step, end_step, initial_sparsity, final_sparsity, power=3):
    """Sparsity at ``step`` of the polynomial schedule of Zhu & Gupta (2017).

    ``s_t = s_f + (s_i - s_f) * (1 - t / T) ** power``, constant at ``s_f``
    after ``end_step``: pruning fast while the network has redundancy to lose
    and slowly towards the target.

    Parameters
    ----------
    step : int
        Current optimisation step.
    end_step : int
        Step at which the final sparsity is reached.
    initial_sparsity, final_sparsity : float
        Sparsity at step 0 and from ``end_step`` on.
    power : float, default=3
        Exponent of the schedule.

    Returns
    -------
    sparsity : float

    Examples
    --------
    >>> from skautosearch.compression.pruning import polynomial_sparsity
    >>> round(polynomial_sparsity(50, 100, 0.0, 0.8), 3)
    0.7
    """
    if end_step <= 0 or step >= end_step:
        return final_sparsity
    return (
        final_sparsity
        + (initial_sparsity - final_sparsity) * (1 - step / end_step) ** power
    )


class _Masks:
    """Binary masks over a model's prunable weights, recomputed from magnitudes."""

    def __init__(self, pairs, targets, scope):
        self.pairs, self.targets, self.scope = pairs, targets, scope
        self.masks = [np.ones(var.shape, dtype=bool) for _, var in pairs]
        self._tensors = None

    def update(self, fraction_of_target):
        """Prune to ``fraction_of_target`` x each target sparsity by magnitude."""
        values = [np.abs(keras.ops.convert_to_numpy(var)) for _, var in self.pairs]
        if self.scope == "global":
            self.masks = _global_masks(values, self.targets[0] * fraction_of_target)
        else:
            self.masks = [
                _layer_mask(v, t * fraction_of_target)
                for v, t in zip(values, self.targets)
            ]
        self._tensors = None

    def apply(self):
        if self._tensors is None:
            self._tensors = [
                keras.ops.convert_to_tensor(m, dtype=var.dtype)
                for m, (_, var) in zip(self.masks, self.pairs)
            ]
        for mask, (_, var) in zip(self._tensors, self.pairs):
            var.assign(var * mask)


def _layer_mask(abs_values, sparsity):
    k = int(round(sparsity * abs_values.size))
    if k == 0:
        return np.ones(abs_values.shape, dtype=bool)
    order = np.argsort(abs_values, axis=None, kind="stable")
    mask = np.ones(abs_values.size, dtype=bool)
    mask[order[:k]] = False
    return mask.reshape(abs_values.shape)


def _global_masks(values, sparsity):
    flat = np.concatenate([v.ravel() for v in values])
    mask = _layer_mask(flat, sparsity)
    out, start = [], 0
    for v in values:
        out.append(mask[start : start + v.size].reshape(v.shape))
        start += v.size
    return out


class _PruningCallback(keras.callbacks.Callback):
    """Re-zero pruned weights after every batch; move the masks along the schedule."""

    def __init__(self, masks, end_step, frequency, initial_fraction, power):
        super().__init__()
        self.masks, self.end_step, self.frequency = masks, end_step, frequency
        self.initial_fraction, self.power = initial_fraction, power
        self.step = 0

    def _progress(self, step):
        # Fraction of each layer's target reached at ``step``: the schedule
        # with a final value of 1, so one curve serves every per-layer target.
        return polynomial_sparsity(
            step, self.end_step, self.initial_fraction, 1.0, self.power
        )

    def on_train_begin(self, logs=None):
        self.masks.update(self._progress(0))
        self.masks.apply()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step <= self.end_step and (
            self.step % self.frequency == 0 or self.step == self.end_step
        ):
            self.masks.update(self._progress(self.step))
        self.masks.apply()


class MagnitudePruning(_BaseCompressor):
    """Gradual magnitude pruning of a Keras-backed estimator (Zhu & Gupta, 2017).

    ``fit`` trains a clone of ``estimator`` as usual, then keeps training for
    ``pruning_epochs`` while zeroing the smallest-magnitude weights along a
    polynomial schedule up to ``sparsity``, then fine-tunes for
    ``fine_tune_epochs`` with the masks fixed. Pruned weights are re-zeroed
    after every batch, so they stay exactly zero. Prediction uses the pruned
    model. Zeros do not make a dense model faster; they make it compress
    (gzip) well. See :class:`StructuredPruning` for speed.

    Parameters
    ----------
    estimator : Keras-backed estimator
        A SciKeras, ``skautosearch.keras`` or ``keras.wrappers`` estimator
        (or another compression estimator). It is cloned, never modified.
        To compress an already fitted estimator without retraining it, pass
        ``sklearn.frozen.FrozenEstimator(fitted)``: it is copied, not modified.
    sparsity : float or dict, default=0.8
        Target fraction of pruned weights, in [0, 1). A dict maps layer names
        to their own target; layers not named stay dense.
    scope : {"global", "layer"}, default="global"
        "global" ranks all prunable weights together (layers with many small
        weights lose more); "layer" prunes every layer to ``sparsity``.
        Ignored when ``sparsity`` is a dict.
    pruning_epochs : int, default=10
        Epochs over which sparsity rises from ``initial_sparsity`` to
        ``sparsity``. 0 prunes at once before fine-tuning.
    fine_tune_epochs : int, default=5
        Epochs of training with the final masks fixed.
    initial_sparsity : float, default=0.0
        Sparsity at the start of the schedule.
    power : float, default=3
        Exponent of the polynomial schedule.
    frequency : int or None, default=None
        Steps (batches) between mask updates; None updates four times an epoch.
    prune_bias : bool, default=False
        Also prune biases. Normalisation layers are never pruned.
    batch_size : int or None, default=None
        Batch size of the pruning and fine-tuning epochs; None takes the
        wrapped estimator's (or 32).
    validation_fraction : float or None, default=0.1
        Share of the training data held out to score the model before and
        after pruning in ``compression_report_``; None trains on everything
        and leaves the scores NaN.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, weight initialisation and shuffling (global seeds
        are restored after ``fit``).
    verbose : int, default=0
        Keras verbosity of the pruning epochs.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone, whose Keras model is the pruned one.
    model_ : keras.Model
        The pruned Keras model.
    sparsity_ : dict
        Achieved fraction of zeros per pruned layer (by name), and
        ``"__all__"`` over all prunable weights.
    compression_report_ : dict
        ``{"before": stats, "after": stats}`` with ``n_params``,
        ``n_nonzero_params``, ``keras_bytes``, ``keras_gzip_bytes``,
        ``latency_s_per_sample`` and ``score`` (held-out).
    classes_ : ndarray
        Class labels (classifiers).

    See Also
    --------
    StructuredPruning : removes whole units and filters.
    Quantization : stores weights in fewer bits; composes with pruning.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautosearch.keras import KerasClassifier, build_mlp
    >>> from skautosearch.compression import MagnitudePruning
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasClassifier(build_mlp, model__hidden_units=(64,),
    ...                       loss="sparse_categorical_crossentropy",
    ...                       epochs=5, verbose=0, random_state=0)
    >>> pruned = MagnitudePruning(clf, sparsity=0.8, pruning_epochs=2,
    ...                           fine_tune_epochs=1, random_state=0).fit(X / 16, y)
    >>> round(pruned.sparsity_["__all__"], 2)
    0.8
    """

    _parameter_constraints = {
        **_BaseCompressor._parameter_constraints,
        "estimator": "no_validation",
        "sparsity": "no_validation",  # float or dict: checked in _validate
        "scope": [StrOptions({"global", "layer"})],
        "pruning_epochs": [Interval(Integral, 0, None, closed="left")],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
        "initial_sparsity": [Interval(Real, 0, 1, closed="left")],
        "power": [Interval(Real, 0, None, closed="neither")],
        "frequency": [Interval(Integral, 1, None, closed="left"), None],
        "prune_bias": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        *,
        sparsity=0.8,
        scope="global",
        pruning_epochs=10,
        fine_tune_epochs=5,
        initial_sparsity=0.0,
        power=3,
        frequency=None,
        prune_bias=False,
        batch_size=None,
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.sparsity = sparsity
        self.scope = scope
        self.pruning_epochs = pruning_epochs
        self.fine_tune_epochs = fine_tune_epochs
        self.initial_sparsity = initial_sparsity
        self.power = power
        self.frequency = frequency
        self.prune_bias = prune_bias
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose

    def _validate(self, X, y):
        _check_keras_estimator(self.estimator, "estimator")
        if isinstance(self.sparsity, dict):
            if not self.sparsity:
                raise ValueError("`sparsity` must not be an empty dict.")
            for name, value in self.sparsity.items():
                _check_sparsity(value, f"sparsity[{name!r}]")
            names = {
                layer
                for layer, _ in _prunable_weights(
                    _build_untrained(self.estimator, X, y), True
                )
            }
            unknown = sorted(set(self.sparsity) - names)
            if unknown:
                raise ValueError(
                    f"`sparsity` names layers without prunable weights: {unknown}; "
                    f"prunable layers are {sorted(names)}."
                )
        else:
            _check_sparsity(self.sparsity, "sparsity")
        targets = (
            self.sparsity.values()
            if isinstance(self.sparsity, dict)
            else [self.sparsity]
        )
        if any(self.initial_sparsity > t for t in targets):
            raise ValueError(
                f"`initial_sparsity` ({self.initial_sparsity}) must not exceed "
                "`sparsity`."
            )

    def _masks(self, model):
        pairs = _prunable_weights(model, self.prune_bias)
        if isinstance(self.sparsity, dict):
            pairs = [(name, var) for name, var in pairs if name in self.sparsity]
            return _Masks(pairs, [self.sparsity[name] for name, _ in pairs], "layer")
        return _Masks(pairs, [self.sparsity] * len(pairs), self.scope)

    def _compress(self, X, y):
        model = _get_model(self.estimator_)
        masks = self._masks(model)
        if not masks.pairs:
            raise ValueError(f"Model {model.name!r} has no weights to prune.")
        X_enc, y_enc = _encode(self.estimator_, X, y)
        batch_size = self.batch_size or _wrapper_batch_size(self.estimator_)
        steps = int(np.ceil(len(X_enc) / batch_size))
        callback = _PruningCallback(
            masks,
            end_step=self.pruning_epochs * steps,
            frequency=self.frequency or max(1, steps // 4),
            initial_fraction=min(
                1.0, self.initial_sparsity / max(max(masks.targets), 1e-12)
            ),
            power=self.power,
        )
        epochs = self.pruning_epochs + self.fine_tune_epochs
        if epochs:
            model.fit(
                X_enc,
                y_enc,
                epochs=epochs,
                batch_size=batch_size,
                callbacks=[callback],
                verbose=self.verbose,
            )
        else:
            callback.on_train_begin()
        masks.apply()
        self.sparsity_ = _achieved_sparsity(masks.pairs)


def _achieved_sparsity(pairs):
    zeros, total, out = 0, 0, {}
    for name, var in pairs:
        values = keras.ops.convert_to_numpy(var)
        z = int(values.size - np.count_nonzero(values))
        prev = out.get(name, (0, 0))
        out[name] = (prev[0] + z, prev[1] + values.size)
        zeros, total = zeros + z, total + values.size
    result = {name: z / n for name, (z, n) in out.items()}
    result["__all__"] = zeros / total if total else 0.0
    return result
