"""Serve a Keras-backed estimator through LiteRT (TensorFlow Lite), int8 kernels included.

:class:`Quantization` stores smaller weights but computes in float32 (its
kernels are dequantized on every call), so it saves storage, not time. An
integer runtime computes in int8: :class:`LiteRTQuantization` converts the
trained Keras model to a LiteRT flatbuffer with full-integer quantization
(weights and activations int8, calibrated on training rows) and predicts by
running the LiteRT interpreter, behind the same scikit-learn interface.

The interpreter is ``ai_edge_litert`` (the LiteRT package) when installed,
otherwise TensorFlow's own ``tf.lite.Interpreter``; the converter is
TensorFlow's ``tf.lite.TFLiteConverter`` (TensorFlow backend only).
"""

import contextlib
import gzip
import io
import os
import time
from numbers import Integral

import numpy as np

from .._sklearn_private import Interval, StrOptions
from ..costs import _inference_copy, _keras_weight_counts
from ._base import (
    _LATENCY_ROWS,
    _BaseCompressor,
    _check_keras_estimator,
    _encode,
    _get_model,
    _set_model,
)

DTYPES = ("int8", "float16", "float32")


def _interpreter_class(runtime):
    if runtime in ("auto", "litert"):
        try:
            from ai_edge_litert.interpreter import Interpreter

            return Interpreter
        except ImportError:
            if runtime == "litert":
                raise ImportError(
                    "runtime='litert' needs the ai-edge-litert package "
                    "(pip install ai-edge-litert)."
                ) from None
    import tensorflow as tf

    return tf.lite.Interpreter


class LiteRTModel:
    """A LiteRT flatbuffer that predicts like a Keras model.

    It offers the two methods the scikit-learn wrappers predict with
    (``predict`` and ``predict_on_batch``), so a wrapper whose ``model_`` is a
    ``LiteRTModel`` decodes its outputs as usual. It pickles as its bytes;
    the interpreter is rebuilt on first use.

    Parameters
    ----------
    content : bytes
        The ``.tflite`` flatbuffer.
    runtime : {"auto", "litert", "tflite"}, default="auto"
        Interpreter: ``ai_edge_litert`` ("litert"), ``tf.lite`` ("tflite"),
        or the first available ("auto").
    num_threads : int or None, default=None
        Interpreter threads; None lets the runtime choose.
    n_params, n_nonzero : int or None, default=None
        Parameters of the Keras model it was converted from, for reports.

    Examples
    --------
    >>> from skautosearch.compression.runtime import LiteRTModel
    >>> served = LiteRTModel(open("model.tflite", "rb").read())  # doctest: +SKIP
    >>> served.predict_on_batch(X)  # doctest: +SKIP
    """

    def __init__(self, content, runtime="auto", num_threads=None, n_params=None,
                 n_nonzero=None):
        self.content = content
        self.runtime = runtime
        self.num_threads = num_threads
        self.n_params = n_params
        self.n_nonzero = n_nonzero
        self._interpreter, self._rows = None, None

    def _load(self):
        if self._interpreter is None:
            cls = _interpreter_class(self.runtime)
            self._interpreter = cls(model_content=self.content, num_threads=self.num_threads)
            self._input = self._interpreter.get_input_details()[0]
            self._output = self._interpreter.get_output_details()[0]
            self._rows = None
        return self._interpreter

    def _ready(self, n_rows):
        self._load()
        if n_rows != self._rows:  # resizing re-plans memory: only when the batch changes
            shape = [n_rows, *self._input["shape"][1:]]
            self._interpreter.resize_tensor_input(self._input["index"], shape)
            self._interpreter.allocate_tensors()
            self._rows = n_rows
        return self._interpreter

    def predict_on_batch(self, x):
        """Outputs for one batch of (encoded) inputs, as a NumPy array."""
        x = np.ascontiguousarray(x, dtype=self._input_dtype())
        interpreter = self._ready(len(x))
        interpreter.set_tensor(self._input["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(self._output["index"]).copy()

    def predict(self, x, batch_size=None, verbose=0, **kwargs):
        """Outputs for all rows of ``x``, ``batch_size`` at a time (None: all at once)."""
        x = np.asarray(x)
        step = len(x) if not batch_size or batch_size < 0 else batch_size
        if len(x) <= step:
            return self.predict_on_batch(x)
        return np.concatenate(
            [self.predict_on_batch(x[i : i + step]) for i in range(0, len(x), step)]
        )

    def _input_dtype(self):
        self._load()
        return self._input["dtype"]

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_interpreter"], state["_rows"] = None, None
        state.pop("_input", None)
        state.pop("_output", None)
        return state


def to_litert(model, dtype="int8", calibration_data=None, max_rows=256):
    """Convert a Keras model to a LiteRT flatbuffer.

    Parameters
    ----------
    model : keras.Model
        A built Keras model (TensorFlow backend).
    dtype : {"int8", "float16", "float32"}, default="int8"
        "int8": full-integer quantization, weights and activations int8
        (inputs and outputs stay float32, quantized inside the graph); its
        activation ranges are calibrated on ``calibration_data``. "float16":
        float16 weights. "float32": no quantization.
    calibration_data : array-like or None, default=None
        Model inputs; required for "int8".
    max_rows : int, default=256
        Calibration rows used.

    Returns
    -------
    content : bytes
        The ``.tflite`` flatbuffer.
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(_inference_copy(model))
    if dtype == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif dtype == "int8":
        rows = np.asarray(calibration_data, dtype="float32")[:max_rows]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([rows[i : i + 1]] for i in range(len(rows)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    # Keras's export prints every captured tensor to stdout: not the user's output.
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def litert_latency(model, X, n_rows=_LATENCY_ROWS, repeats=5):
    """Best-of-``repeats`` seconds per row to predict ``n_rows`` rows in one batch."""
    X = np.resize(np.asarray(X), (n_rows,) + np.shape(X)[1:])
    model.predict_on_batch(X)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_on_batch(X)
        best = min(best, time.perf_counter() - start)
    return best / n_rows


class LiteRTQuantization(_BaseCompressor):
    """Serve a Keras-backed estimator through LiteRT, with int8 arithmetic.

    ``fit`` trains a clone of ``estimator`` (or copies a
    ``FrozenEstimator``'s), converts its Keras model to a LiteRT flatbuffer,
    with full-integer quantization for ``dtype="int8"`` (weights and
    activations in int8, activation ranges calibrated on up to
    ``calibration_rows`` training rows), and from then on ``predict``,
    ``predict_proba`` and ``score`` run the LiteRT interpreter. Unlike
    :class:`Quantization`, whose kernels are dequantized to float32 on every
    call, the arithmetic itself is int8 here: faster on CPUs with integer
    kernels, as well as about 4x smaller. The ``latency`` cost of a search
    measured on this estimator is that of the interpreter, the runtime the
    model is served with.

    Parameters
    ----------
    estimator : Keras-backed estimator
        SciKeras, ``skautosearch.keras``, ``keras.wrappers`` or compression
        estimator (TensorFlow backend). Cloned, never modified; pass
        ``sklearn.frozen.FrozenEstimator(fitted)`` to convert a fitted one.
    dtype : {"int8", "float16", "float32"}, default="int8"
        "int8": full-integer quantization; "float16": float16 weights;
        "float32": the same model unquantized, in the same runtime (the fair
        baseline for the int8 model's speed).
    calibration_rows : int, default=256
        Training rows that calibrate the int8 activation ranges.
    runtime : {"auto", "litert", "tflite"}, default="auto"
        Interpreter: ``ai_edge_litert``, ``tf.lite.Interpreter``, or the
        first available.
    num_threads : int or None, default=1
        Interpreter threads. One suits small models and parallel searches.
    validation_fraction : float or None, default=0.1
        Held-out share used for the scores of ``compression_report_``.
    random_state : int, RandomState instance or None, default=None
        Seeds the split and the wrapped estimator's training.
    batch_size : int or None, default=None
        Unused (no training happens here); kept for a uniform interface.
    verbose : int, default=0
        Unused.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone; its ``model_`` is the :class:`LiteRTModel`.
    model_ : LiteRTModel
        The served model (``model_.content`` is the ``.tflite`` file).
    compression_report_ : dict
        ``{"before": stats, "after": stats}`` (see :class:`MagnitudePruning`);
        after conversion, ``keras_bytes`` and ``weight_bytes`` are the bytes
        of the ``.tflite`` file, and the latency is the interpreter's.
    classes_ : ndarray
        Class labels (classifiers).

    See Also
    --------
    Quantization : smaller ``.keras`` files, down to one bit a weight.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skautosearch.keras import KerasClassifier, build_mlp
    >>> from skautosearch.compression import LiteRTQuantization
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasClassifier(build_mlp, loss="sparse_categorical_crossentropy",
    ...                       epochs=3, verbose=0, random_state=0)
    >>> served = LiteRTQuantization(clf, random_state=0).fit(X / 16, y)  # doctest: +SKIP
    >>> served.predict(X[:3] / 16)  # doctest: +SKIP
    array([0, 1, 2])
    """

    _parameter_constraints = {
        **_BaseCompressor._parameter_constraints,
        "estimator": "no_validation",
        "dtype": [StrOptions(set(DTYPES))],
        "calibration_rows": [Interval(Integral, 1, None, closed="left")],
        "runtime": [StrOptions({"auto", "litert", "tflite"})],
        "num_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        estimator,
        *,
        dtype="int8",
        calibration_rows=256,
        runtime="auto",
        num_threads=1,
        validation_fraction=0.1,
        random_state=None,
        batch_size=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.dtype = dtype
        self.calibration_rows = calibration_rows
        self.runtime = runtime
        self.num_threads = num_threads
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.batch_size = batch_size
        self.verbose = verbose

    def _validate(self, X, y):
        _check_keras_estimator(self.estimator, "estimator")
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                "LiteRTQuantization converts with TensorFlow's LiteRT converter; the "
                f"Keras backend is {keras.backend.backend()!r}."
            )
        _interpreter_class(self.runtime)  # raises if the runtime is missing

    def _compress(self, X, y):
        model = _get_model(self.estimator_)
        X_enc = _encode(self.estimator_, X)[0]
        content = to_litert(model, self.dtype, X_enc, self.calibration_rows)
        n_params, n_nonzero = _keras_weight_counts(model)
        served = LiteRTModel(content, self.runtime, self.num_threads,
                             n_params=n_params, n_nonzero=n_nonzero)
        _set_model(self.estimator_, served)

    def _report_stats(self, estimator, X_fit, X_val, y_val):
        model = _get_model(estimator)
        if not isinstance(model, LiteRTModel):
            return super()._report_stats(estimator, X_fit, X_val, y_val)
        X_probe = _encode(estimator, X_val if X_val is not None else X_fit)[0]
        return {
            "n_params": model.n_params,
            "n_nonzero_params": model.n_nonzero,
            "keras_bytes": len(model.content),
            "keras_gzip_bytes": len(gzip.compress(model.content, compresslevel=9)),
            "weight_bytes": len(model.content),
            "latency_s_per_sample": litert_latency(model, X_probe),
            "score": float(estimator.score(X_val, y_val)) if X_val is not None else float("nan"),
        }

    def save(self, path):
        """Write the served model as a ``.tflite`` file.

        Parameters
        ----------
        path : str or path-like
            Destination; must end in ``.tflite``.

        Returns
        -------
        path : str
            The path written.
        """
        path = os.fspath(path)
        if not path.endswith(".tflite"):
            raise ValueError(f"`path` must end in '.tflite'; got {path!r}.")
        with open(path, "wb") as f:
            f.write(self.model_.content)
        return path
