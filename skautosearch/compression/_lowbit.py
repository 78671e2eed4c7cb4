"""Low-bit kernels: int4, ternary and binary levels, packed into bytes.

A kernel is seen as a matrix of ``K = prod(shape[:-1])`` rows (the inputs one
weight multiplies) by ``N`` output channels. Each weight becomes a small
integer level times a float32 scale: int4 levels -7..7 with one scale per
output channel or per group of ``group_size`` rows; ternary levels {-1, 0, 1}
with one scale per channel (Li, Zhang and Liu, 2016, "Ternary weight
networks": threshold 0.7 x mean |w|, scale the mean |w| above it); binary
levels {-1, 1} with one scale per channel, the mean |w| (Rastegari et al.,
2016, "XNOR-Net"). Levels are stored as base-``b`` digits packed into uint8:
two int4 levels, five ternary or eight binary levels a byte.

The level function is written once with ``keras.ops``: it quantizes kernels
for packing (NumPy in, NumPy out) and inside the straight-through fine-tuning
(:func:`fine_tune_quantized`), so both see the same levels and scales.
"""

import keras
import numpy as np
from keras import ops

LOW_BIT = ("int4", "ternary", "binary")
# digit base, digits per byte, and level = digit * step - offset
_CODES = {"int4": (16, 2, 1, 8), "ternary": (3, 5, 1, 1), "binary": (2, 8, 2, 1)}
_TERNARY_THRESHOLD = 0.7


def _rows(shape):
    return int(np.prod(shape[:-1]))


def group_rows(n_rows, group_size):
    """Rows sharing one scale: ``group_size`` capped at the kernel's rows (None: all)."""
    return n_rows if group_size is None else max(1, min(int(group_size), n_rows))


def expand_scale(scale, group, n_rows):
    """Repeat ``(n_groups, N)`` scales to one row per kernel row: ``(n_rows, N)``."""
    return ops.repeat(scale, group, axis=0)[:n_rows]


def lowbit_levels(kernel, dtype, group_size=None, clip=1.0):
    """Integer levels and scales of a kernel: ``kernel ~= levels * scales``.

    Parameters
    ----------
    kernel : array or tensor
        Float kernel, output channels on the last axis.
    dtype : {"int4", "ternary", "binary"}
        Target levels.
    group_size : int or None, default=None
        int4 only: rows of the ``(K, N)`` kernel matrix sharing a scale;
        None gives one scale per output channel.
    clip : float, default=1.0
        int4 only: fraction of a group's largest magnitude mapped to 7.

    Returns
    -------
    levels : tensor of shape (K, N)
        Float tensor of integer values.
    scale : tensor of shape (n_groups, N)
        One row per group (ternary and binary: a single row).

    Examples
    --------
    >>> import numpy as np
    >>> from keras import ops
    >>> from skautosearch.compression._lowbit import lowbit_levels
    >>> levels, scale = lowbit_levels(np.array([[0.5, -2.0], [-1.5, 1.0]]), "binary")
    >>> ops.convert_to_numpy(levels).tolist(), ops.convert_to_numpy(scale).tolist()
    ([[1.0, -1.0], [-1.0, 1.0]], [[1.0, 1.5]])
    """
    kernel = ops.convert_to_tensor(kernel, "float32")
    n_out = kernel.shape[-1]
    w = ops.reshape(kernel, (-1, n_out))
    if dtype == "int4":
        return _int4_levels(w, group_rows(w.shape[0], group_size), clip)
    magnitude = ops.abs(w)
    if dtype == "ternary":
        threshold = _TERNARY_THRESHOLD * ops.mean(magnitude, axis=0)
        keep = ops.cast(magnitude > threshold, "float32")
        alpha = ops.sum(magnitude * keep, axis=0) / ops.maximum(ops.sum(keep, axis=0), 1.0)
        levels = ops.sign(w) * keep
    elif dtype == "binary":
        alpha = ops.mean(magnitude, axis=0)
        levels = ops.where(w >= 0, 1.0, -1.0)
    else:
        raise ValueError(f"`dtype` must be one of {list(LOW_BIT)}; got {dtype!r}.")
    return levels, ops.expand_dims(ops.where(alpha > 0, alpha, 1.0), 0)


def _int4_levels(w, group, clip):
    n_rows, n_out = w.shape
    n_groups = -(-n_rows // group)
    padded = ops.pad(w, [[0, n_groups * group - n_rows], [0, 0]])
    peak = ops.max(ops.abs(ops.reshape(padded, (n_groups, group, n_out))), axis=1)
    scale = ops.where(peak > 0, peak * clip / 7.0, 1.0)
    levels = ops.clip(ops.round(w / expand_scale(scale, group, n_rows)), -7, 7)
    return levels, scale


def fake_quantize(kernel, dtype, group_size=None):
    """The kernel as its low-bit model computes with it (levels times scales)."""
    levels, scale = lowbit_levels(kernel, dtype, group_size)
    n_rows = levels.shape[0]
    dequantized = levels * expand_scale(scale, group_rows(n_rows, group_size), n_rows)
    return ops.reshape(dequantized, ops.shape(kernel))


def pack(levels, dtype):
    """Pack integer levels (any shape) into a flat uint8 array.

    Examples
    --------
    >>> import numpy as np
    >>> from skautosearch.compression._lowbit import pack, packed_size
    >>> pack(np.array([1, -1, -1, 1, 1, 1, -1, 1, 1]), "binary").tolist()
    [185, 1]
    >>> packed_size(9, "binary"), packed_size(9, "ternary"), packed_size(9, "int4")
    (2, 2, 5)
    """
    base, per_byte, step, offset = _CODES[dtype]
    digits = ((np.asarray(levels).ravel() + offset) // step).astype(np.int64)
    if digits.size and (digits.min() < 0 or digits.max() >= base):
        raise ValueError(f"Levels out of range for {dtype}.")
    digits = np.pad(digits, (0, packed_size(digits.size, dtype) * per_byte - digits.size))
    powers = base ** np.arange(per_byte, dtype=np.int64)
    return (digits.reshape(-1, per_byte) @ powers).astype(np.uint8)


def unpack(packed, dtype, n):
    """Float levels of the first ``n`` values packed by :func:`pack` (``keras.ops``)."""
    base, per_byte, step, offset = _CODES[dtype]
    powers = ops.convert_to_tensor(base ** np.arange(per_byte), "int32")
    digits = ops.mod(ops.floor_divide(ops.cast(packed, "int32")[:, None], powers), base)
    digits = ops.reshape(digits, (-1,))[:n]
    return ops.cast(digits, "float32") * step - offset


def packed_size(n, dtype):
    """Bytes holding ``n`` packed levels."""
    per_byte = _CODES[dtype][1]
    return -(-int(n) // per_byte)


# --------------------------------------------------------------------------- fine-tuning


class _StraightThrough:
    """Compute with the low-bit kernel, train the float one (straight-through).

    ``w + stop_gradient(q(w) - w)`` equals ``q(w)`` forward and passes the
    gradient to ``w`` unchanged (Bengio et al., 2013; BinaryConnect).
    """

    lowbit_dtype = "binary"
    group_size = None

    @property
    def kernel(self):
        w = super().kernel
        return w + ops.stop_gradient(fake_quantize(w, self.lowbit_dtype, self.group_size) - w)


_TRAINABLE = {
    cls: type(f"_StraightThrough{cls.__name__}", (_StraightThrough, cls), {})
    for cls in (
        keras.layers.Dense,
        keras.layers.Conv1D,
        keras.layers.Conv2D,
        keras.layers.Conv3D,
    )
}


def fine_tune_quantized(model, dtype, group_size, eligible, fit):
    """Train ``model``'s eligible kernels for their low-bit versions, in place.

    A copy of ``model`` whose eligible layers (``eligible(layer)`` True)
    compute with :func:`fake_quantize`-d kernels is trained by
    ``fit(copy)`` (which compiles and fits it); its float weights are then
    copied back into ``model``, ready to be quantized and packed.
    """

    def clone_layer(layer):
        cls = _TRAINABLE.get(type(layer)) if eligible(layer) else None
        new = (cls or type(layer)).from_config(layer.get_config())
        if cls is not None:
            new.lowbit_dtype, new.group_size = dtype, group_size
        return new

    trainer = keras.models.clone_model(model, clone_function=clone_layer)
    trainer.set_weights(model.get_weights())
    fit(trainer)
    model.set_weights(trainer.get_weights())
    return model
