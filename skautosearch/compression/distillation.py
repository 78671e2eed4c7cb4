"""Knowledge distillation of any probabilistic classifier into a Keras student."""

from numbers import Integral, Real

import keras
import numpy as np
from keras import ops
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted

from .._sklearn_private import Interval, StrOptions
from ..costs import _seconds_per_row
from ._base import (
    _LATENCY_ROWS,
    _base_wrapper,
    _BaseCompressor,
    _build_untrained,
    _check_keras_estimator,
    _compile_like,
    _encode,
    _get_model,
    _initialize,
    _is_keras_estimator,
    _KerasWrapperBase,
    _wrapper_batch_size,
)

_EPS = 1e-7


def soften(proba, temperature):
    """Teacher probabilities at ``temperature``: ``softmax(log(p) / T)``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Probabilities (rows sum to one).
    temperature : float
        Values above 1 flatten the distribution, exposing how the teacher
        ranks the wrong classes.

    Returns
    -------
    soft : ndarray of shape (n_samples, n_classes)

    Examples
    --------
    >>> import numpy as np
    >>> from skautosearch.compression.distillation import soften
    >>> soften(np.array([[0.9, 0.09, 0.01]]), 2.0).round(3)
    array([[0.703, 0.222, 0.074]])
    """
    logits = np.log(np.clip(proba, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    soft = np.exp(logits)
    return soft / soft.sum(axis=1, keepdims=True)


def teacher_logits(proba):
    """Centred log-probabilities: the logits of ``proba`` up to the softmax's free shift.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes)
        ``log p - mean(log p)`` per row (``p`` clipped at 1e-7).
    """
    logits = np.log(np.clip(proba, _EPS, 1.0))
    return logits - logits.mean(axis=1, keepdims=True)


def _distillation_loss(n_classes, temperature, alpha, kind="kl"):
    """Hinton et al. (2015): a T² CE(soft, softmax(z/T)) + (1-a) CE(y, softmax(z)).

    With ``kind="logits_mse"`` the soft term is Ba and Caruana's (2014) mean
    squared error between the centred logits of student and teacher.
    ``y_true`` packs the one-hot labels and the teacher's targets side by side
    so the loss works with a plain ``model.fit``.
    """

    def loss(y_true, logits):
        hard, target = y_true[:, :n_classes], y_true[:, n_classes:]
        hard_ce = -ops.sum(hard * ops.log_softmax(logits, axis=-1), axis=-1)
        if kind == "logits_mse":
            centred = logits - ops.mean(logits, axis=-1, keepdims=True)
            soft = ops.mean(ops.square(centred - target), axis=-1)
        else:
            log_p_t = ops.log_softmax(logits / temperature, axis=-1)
            soft = -temperature**2 * ops.sum(target * log_p_t, axis=-1)
        return alpha * soft + (1 - alpha) * hard_ce

    return loss


class _Logits:
    """Expose a softmax/sigmoid student's logits for training, then restore it.

    The student's last layer is either a layer with ``activation`` softmax or
    sigmoid (switched to linear while distilling, same weights), or a
    ``Softmax``/``Activation`` layer (trained through the tensor before it).
    A single sigmoid unit ``z`` becomes the two-class logits ``[0, z]``.
    """

    def __init__(self, model):
        self.model, self.layer = model, model.layers[-1]
        activation = getattr(self.layer, "activation", None)
        self.kind = _activation_name(activation) if activation is not None else None
        if isinstance(self.layer, keras.layers.Softmax):
            self.kind = "softmax"
        if self.kind not in ("softmax", "sigmoid"):
            raise ValueError(
                "`student` must end in a softmax (or single-unit sigmoid) output "
                f"layer; its last layer {self.layer.name!r} "
                f"({type(self.layer).__name__}) does not."
            )

    def __enter__(self):
        if isinstance(self.layer, (keras.layers.Softmax, keras.layers.Activation)):
            out = self.layer.input
            self._original = None
        else:
            self._original = self.layer.activation
            self.layer.activation = keras.activations.linear
            out = self.model.outputs[0]
        if self.kind == "sigmoid":
            out = keras.layers.Concatenate()([ops.zeros_like(out), out])
        return keras.Model(self.model.inputs, out)

    def __exit__(self, *exc):
        if self._original is not None:
            self.layer.activation = self._original


def _activation_name(activation):
    if isinstance(activation, str):
        return activation
    name = getattr(activation, "__name__", None) or type(activation).__name__
    return name.lower()


def _output_units(model):
    return int(model.outputs[0].shape[-1])


class Distillation(_BaseCompressor):
    """Train a small Keras classifier on a teacher's softened outputs.

    The student minimises
    ``alpha * T² * CE(softmax(log p_teacher / T), softmax(z / T))
    + (1 - alpha) * CE(y, softmax(z))`` (Hinton, Vinyals and Dean, 2015),
    where ``z`` are its logits: the teacher's probabilities at temperature
    ``T`` carry how it ranks the wrong classes, which the hard labels do not.
    The student's own softmax/sigmoid output is switched off while training on
    logits (the usual mistake, distilling from probabilities as if they were
    logits, leaves almost uniform targets), then restored.

    Parameters
    ----------
    teacher : classifier with ``predict_proba``
        Any scikit-learn compatible classifier, fitted (used as is, never
        refitted) or not (a clone is fitted on the training data).
    student : Keras-backed classifier
        SciKeras, ``skautosearch.keras`` or ``keras.wrappers`` classifier
        whose model ends in a softmax with one unit per class (or one sigmoid
        unit for two classes). Cloned, never modified. Its fit callbacks
        (a learning-rate schedule, say) run during distillation too, so a
        schedule applies to the student alone and distilled alike; the
        distillation fit has no validation data (no ``val_*`` logs).
    temperature : float, default=2.0
        Softening temperature ``T`` (> 0); unused with ``loss="logits_mse"``.
    alpha : float, default=0.7
        Weight of the soft-target term, in [0, 1]; ``1 - alpha`` weighs the
        true labels.
    loss : {"kl", "logits_mse"}, default="kl"
        The soft term: "kl" is Hinton et al.'s cross-entropy with the
        softened teacher probabilities; "logits_mse" regresses the teacher's
        logits (centred log-probabilities, :func:`teacher_logits`) with a mean
        squared error (Ba and Caruana, 2014), i.e. the limit of large ``T``.
    epochs : int or None, default=None
        Distillation epochs; None takes the student's ``epochs`` (or 10).
    batch_size : int or None, default=None
        None takes the student's (or 32).
    validation_fraction : float or None, default=0.1
        Held-out share used for the scores of ``compression_report_``
        ("before" is the teacher, "after" the student).
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the student's initialisation and shuffling; global
        seeds are restored after ``fit``.
    augment : {"mixup"} or None, default="mixup"
        Extra transfer inputs labelled by the teacher alone: "mixup" adds
        ``n_augment`` x n_samples convex combinations ``l x_i + (1 - l) x_j``
        of random training pairs (``l`` uniform), which carry only the soft
        term of the loss. Where labels are few, this is where most of the
        teacher's extra knowledge reaches the student. None uses the
        training inputs only.
    n_augment : float, default=2.0
        Number of mixup inputs, as a multiple of the training set size (> 0).
    transfer_data : array-like or None, default=None
        Extra unlabelled inputs (same format as ``X``) labelled by the teacher
        alone and trained on the soft term only, e.g. unlabelled rows of the
        real distribution or noisy copies of the training rows. They are mixed
        up with the training rows too when ``augment="mixup"``.
    verbose : int, default=0
        Keras verbosity.

    Attributes
    ----------
    teacher_ : classifier
        The fitted teacher (the given one if it was fitted).
    estimator_ : classifier
        The fitted student.
    model_ : keras.Model
        The student's Keras model.
    classes_ : ndarray
        Class labels.
    compression_report_ : dict
        ``{"before": teacher stats, "after": student stats}``; Keras-only
        entries are None for a non-Keras teacher.

    See Also
    --------
    StructuredPruning : shrink a trained network instead of training a new one.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skautosearch.keras import KerasClassifier, build_mlp
    >>> from skautosearch.compression import Distillation
    >>> X, y = load_digits(return_X_y=True)
    >>> student = KerasClassifier(build_mlp, model__hidden_units=(16,), epochs=5,
    ...                           loss="sparse_categorical_crossentropy", verbose=0)
    >>> teacher = RandomForestClassifier(random_state=0)
    >>> d = Distillation(teacher, student, random_state=0).fit(X / 16, y)
    >>> d.score(X / 16, y) > 0.8
    True
    """

    _parameter_constraints = {
        **_BaseCompressor._parameter_constraints,
        "teacher": "no_validation",
        "student": "no_validation",
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "loss": [StrOptions({"kl", "logits_mse"})],
        "epochs": [Interval(Integral, 1, None, closed="left"), None],
        "augment": [StrOptions({"mixup"}), None],
        "n_augment": [Interval(Real, 0, None, closed="neither")],
        "transfer_data": ["array-like", None],
    }

    def __init__(
        self,
        teacher,
        student,
        *,
        temperature=2.0,
        alpha=0.7,
        loss="kl",
        epochs=None,
        batch_size=None,
        augment="mixup",
        n_augment=2.0,
        transfer_data=None,
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
    ):
        self.teacher = teacher
        self.student = student
        self.temperature = temperature
        self.alpha = alpha
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.augment = augment
        self.n_augment = n_augment
        self.transfer_data = transfer_data
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose

    def _wrapped(self):
        return self.student

    def _kind(self):
        return "classifier"

    def _validate(self, X, y):
        if not hasattr(self.teacher, "predict_proba"):
            raise TypeError(
                "`teacher` must be a classifier with predict_proba; got "
                f"{type(self.teacher).__name__}."
            )
        _check_keras_estimator(self.student, "student")
        if self.transfer_data is not None and (
            np.shape(self.transfer_data)[1:] != np.shape(X)[1:]
        ):
            raise ValueError(
                "`transfer_data` must have the shape of X's rows "
                f"{np.shape(X)[1:]}; got rows of shape {np.shape(self.transfer_data)[1:]}."
            )
        if isinstance(self.student, FrozenEstimator):
            raise TypeError(
                "`student` is trained by distillation; it cannot be a FrozenEstimator."
            )
        classes = _fitted_classes(self.teacher)
        if classes is not None and not np.array_equal(np.sort(classes), np.unique(y)):
            raise ValueError(
                f"The fitted `teacher` knows classes {list(classes)} but y has "
                f"{list(np.unique(y))}."
            )
        n_classes = len(np.unique(y)) if classes is None else len(classes)
        model = _build_untrained(self.student, X, y)
        units = _output_units(model)
        if units != n_classes and not (units == 1 and n_classes == 2):
            raise ValueError(
                f"`student` outputs {units} values per sample but the teacher has "
                f"{n_classes} classes; its output layer needs {n_classes} units."
            )
        _Logits(model)  # raises if the output is not softmax/sigmoid

    def _fit_uncompressed(self, X, y):
        classes = _fitted_classes(self.teacher)
        if classes is not None:
            self.teacher_ = self.teacher
        else:
            self.teacher_ = clone(self.teacher).fit(X, y)
        return self.teacher_

    def _report_stats(self, estimator, X_fit, X_val, y_val):
        if _is_keras_estimator(estimator):
            return super()._report_stats(estimator, X_fit, X_val, y_val)
        X_probe = np.resize(
            np.asarray(X_val if X_val is not None else X_fit),
            (_LATENCY_ROWS,) + np.shape(X_fit)[1:],
        )
        latency = _seconds_per_row(estimator.predict_proba, X_probe, warm_up_rows=0)
        return {
            "n_params": None,
            "n_nonzero_params": None,
            "keras_bytes": None,
            "keras_gzip_bytes": None,
            "weight_bytes": None,
            "latency_s_per_sample": latency,
            "score": float(estimator.score(X_val, y_val))
            if X_val is not None
            else float("nan"),
        }

    def _compress(self, X, y):
        student = clone(self.student)
        _initialize(student, X, y)
        model = _get_model(student)
        classes = np.asarray(self.teacher_.classes_)
        hard = (np.asarray(y)[:, None] == classes[None, :]).astype("float32")
        X_transfer = np.asarray(X)
        extra = []
        if self.transfer_data is not None:
            extra.append(np.asarray(self.transfer_data, dtype=X_transfer.dtype))
        if self.augment == "mixup":
            pool = np.concatenate([X_transfer, *extra])
            extra.append(_mixup(pool, int(round(self.n_augment * len(X_transfer)))))
        if extra:
            extra = np.concatenate(extra).astype(X_transfer.dtype)
            X_transfer = np.concatenate([X_transfer, extra])
            hard = np.concatenate([hard, np.zeros((len(extra), len(classes)), "float32")])
        proba = self.teacher_.predict_proba(X_transfer)
        soft = (
            teacher_logits(proba)
            if self.loss == "logits_mse"
            else soften(proba, self.temperature)
        )
        X_enc = _encode(student, X_transfer)[0]
        with _Logits(model) as logits_model:
            logits_model.compile(
                optimizer=_fresh_optimizer(model),
                loss=_distillation_loss(
                    len(classes), self.temperature, self.alpha, self.loss
                ),
            )
            logits_model.fit(
                X_enc,
                np.hstack([hard, soft]).astype("float32"),
                epochs=self.epochs or _student_epochs(student),
                batch_size=self.batch_size or _wrapper_batch_size(student),
                callbacks=_student_callbacks(student),
                verbose=self.verbose,
            )
        _compile_like(model, model)
        self.estimator_ = student


def _mixup(X, n):
    # Uses NumPy's global generator, seeded (and restored) by fit's random_state.
    i, j = np.random.randint(len(X), size=(2, n))
    lam = np.random.uniform(size=(n,) + (1,) * (X.ndim - 1))
    return lam * X[i] + (1 - lam) * X[j]


def _fitted_classes(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return None
    return getattr(estimator, "classes_", None)


def _fresh_optimizer(model):
    config = model.get_compile_config() or {}
    optimizer = config.get("optimizer", "adam")
    return keras.optimizers.get(
        keras.saving.deserialize_keras_object(optimizer)
        if isinstance(optimizer, dict)
        else optimizer
    )


def _student_callbacks(student):
    """The student's own fit callbacks (a learning-rate schedule, say).

    Distillation trains the student as it would train alone, on another loss:
    a schedule given to the student applies to both, so that a comparison with
    the student trained alone stays fair.
    """
    wrapper = _base_wrapper(student)
    if isinstance(wrapper, _KerasWrapperBase):
        return list((wrapper.fit_kwargs or {}).get("callbacks") or [])
    return list(getattr(wrapper, "_fit_callbacks", None) or [])


def _student_epochs(student):
    wrapper = _base_wrapper(student)
    if isinstance(wrapper, _KerasWrapperBase):
        return (wrapper.fit_kwargs or {}).get("epochs") or 10
    params = wrapper.get_params()
    return params.get("fit__epochs") or params.get("epochs") or 10
