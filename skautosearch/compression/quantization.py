"""Weight quantization (int8, float16, int4, ternary, binary) of Dense and Conv layers.

Keras 3.15's ``model.quantize("int8"/"int4")`` covers Dense, EinsumDense and
Embedding but leaves convolution kernels in float32, so a CNN barely shrinks.
The layers here store the kernel of Dense and Conv1D/2D/3D layers as int8 with
one float32 scale per output channel (symmetric), as float16, or as packed
low-bit levels with float32 scales (see :mod:`._lowbit`), and dequantize it on
the fly: arithmetic stays float32, storage shrinks ~4x / 2x / 8x / 16-20x / 32x.
EinsumDense and Embedding layers go through Keras's own quantizer.
"""

from numbers import Integral

import keras
import numpy as np
from keras import ops

from .._sklearn_private import Interval, StrOptions
from ._base import (
    _BaseCompressor,
    _check_keras_estimator,
    _compile_like,
    _encode,
    _get_model,
    _set_model,
    _wrapper_batch_size,
)
from ._lowbit import (
    LOW_BIT,
    expand_scale,
    fine_tune_quantized,
    group_rows,
    lowbit_levels,
    pack,
    packed_size,
    unpack,
)

DTYPES = ("int8", "float16", "int4", "ternary", "binary")
_CLIP_GRID = (1.0, 0.95, 0.9, 0.85, 0.8, 0.7)


class _QuantizedKernelMixin:
    """Replace a layer's float32 kernel by a stored int8/float16 or packed low-bit one."""

    def __init__(self, *args, weight_dtype="int8", group_size=None, **kwargs):
        super().__init__(*args, **kwargs)
        if weight_dtype not in DTYPES:
            raise ValueError(
                f"`weight_dtype` must be one of {DTYPES}; got {weight_dtype!r}."
            )
        self.weight_dtype = weight_dtype
        self.group_size = group_size

    def _kernel_shape(self, input_shape):
        raise NotImplementedError

    def build(self, input_shape):
        shape = self._kernel_shape(input_shape)
        self._full_kernel_shape = shape
        if self.weight_dtype in LOW_BIT:
            self._build_low_bit(shape)
        else:
            self._qkernel = self.add_weight(
                name="kernel",
                shape=shape,
                initializer="zeros",
                dtype=self.weight_dtype,
                trainable=False,
            )
            if self.weight_dtype == "int8":
                self.kernel_scale = self.add_weight(
                    name="kernel_scale",
                    shape=(shape[-1],),
                    initializer="ones",
                    trainable=False,
                )
        self.bias = (
            self.add_weight(
                name="bias", shape=(shape[-1],), initializer="zeros", trainable=False
            )
            if self.use_bias
            else None
        )
        self._build_input_spec(input_shape)
        self.built = True

    def _build_low_bit(self, shape):
        n_rows = int(np.prod(shape[:-1]))
        n_groups = 1
        if self.weight_dtype == "int4":
            n_groups = -(-n_rows // group_rows(n_rows, self.group_size))
        self._qkernel = self.add_weight(
            name="kernel",
            shape=(packed_size(n_rows * shape[-1], self.weight_dtype),),
            initializer="zeros",
            dtype="uint8",
            trainable=False,
        )
        self.kernel_scale = self.add_weight(
            name="kernel_scale",
            shape=(n_groups, shape[-1]),
            initializer="ones",
            trainable=False,
        )

    def _build_input_spec(self, input_shape):
        pass

    @property
    def kernel(self):
        if self.weight_dtype in LOW_BIT:
            return self._low_bit_kernel()
        kernel = ops.cast(self._qkernel, self.compute_dtype)
        if self.weight_dtype == "int8":
            kernel = kernel * self.kernel_scale
        return kernel

    def _low_bit_kernel(self):
        shape = self._full_kernel_shape
        n_rows = int(np.prod(shape[:-1]))
        levels = unpack(self._qkernel, self.weight_dtype, n_rows * shape[-1])
        group = group_rows(n_rows, self.group_size)
        kernel = ops.reshape(levels, (n_rows, shape[-1])) * expand_scale(
            self.kernel_scale, group, n_rows
        )
        return ops.cast(ops.reshape(kernel, shape), self.compute_dtype)

    # Dense/Conv override these for their own quantization modes; the plain
    # Layer behaviour (all variables, in creation order) is what we want.
    def save_own_variables(self, store):
        keras.layers.Layer.save_own_variables(self, store)

    def load_own_variables(self, store):
        keras.layers.Layer.load_own_variables(self, store)

    def get_config(self):
        return {
            **super().get_config(),
            "weight_dtype": self.weight_dtype,
            "group_size": self.group_size,
        }

    def set_float_weights(self, kernel, bias=None, clip=1.0):
        """Quantize and store a float kernel (and bias)."""
        if self.weight_dtype == "int8":
            q, scale = quantize_int8(kernel, clip=clip)
            self._qkernel.assign(q)
            self.kernel_scale.assign(scale)
        elif self.weight_dtype in LOW_BIT:
            levels, scale = lowbit_levels(kernel, self.weight_dtype, self.group_size, clip)
            self._qkernel.assign(pack(ops.convert_to_numpy(levels), self.weight_dtype))
            self.kernel_scale.assign(ops.convert_to_numpy(scale))
        else:
            self._qkernel.assign(kernel.astype(np.float16))
        if self.use_bias:
            self.bias.assign(bias)


def quantize_int8(kernel, clip=1.0):
    """Symmetric per-output-channel int8 quantization of a kernel.

    Parameters
    ----------
    kernel : ndarray
        Float kernel; output channels on the last axis.
    clip : float, default=1.0
        Fraction of each channel's largest magnitude mapped to 127; weights
        beyond it saturate. Below 1 trades outliers for resolution.

    Returns
    -------
    q : ndarray of int8
        Quantized kernel.
    scale : ndarray of float32, shape (n_out,)
        ``kernel ~= q * scale``.

    Examples
    --------
    >>> import numpy as np
    >>> from skautosearch.compression.quantization import quantize_int8
    >>> q, scale = quantize_int8(np.array([[0.5, -2.0], [-1.0, 1.0]]))
    >>> q.tolist()
    [[64, -127], [-127, 64]]
    >>> bool(np.allclose(q * scale, [[0.5, -2.0], [-1.0, 1.0]], atol=scale.max() / 2))
    True
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    axes = tuple(range(kernel.ndim - 1))
    scale = np.abs(kernel).max(axis=axes) * clip / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.round(kernel / scale), -127, 127).astype(np.int8)
    return q, scale


@keras.saving.register_keras_serializable(package="skautosearch")
class QuantizedDense(_QuantizedKernelMixin, keras.layers.Dense):
    """A ``Dense`` layer whose kernel is stored in int8, float16 or packed low-bit levels.

    Built by :class:`Quantization`; saved and loaded as a normal layer
    (importing ``skautosearch.compression`` registers it).

    Parameters
    ----------
    *args, **kwargs
        As ``keras.layers.Dense``.
    weight_dtype : {"int8", "float16", "int4", "ternary", "binary"}, default="int8"
        Storage type of the kernel (see :class:`Quantization`).
    group_size : int or None, default=None
        ``"int4"``: kernel rows sharing a scale; None, one per output unit.

    Examples
    --------
    >>> from skautosearch.compression.quantization import QuantizedDense
    >>> layer = QuantizedDense(4, weight_dtype="int8")
    >>> layer.build((None, 3))
    >>> str(layer._qkernel.dtype)
    'int8'
    """

    def _kernel_shape(self, input_shape):
        return (input_shape[-1], self.units)

    def _build_input_spec(self, input_shape):
        self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})


class _QuantizedConvMixin(_QuantizedKernelMixin):
    def _kernel_shape(self, input_shape):
        return tuple(self.kernel_size) + (input_shape[-1] // self.groups, self.filters)


@keras.saving.register_keras_serializable(package="skautosearch")
class QuantizedConv1D(_QuantizedConvMixin, keras.layers.Conv1D):
    """``Conv1D`` with an int8 (per-filter scale) or float16 kernel.

    See :class:`QuantizedDense`.
    """


@keras.saving.register_keras_serializable(package="skautosearch")
class QuantizedConv2D(_QuantizedConvMixin, keras.layers.Conv2D):
    """``Conv2D`` with an int8 (per-filter scale) or float16 kernel.

    See :class:`QuantizedDense`.
    """


@keras.saving.register_keras_serializable(package="skautosearch")
class QuantizedConv3D(_QuantizedConvMixin, keras.layers.Conv3D):
    """``Conv3D`` with an int8 (per-filter scale) or float16 kernel.

    See :class:`QuantizedDense`.
    """


_QUANTIZED = {
    keras.layers.Dense: QuantizedDense,
    keras.layers.Conv1D: QuantizedConv1D,
    keras.layers.Conv2D: QuantizedConv2D,
    keras.layers.Conv3D: QuantizedConv3D,
}


def _quantized_class(layer):
    if getattr(layer, "lora_enabled", False) or getattr(
        layer, "quantization_mode", None
    ):
        return None
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    return _QUANTIZED.get(type(layer))


def _layer_inputs(model, layers, X, max_rows=512):
    """Inputs seen by each of ``layers`` on calibration data ``X``."""
    probe = keras.Model(model.inputs, [layer.input for layer in layers])
    outputs = probe.predict(np.asarray(X)[:max_rows], verbose=0, batch_size=256)
    return outputs if isinstance(outputs, (list, tuple)) else [outputs]


def _dequantized(kernel, dtype, clip, group_size):
    """The float kernel a ``dtype`` layer computes with, at clip ratio ``clip``."""
    if dtype == "int8":
        q, scale = quantize_int8(kernel, clip)
        return (q * scale).astype(np.float32)
    levels, scale = lowbit_levels(kernel, dtype, group_size, clip)
    n_rows = levels.shape[0]
    full = expand_scale(scale, group_rows(n_rows, group_size), n_rows)
    return ops.convert_to_numpy(ops.reshape(levels * full, kernel.shape))


def _best_clip(layer, kernel, inputs, dtype="int8", group_size=None):
    """The clip ratio whose quantized kernel best reproduces the layer's float output."""
    reference = ops.convert_to_numpy(layer(inputs))
    best, best_error = 1.0, np.inf
    saved = layer.get_weights()
    for clip in _CLIP_GRID:
        layer.set_weights([_dequantized(kernel, dtype, clip, group_size)] + saved[1:])
        error = float(np.mean((ops.convert_to_numpy(layer(inputs)) - reference) ** 2))
        if error < best_error:
            best, best_error = clip, error
    layer.set_weights(saved)
    return best


def quantize_model(model, dtype="int8", calibration_data=None, group_size=None):
    """A copy of ``model`` with Dense/Conv kernels stored as ``dtype``.

    Parameters
    ----------
    model : keras.Model
        A built Keras model; not modified.
    dtype : {"int8", "float16", "int4", "ternary", "binary"}, default="int8"
        Storage type of the kernels. The low-bit ones are packed: two int4,
        five ternary or eight binary weights a byte, with float32 scales.
    calibration_data : array-like or None, default=None
        Model inputs. For int8 and int4, each layer then picks, among a few
        clip ratios, the one whose quantized output is closest (mean squared
        error) to the float output on these inputs; without data, each
        channel's (group's) largest magnitude maps to the largest level.
    group_size : int or None, default=None
        int4 only: kernel rows (inputs) sharing one scale; None gives one
        scale per output channel.

    Returns
    -------
    quantized : keras.Model
        The quantized model (uncompiled).
    clips : dict
        Clip ratio chosen for each int8/int4 layer.

    Examples
    --------
    >>> import keras
    >>> from skautosearch.compression.quantization import quantize_model
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    >>> small, _ = quantize_model(model, "int8")
    >>> type(small.layers[0]).__name__
    'QuantizedDense'
    """
    targets = [layer for layer in _all_layers(model) if _quantized_class(layer) is not None]
    clipped = dtype in ("int8", "int4")
    clips = {layer.name: 1.0 for layer in targets}
    if calibration_data is not None and clipped and targets:
        for layer, inputs in zip(
            targets, _layer_inputs(model, targets, calibration_data)
        ):
            clips[layer.name] = _best_clip(
                layer, ops.convert_to_numpy(layer.kernel), inputs, dtype, group_size
            )

    def clone_layer(layer):
        cls = _quantized_class(layer)
        if cls is None:
            return layer.__class__.from_config(layer.get_config())
        return cls.from_config(
            {**layer.get_config(), "weight_dtype": dtype, "group_size": group_size}
        )

    quantized = keras.models.clone_model(model, clone_function=clone_layer)
    for old, new in zip(_all_layers(model), _all_layers(quantized)):
        if isinstance(new, _QuantizedKernelMixin):
            weights = old.get_weights()
            new.set_float_weights(
                weights[0], weights[1] if len(weights) > 1 else None, clips[old.name]
            )
        else:
            new.set_weights(old.get_weights())
            _keras_quantize(new, dtype)
    return quantized, (clips if clipped else {})


def _keras_quantize(layer, dtype):
    """Keras's own quantization for the layers ours do not cover.

    Keras quantizes EinsumDense and Embedding to int8 or int4 only; ternary
    and binary models keep them int8.
    """
    if dtype != "float16" and isinstance(
        layer, (keras.layers.EinsumDense, keras.layers.Embedding)
    ):
        layer.quantize("int4" if dtype == "int4" else "int8")


def _all_layers(model):
    return list(model._flatten_layers(include_self=False, recursive=True))


class Quantization(_BaseCompressor):
    """Quantization of a Keras-backed estimator's weights, down to one bit.

    ``fit`` trains a clone of ``estimator`` (which may itself be a
    compression estimator, e.g. :class:`MagnitudePruning`), then stores the
    kernels of its Dense and Conv1D/2D/3D layers in ``dtype`` and predicts
    with the quantized model:

    * ``"int8"``: int8 with one float32 scale per output channel;
    * ``"float16"``: float16;
    * ``"int4"``: levels -7..7 with one scale per output channel or per
      ``group_size`` inputs, packed two a byte;
    * ``"ternary"``: {-a, 0, +a} per output channel (ternary weight
      networks), packed five a byte;
    * ``"binary"``: {-a, +a} per output channel (binary-weight networks,
      XNOR-Net), packed eight a byte.

    Post-training quantization to ternary or binary weights destroys a small
    network, so these are fine-tuned first for ``fine_tune_epochs``: the
    network computes with the quantized kernels while the float ones are
    trained (straight-through estimator). EinsumDense and Embedding layers use
    Keras's own int8 (int4 for ``"int4"``) quantization. Biases and
    normalisation parameters stay float32: they are a small part of a model
    and the most sensitive one.

    Parameters
    ----------
    estimator : Keras-backed estimator
        SciKeras, ``skautosearch.keras``, ``keras.wrappers`` or compression
        estimator. Cloned, never modified.
        To compress an already fitted estimator without retraining it, pass
        ``sklearn.frozen.FrozenEstimator(fitted)``: it is copied, not modified.
    dtype : {"int8", "float16", "int4", "ternary", "binary"}, default="int8"
        Storage type of the kernels.
    group_size : int or None, default=None
        ``"int4"`` only: kernel rows (inputs to an output unit; for a
        convolution, kernel positions times input channels) sharing a scale.
        None gives one scale per output channel. Smaller groups are more
        accurate and store more scales (4 bytes each).
    fine_tune_epochs : int or "auto", default="auto"
        Epochs of quantization-aware training (straight-through) before the
        low-bit (int4, ternary, binary) weights are quantized, on the data
        given to ``fit``. "auto": 10 for ``"ternary"`` and ``"binary"``, 0
        (post-training) for ``"int4"``. Ignored for int8 and float16, which
        are always post-training (so one value serves a search over dtypes).
    calibration : {"train"}, array-like or None, default=None
        Calibration inputs for int8/int4 clipping (see :func:`quantize_model`):
        None uses no data (max-magnitude scales), "train" up to 512 rows of
        the training data, or an array of inputs.
    validation_fraction : float or None, default=0.1
        Held-out share used for the scores of ``compression_report_``.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the wrapped estimator's training and fine-tuning;
        global seeds are restored after ``fit``.
    batch_size : int or None, default=None
        Fine-tuning batch size; None takes the wrapped estimator's (or 32).
    verbose : int, default=0
        Keras verbosity of fine-tuning.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone; its Keras model is the quantized one.
    model_ : keras.Model
        The quantized Keras model.
    clips_ : dict
        Clip ratio chosen per int8/int4 layer (1.0 without calibration).
    compression_report_ : dict
        ``{"before": stats, "after": stats}`` (see :class:`MagnitudePruning`);
        ``weight_bytes`` counts the stored (packed) weights.
    classes_ : ndarray
        Class labels (classifiers).

    See Also
    --------
    MagnitudePruning : zeros compress well; quantize after pruning.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautosearch.keras import KerasClassifier, build_mlp
    >>> from skautosearch.compression import Quantization
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasClassifier(build_mlp, loss="sparse_categorical_crossentropy",
    ...                       epochs=3, verbose=0, random_state=0)
    >>> q = Quantization(clf, dtype="int8", random_state=0).fit(X / 16, y)
    >>> str(q.model_.layers[0]._qkernel.dtype)
    'int8'
    """

    _parameter_constraints = {
        **_BaseCompressor._parameter_constraints,
        "estimator": "no_validation",
        "dtype": "no_validation",  # checked in _validate, naming the parameter
        "group_size": [Interval(Integral, 1, None, closed="left"), None],
        "fine_tune_epochs": [
            Interval(Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "calibration": [StrOptions({"train"}), "array-like", None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator,
        *,
        dtype="int8",
        group_size=None,
        fine_tune_epochs="auto",
        calibration=None,
        validation_fraction=0.1,
        random_state=None,
        batch_size=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.dtype = dtype
        self.group_size = group_size
        self.fine_tune_epochs = fine_tune_epochs
        self.calibration = calibration
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.batch_size = batch_size
        self.verbose = verbose

    def _validate(self, X, y):
        _check_keras_estimator(self.estimator, "estimator")
        if not isinstance(self.dtype, str) or self.dtype not in DTYPES:
            raise ValueError(
                f"`dtype` must be one of {list(DTYPES)}; got {self.dtype!r}."
            )

    def _epochs(self):
        # int8 and float16 lose next to nothing post-training: never fine-tuned,
        # so that one setting serves a search over every dtype.
        if self.dtype not in LOW_BIT:
            return 0
        if self.fine_tune_epochs == "auto":
            return _AUTO_EPOCHS.get(self.dtype, 0)
        return self.fine_tune_epochs

    def _compress(self, X, y):
        model = _get_model(self.estimator_)
        group_size = self.group_size if self.dtype == "int4" else None
        if self._epochs():
            fine_tune_quantized(
                model,
                self.dtype,
                group_size,
                lambda layer: _quantized_class(layer) is not None,
                lambda trainer: self._fine_tune(trainer, model, X, y),
            )
        calibration = None
        if isinstance(self.calibration, str):
            calibration = _encode(self.estimator_, X)[0][:512]
        elif self.calibration is not None:
            calibration = _encode(self.estimator_, self.calibration)[0]
        quantized, self.clips_ = quantize_model(model, self.dtype, calibration, group_size)
        _set_model(self.estimator_, _compile_like(quantized, model))

    def _fine_tune(self, trainer, model, X, y):
        X_enc, y_enc = _encode(self.estimator_, X, y)
        _compile_like(trainer, model).fit(
            X_enc,
            y_enc,
            epochs=self._epochs(),
            batch_size=self.batch_size or _wrapper_batch_size(self.estimator_),
            verbose=self.verbose,
        )


_AUTO_EPOCHS = {"ternary": 10, "binary": 10}
