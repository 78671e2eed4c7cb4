"""The one scope every Keras fit of ours runs in: global state in, same state out.

Keras, TensorFlow and SciKeras keep process-wide state that a fit can change:
Python's ``random``, NumPy's global generator, TensorFlow's global seed (and the
stream of operation seeds drawn from it), TensorFlow op determinism and the
``TF_DETERMINISTIC_OPS`` variable, Keras's global seed and seed generator
(``keras.utils.set_random_seed``), its dtype policy and ``floatx``.  A seeded
fit seeds all of them and switches op determinism on; a user's model function
may change the dtype policy.  :func:`keras_fit_scope` takes a snapshot on entry
and puts it back on exit, so that no fit of ours changes what the user's own
Keras code does next.

Why SciKeras alone leaked op determinism: TensorFlow reads
``TF_DETERMINISTIC_OPS`` once, the first time anyone asks whether op
determinism is on.  SciKeras's seeding context sets that variable to "1" and
only then asks, so in a fresh process TensorFlow answers "already on", and
SciKeras, believing it found determinism on, never switches it off.  The
snapshot asks first, before anything sets the variable; the restore does not
rely on that answer either way.
"""

import os
import random
from contextlib import contextmanager

import numpy as np

__all__ = ["keras_fit_scope", "prime_op_determinism"]

_DETERMINISM_ENV = "TF_DETERMINISTIC_OPS"
# Keras's global attributes: settings (keras.utils.set_random_seed writes the
# first, keras.config.set_dtype_policy the second) and the stream unseeded
# random ops draw from (a seeded fit replaces it).
_KERAS_SETTINGS = ("global_random_seed", "dtype_policy")
_KERAS_STREAM = "global_seed_generator"


@contextmanager
def keras_fit_scope(seed=None):
    """Run one Keras build or fit, then leave the global state as it was found.

    Parameters
    ----------
    seed : int or None, default=None
        With an int, Python's ``random``, NumPy's global generator, TensorFlow
        and Keras's global seed generator are seeded with it and TensorFlow op
        determinism is on inside the scope (a reproducible fit); on exit every
        one of them, including the position of each random stream, is put back.
        With None nothing is seeded: the fit draws from the global streams as
        the user's own Keras code would, and the settings (the seeds set, op
        determinism, the dtype policy, ``floatx``) are put back.  If op
        determinism is on without a TensorFlow seed (where every unseeded
        random op raises), the scope gives TensorFlow a seed drawn from NumPy's
        global generator for its duration.

    Yields
    ------
    seed : int or None
        ``seed``, as an int.
    """
    saved = _capture()
    try:
        if seed is None:
            _seed_if_deterministic(saved)
        else:
            seed = int(seed)
            _seed_everything(seed)
        yield seed
    finally:
        _restore(saved, streams=seed is not None)


def prime_op_determinism():
    """Make TensorFlow read ``TF_DETERMINISTIC_OPS`` now, before SciKeras sets it.

    After this, SciKeras's own seeding context (used directly by a user,
    outside our estimators) sees the true state and restores it.
    """
    config = _tf_config()
    if config is not None:  # the first question fixes TensorFlow's answer
        config.is_op_determinism_enabled()


# --------------------------------------------------------------------------- snapshot


def _capture():
    import keras
    from keras.src.backend.common import global_state

    saved = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "env": os.environ.get(_DETERMINISM_ENV),
        "floatx": keras.config.floatx(),
        "keras": {
            name: global_state.get_global_attribute(name)
            for name in _KERAS_SETTINGS + (_KERAS_STREAM,)
        },
    }
    config = _tf_config()
    if config is not None:
        saved["determinism"] = bool(config.is_op_determinism_enabled())
        saved["tf_seed"], saved["tf_op_seeds"] = _tf_seed_state()
    return saved


def _restore(saved, *, streams):
    """Put back the settings, and with ``streams`` the random streams too."""
    import keras
    from keras.src.backend.common import global_state

    if streams:
        random.setstate(saved["python"])
        np.random.set_state(saved["numpy"])
    names = _KERAS_SETTINGS + ((_KERAS_STREAM,) if streams else ())
    for name in names:
        global_state.set_global_attribute(name, saved["keras"][name])
    if keras.config.floatx() != saved["floatx"]:
        keras.config.set_floatx(saved["floatx"])
    _restore_env(saved["env"])
    if "determinism" in saved:
        _restore_tensorflow(saved, streams=streams)


def _restore_env(value):
    if value is None:
        os.environ.pop(_DETERMINISM_ENV, None)
    else:
        os.environ[_DETERMINISM_ENV] = value


def _restore_tensorflow(saved, *, streams):
    config = _tf_config()
    if bool(config.is_op_determinism_enabled()) != saved["determinism"]:
        (
            config.enable_op_determinism
            if saved["determinism"]
            else config.disable_op_determinism
        )()
    seed, op_seeds = _tf_seed_state()
    if seed != saved["tf_seed"] or (streams and op_seeds != saved["tf_op_seeds"]):
        _set_tf_seed(saved["tf_seed"], saved["tf_op_seeds"])


# --------------------------------------------------------------------------- seeding


def _seed_everything(seed):
    import keras

    keras.utils.set_random_seed(seed)  # Python, NumPy, TensorFlow, Keras's generator
    config = _tf_config()
    if config is not None:
        config.enable_op_determinism()


def _seed_if_deterministic(saved):
    # With op determinism on and no global seed, every unseeded random op of
    # TensorFlow (Keras's shuffling included) raises; an unseeded fit should run.
    if saved.get("determinism") and saved.get("tf_seed") is None:
        _set_tf_seed(int(np.random.randint(np.iinfo(np.int32).max)), None)


# --------------------------------------------------------------------------- TensorFlow


def _tf_config():
    """TensorFlow's config module, or None when TensorFlow is not installed."""
    try:
        from tensorflow.python.framework import config
    except ImportError:  # pragma: no cover - Keras on another backend
        return None
    return config


def _tf_seed_state():
    """TensorFlow's global seed and the state of the operation seeds drawn from it.

    ``tf.random.set_seed`` restarts the stream of operation seeds TensorFlow
    gives to unseeded random ops; restoring the seed alone would replay it.
    """
    from tensorflow.python.eager import context

    ctx = context.context()
    rng = getattr(ctx, "_rng", None)  # private; absent before a seed is ever set
    return context.global_seed(), (rng.getstate() if rng is not None else None)


def _set_tf_seed(seed, op_seeds):
    import tensorflow as tf
    from tensorflow.python.eager import context

    tf.random.set_seed(seed)
    rng = getattr(context.context(), "_rng", None)
    if op_seeds is not None and rng is not None:
        rng.setstate(op_seeds)
