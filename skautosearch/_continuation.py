"""Train a fold model to a larger budget, resuming from the one trained to a smaller.

How the search engine uses it (one worker task = one candidate, one split, one budget)::

    store = ModelStore(parent_folder)        # once per search, in the main process
    resource_param(estimator, resource)      # in fit, before anything is fitted
    # worker task (the store pickles to loky workers: only its folder travels):
    previous = store.load((candidate_key, split))   # None at the candidate's first rung
    fitted = fit_to_budget(clone(candidate), X[train], y[train], resource=resource,
                           budget=budget, previous=previous, fit_params=fold_fit_params)
    store.save((candidate_key, split), fitted.estimator)  # only if it may be promoted
    # score fitted.estimator on X[test]; fitted.trained is the resource units trained
    store.discard(candidate_key)             # main process, once a candidate is eliminated
    store.close()                            # main process, when the search ends

Pass the candidate's *unfitted* estimator with its parameters set (the resource
parameter is overwritten with ``budget``), the same training rows at every budget
(the same split), and ``fit_params`` already indexed to those rows.  When
:func:`continuation_kind` says ``"refit"``, saving fold models is useless: skip it.

Keras fold models continue from their weights *and* optimizer state (its iteration
counter goes on), and a model loaded from the store is moved into an already traced
model of the same architecture when this process has one, so a promoted candidate
pays no tracing again.  scikit-learn estimators with ``warm_start`` grow in place.

Worker churn in architecture searches (measured for issue 12 with throw-away
scripts: one process, digits 8x8x1 two-block CNNs of random widths, 1 epoch each,
RSS after ``gc.collect()``): a process grows by about 14.5 MB per new architecture.
About 6 MB of it is the traced model that ``skautosearch.keras``'s pool keeps idle
(at most 16, so at most about 100 MB).  The other 8.5 MB stays even with the pool
emptied, with ``keras.backend.clear_session()`` after every fit, and with
``malloc_trim(0)``, and also with plain ``keras.Sequential`` models (no SciKeras):
after the model is collected, TensorFlow keeps its traced ``one_step_on_data``
graphs (about 11,000 Python objects, 1,800 graph operations) and their functions
in the eager context.  loky ends a worker whose RSS grows 300 MB past its size
after its first task (``joblib.externals.loky.process_executor.
_MAX_MEMORY_LEAK_SIZE``, a module constant that joblib offers no setting for), so a
worker lasts about 20 new architectures (about 35 without the pool), then a new
one pays ``import tensorflow`` and tracing again.  Bounding it cheaply is not
possible from here: clear_session frees nothing of it, a smaller pool only
stretches 20 to 35, and only assigning loky's constant inside workers would stop
the recycling.  What helps is fewer new architectures per worker: the folds of
one candidate on the same worker, and continuation (a promoted candidate traces
nothing new where its architecture is already traced).
"""

import numbers
import os
import shutil
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from ._sklearn_private import _check_method_params, _num_samples, _safe_indexing

__all__ = [
    "BudgetFit",
    "ModelStore",
    "continuation_kind",
    "fit_to_budget",
    "nested_subsample",
    "resource_param",
]

N_SAMPLES = "n_samples"

# Parameters that warm_start grows in place, and how fit reads them: as the new
# total (trees, boosting iterations) or as the number of further iterations.
_WARM_TOTAL = "total"
_WARM_EXTRA = "extra"

# Integer parameters that are no amount of training.
_NO_BUDGETS = ("random_state", "seed", "verbose", "n_jobs")


def resource_param(estimator, resource):
    """Check that ``resource`` names something a budget can be given in.

    Parameters
    ----------
    estimator : estimator object
        The (adapted) estimator of the search.
    resource : str
        ``"n_samples"`` or the name of an integer parameter of ``estimator``
        in ``get_params(deep=True)``: ``"epochs"``, ``"model__epochs"``,
        ``"fit_kwargs__epochs"``, ``"n_estimators"``, ``"max_iter"`` ...

    Returns
    -------
    resource : str
        ``resource``, checked.

    Raises
    ------
    ValueError
        If ``resource`` is neither, listing the valid names.
    """
    if resource == N_SAMPLES:
        return resource
    valid = _integer_params(estimator)
    if not isinstance(resource, str) or resource not in valid:
        raise ValueError(
            f"resource={resource!r} is neither {N_SAMPLES!r} nor an integer "
            f"parameter of {type(estimator).__name__}. Valid names: "
            f"{', '.join(repr(name) for name in [N_SAMPLES, *valid])}."
        )
    return resource


def _integer_params(estimator):
    return sorted(
        name
        for name, value in estimator.get_params(deep=True).items()
        if isinstance(value, numbers.Integral)
        and not isinstance(value, bool)
        and name.rpartition("__")[2] not in _NO_BUDGETS
    )


def continuation_kind(estimator, resource):
    """How :func:`fit_to_budget` takes a fold model to a larger budget.

    Parameters
    ----------
    estimator : estimator object
        The (adapted) estimator of the search.
    resource : str
        A name :func:`resource_param` accepts.

    Returns
    -------
    kind : {"epochs", "warm_start", "refit"}
        ``"epochs"``: a Keras model trains the extra epochs only;
        ``"warm_start"``: a scikit-learn estimator grows in place;
        ``"refit"``: the model is fitted again from scratch (``n_samples``,
        and every other estimator and parameter).
    """
    if resource == N_SAMPLES:
        return "refit"
    owner, name = _owner(estimator, resource)
    if _keras_epochs(owner, name):
        return "epochs"
    if _warm_start_mode(owner, name) is not None:
        return "warm_start"
    return "refit"


def _owner(estimator, resource):
    """The estimator whose parameter ``resource`` is, down a Pipeline's last steps.

    Only a Pipeline's last step can continue on the training rows transformed by
    the steps before it, which are fitted once and kept.
    """
    while isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        prefix = f"{name}__"
        if not resource.startswith(prefix) or last in (None, "passthrough"):
            break
        estimator, resource = last, resource[len(prefix) :]
    return estimator, resource


def _keras_epochs(owner, name):
    """Whether ``name`` is the epochs parameter of a Keras wrapper."""
    scikeras = sys.modules.get("scikeras.wrappers")
    if scikeras is not None and isinstance(owner, scikeras.BaseWrapper):
        return name in ("epochs", "fit__epochs") and not _user_model(owner)
    # Looked up, not imported: an estimator of a module not loaded yet cannot
    # be an instance, and importing keras would start TensorFlow for nothing.
    wrappers = sys.modules.get("keras.src.wrappers.sklearn_wrapper")
    return (
        wrappers is not None
        and isinstance(owner, wrappers.SKLBase)
        and name == "fit_kwargs__epochs"
    )


def _user_model(wrapper):
    # A keras.Model object given as ``model`` is the user's: only refits rebuild it.
    import keras

    return isinstance(wrapper.model, keras.Model)


def _warm_start_mode(owner, name):
    """``_WARM_TOTAL``/``_WARM_EXTRA`` when warm_start grows ``name``, else None."""
    if "warm_start" not in owner.get_params(deep=False):
        return None
    if name == "n_estimators":  # forests, gradient boosting, bagging
        return _WARM_TOTAL
    if name != "max_iter":
        return None
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.linear_model import (
        Perceptron,
        SGDClassifier,
        SGDOneClassSVM,
        SGDRegressor,
    )
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if isinstance(owner, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)):
        return _WARM_TOTAL
    # MLP* and SGD* fit max_iter more epochs from the kept weights, but restart
    # their optimizer (Adam moments, the learning-rate schedule's t_).
    iterative = (MLPClassifier, MLPRegressor, SGDClassifier, SGDRegressor, SGDOneClassSVM)
    if isinstance(owner, (*iterative, Perceptron)):
        return _WARM_EXTRA
    return None  # e.g. LogisticRegression: a solver's iterations are no budget


@dataclass(frozen=True)
class BudgetFit:
    """A fold model fitted to a budget, and what that cost.

    Attributes
    ----------
    estimator : estimator object
        The fitted model; its resource parameter equals ``budget``.
    budget : int
        The budget reached (rows used, for ``n_samples``).
    trained : int
        Resource units trained by this call: ``budget`` from scratch,
        ``budget - previous budget`` when continued.
    continued : bool
        Whether the model resumed from ``previous``.
    """

    estimator: object
    budget: int
    trained: int
    continued: bool


def fit_to_budget(
    estimator,
    X_train,
    y_train,
    *,
    resource,
    budget,
    previous=None,
    fit_params=None,
    random_state=0,
):
    """Fit a fold model at ``budget``, continuing ``previous`` when possible.

    Parameters
    ----------
    estimator : estimator object
        The candidate's unfitted estimator; it is cloned, never changed.
    X_train, y_train : array-like
        The fold's training rows, the same at every budget.
    resource : str
        A name accepted by :func:`resource_param`.
    budget : int
        The budget to reach, >= 1.
    previous : estimator object or None, default=None
        The same candidate's model of the same fold fitted at a smaller
        budget (e.g. from :meth:`ModelStore.load`).  It is **consumed**:
        continued in place and returned, so that a Keras model keeps its
        traced functions; if this function raises, ``previous`` is in no
        known state: discard it.  Ignored for ``"n_samples"``.
    fit_params : dict or None, default=None
        Parameters of ``fit``, indexed to the training rows.
    random_state : int, default=0
        Seed of the row order for ``"n_samples"``.

    Returns
    -------
    fitted : BudgetFit
        The model at ``budget`` and the units trained.

    Notes
    -----
    A continued model equals one fitted from scratch exactly for forests,
    ``GradientBoosting*`` and ``HistGradientBoosting*`` with an integer
    ``random_state``.  A Keras model differs by its batch shuffles only: a
    seeded wrapper reseeds each fit, so the epochs after a rung shuffle as the
    first epochs did.  ``MLP*`` and ``SGD*`` restart their optimizer's state
    at each rung (scikit-learn's warm start), and their ``n_iter_`` counts the
    last rung's iterations only.
    """
    budget = _check_budget(budget)
    fit_params = dict(fit_params or {})
    if resource == N_SAMPLES:
        return _fit_subsample(estimator, X_train, y_train, budget, fit_params, random_state)
    kind = continuation_kind(estimator, resource)
    if previous is None or kind == "refit":
        model = clone(estimator).set_params(**{resource: budget})
        model.fit(X_train, y_train, **fit_params)
        return BudgetFit(model, budget, budget, continued=False)
    start = _previous_budget(estimator, previous, resource, budget)
    if start < budget:
        _continue(previous, X_train, y_train, resource, start, budget, fit_params)
    return BudgetFit(previous, budget, budget - start, continued=True)


def _check_budget(budget):
    if not isinstance(budget, numbers.Integral) or isinstance(budget, bool) or budget < 1:
        raise ValueError(f"budget must be an integer >= 1, got {budget!r}.")
    return int(budget)


def _previous_budget(estimator, previous, resource, budget):
    if type(previous) is not type(estimator):
        raise ValueError(
            f"previous is a {type(previous).__name__}, not a "
            f"{type(estimator).__name__} like the estimator it should continue."
        )
    start = previous.get_params(deep=True)[resource]
    if start > budget:
        raise ValueError(
            f"previous was fitted with {resource}={start}, more than budget={budget}."
        )
    return start


def _continue(model, X, y, resource, start, budget, fit_params):
    """Train the fitted ``model`` on from ``start`` to ``budget``, in place."""
    if isinstance(model, Pipeline) and _owner(model, resource)[0] is not model:
        name, last = model.steps[-1]
        Xt = model[:-1].transform(X)
        prefix = f"{name}__"
        step_params = {
            k[len(prefix) :]: v for k, v in fit_params.items() if k.startswith(prefix)
        }
        _continue(last, Xt, y, resource[len(prefix) :], start, budget, step_params)
    elif _keras_epochs(model, resource):
        _continue_keras(model, X, y, start, budget, fit_params)
    else:
        _continue_warm_start(model, X, y, resource, start, budget, fit_params)
    model.set_params(**{resource: budget})


def _continue_keras(model, X, y, start, budget, fit_params):
    from scikeras.wrappers import BaseWrapper

    # Keras trains epochs [initial_epoch, epochs): epoch numbers, callbacks and
    # learning-rate schedules go on where the previous budget stopped.
    if isinstance(model, BaseWrapper):
        _continue_scikeras(model, X, y, start, budget, fit_params)
    else:
        _continue_keras_wrapper(model, X, y, start, budget, fit_params)


def _continue_scikeras(model, X, y, start, budget, fit_params):
    # SciKeras's fit keeps model_ (weights, optimizer, traced functions) when
    # warm_start is set, and trains ``epochs`` more from ``initial_epoch``.
    classes = getattr(model, "classes_", None)
    warm_start = model.warm_start
    model.set_params(warm_start=True)
    try:
        model.fit(X, y, **fit_params, epochs=budget - start, initial_epoch=start)
    finally:
        model.set_params(warm_start=warm_start)
    if classes is not None:
        # KerasClassifier.fit clears classes_, and only a fresh fit sets it again.
        model.classes_ = classes


def _continue_keras_wrapper(model, X, y, start, budget, fit_params):
    # keras.wrappers' fit always builds a new model: call the kept one's fit.
    from sklearn.utils.validation import validate_data

    from ._keras_state import keras_fit_scope

    X = validate_data(model, X, reset=False)
    y = model._process_target(y, reset=False)
    kwargs = {**(model.fit_kwargs or {}), **fit_params, "epochs": budget, "initial_epoch": start}
    with keras_fit_scope():  # as every Keras fit of ours: no global state left changed
        model.history_ = model.model_.fit(X, y, **kwargs)


def _continue_warm_start(model, X, y, resource, start, budget, fit_params):
    mode = _warm_start_mode(model, resource)
    warm_start = model.warm_start
    grow = budget if mode == _WARM_TOTAL else budget - start
    model.set_params(warm_start=True, **{resource: grow})
    try:
        model.fit(X, y, **fit_params)
    finally:
        model.set_params(warm_start=warm_start)


def nested_subsample(n_rows, n, *, y=None, random_state=0):
    """Indices of ``n`` rows, such that a larger ``n`` keeps a smaller one's rows.

    The rows are ranked once for a given ``y`` and seed, and the first ``n``
    taken, so the subsamples of successive budgets are nested.  With
    ``stratify``, the ranks interleave the classes so that every prefix keeps
    the class proportions of ``y`` (to within one row per class).

    Parameters
    ----------
    y : array-like of shape (n_rows,)
        Targets of the training rows.
    n : int
        Rows wanted; at most all of them are returned.
    stratify : bool, default=True
        Keep class proportions (classification).
    random_state : int, RandomState or None, default=0
        Seed of the ranking.

    Returns
    -------
    indices : ndarray of int
        Sorted row indices, ``min(n, n_rows)`` of them.
    """
    rng = check_random_state(random_state)
    if y is None:
        return np.sort(rng.permutation(n_rows)[:n])
    y = np.asarray(y)
    _, codes = np.unique(y.reshape(n_rows, -1), axis=0, return_inverse=True)
    codes = codes.ravel()
    # Row k of a class of size m sits at (k + jitter) / m: spread evenly over
    # [0, 1), so any prefix of the sorted positions draws every class in turn.
    position = np.empty(n_rows)
    for code in np.unique(codes):
        rows = rng.permutation(np.flatnonzero(codes == code))
        position[rows] = (np.arange(len(rows)) + rng.uniform(size=len(rows))) / len(rows)
    return np.sort(np.argsort(position, kind="stable")[:n])


def _fit_subsample(estimator, X, y, budget, fit_params, random_state):
    rows = nested_subsample(
        _num_samples(X),
        budget,
        y=y if is_classifier(estimator) else None,
        random_state=random_state,
    )
    params = _check_method_params(X, fit_params, rows)
    model = clone(estimator)
    model.fit(_safe_indexing(X, rows), _safe_indexing(y, rows), **params)
    return BudgetFit(model, len(rows), len(rows), continued=False)


class ModelStore:
    """Fold models between budgets, one per (candidate, split), kept where they are needed.

    A model saved and later continued in the same process is handed over as the
    live object: no pickling, and a Keras model keeps its traced functions.  In
    the process that created the store (``n_jobs=1``, the threading backend)
    models stay in memory only, until the store is pickled for another process
    (a loky or Dask worker), which writes them to its folder first.  Models saved
    by a worker are written to the folder, one file per (candidate, split), and
    also kept live in that worker while the file is theirs.
    A live Keras model keeps its traced model busy: when a new fit of the same
    architecture finds no idle one in the process's pool (the candidate's next
    fold, typically), the live model is written to the folder and lends its
    traced model, so holding models live never costs a trace.

    Files are written to a temporary name and renamed, so a process never reads
    a half-written model that another one is writing.  A saved model replaces the
    candidate's model of that split, so disk and memory hold at most one model
    per live (candidate, split).  Only the process that created the store should
    :meth:`discard` and :meth:`close`, when no task of that candidate (or of the
    search) is running; a worker forgets its live models once their files are
    gone.

    Keras estimators are pickled with their model (the ``.keras`` format inside,
    weights and optimizer state included); everything is written with joblib.

    Parameters
    ----------
    parent : str, path or None, default=None
        Where to create the store's own folder (e.g. next to a search's
        checkpoint); None uses the system's temporary directory.
    in_memory : bool, default=True
        Hand models over live within a process as described above.  False
        writes every model to disk and reads it back (each load is a copy).

    Attributes
    ----------
    folder : pathlib.Path
        The folder created for this store; :meth:`close` deletes it.
    """

    def __init__(self, parent=None, *, in_memory=True):
        self.folder = Path(tempfile.mkdtemp(prefix="skautosearch-models-", dir=parent))
        self.in_memory = in_memory
        self._owner = os.getpid()

    def __getstate__(self):
        # Another process will read this store: write what only memory holds.
        self._write_unwritten()
        return {"folder": self.folder, "in_memory": self.in_memory, "_owner": self._owner}

    def _candidate_folder(self, candidate):
        return self.folder / joblib.hash(candidate)

    def _path(self, key):
        candidate, split = key
        return self._candidate_folder(candidate) / f"{joblib.hash(split)}.joblib"

    def save(self, key, estimator):
        """Keep ``estimator`` as the model of ``key = (candidate, split)``."""
        path = self._path(key)
        if not self.in_memory:
            _write(path, estimator)
            return
        _LIVE.forget_missing()
        if os.getpid() == self._owner:
            path.unlink(missing_ok=True)  # an older rung's file, if one was written
            _LIVE.hold(path, None, estimator)  # written only if a worker needs it
        else:
            _LIVE.hold(path, _write(path, estimator), estimator)
        if any(True for _ in _leased_keras_wrappers(estimator)):
            _offer_models_to_the_pool()

    def _write_unwritten(self):
        for path, estimator in _LIVE.unwritten(self.folder):
            _LIVE.hold(path, _write(path, estimator), estimator)

    def load(self, key):
        """The model saved for ``key = (candidate, split)``, or None.

        The live object if this process holds the saved version, else a copy read
        from disk; a Keras model read from disk is moved into an idle traced model
        of the same architecture when this process holds one, so that training it
        on does not trace its functions again.  The model is the caller's: save
        it again to keep it.
        """
        path = self._path(key)
        held = _LIVE.take(path)
        if held is not None:
            identity, estimator = held
            if identity is None or identity == _identity(path):
                return estimator
        try:
            estimator = joblib.load(path)
        except FileNotFoundError:
            return None
        _adopt_traced_models(estimator)
        return estimator

    def discard(self, candidate):
        """Delete every split's model of ``candidate``."""
        folder = self._candidate_folder(candidate)
        shutil.rmtree(folder, ignore_errors=True)
        _LIVE.forget_under(folder)

    def close(self):
        """Delete the folder and every model in it."""
        shutil.rmtree(self.folder, ignore_errors=True)
        _LIVE.forget_under(self.folder)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _write(path, estimator):
    """Write ``estimator`` to ``path`` atomically; return the file's identity."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    try:
        joblib.dump(estimator, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _identity(path)


def _identity(path):
    """Which version of a file ``path`` is (a replaced file has a new inode)."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


class _LiveModels:
    """This process's live fold models: path -> (file identity or None, estimator).

    The identity is that of the file the model was written to, None when it was
    never written (the store's own process).  A live model is used only while its
    file is still that version: another process may have continued the candidate.
    """

    def __init__(self):
        self._held = {}
        self._lock = threading.Lock()

    def hold(self, path, identity, estimator):
        with self._lock:
            self._held[path] = (identity, estimator)

    def take(self, path):
        with self._lock:
            return self._held.pop(path, None)

    def items(self):
        with self._lock:
            return list(self._held.items())

    def unwritten(self, folder):
        with self._lock:
            return [(path, estimator) for path, (identity, estimator) in self._held.items()
                    if identity is None and folder in path.parents]

    def forget_under(self, folder):
        with self._lock:
            for path in [p for p in self._held if folder in p.parents]:
                del self._held[path]

    def forget_missing(self):
        """Drop the written models whose file is gone.

        A worker cannot be told that a candidate was eliminated or that a search
        ended: their files are deleted.  (Models never written belong to a store
        of this process, which forgets them itself.)
        """
        with self._lock:
            for path, (identity, _) in list(self._held.items()):
                if identity is not None and not path.exists():
                    del self._held[path]


_LIVE = _LiveModels()


def _leased_keras_wrappers(estimator):
    """Our Keras wrappers inside ``estimator`` that hold a model of the process's pool."""
    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps:
            yield from _leased_keras_wrappers(step)
        return
    fast = sys.modules.get("skautosearch.keras._fast")
    if fast is not None and fast.lease_signature(estimator) is not None:
        yield estimator


def _offer_models_to_the_pool():
    from .keras._fast import _DONORS

    if _donate_live_model not in _DONORS:
        _DONORS.append(_donate_live_model)


def _donate_live_model(signature):
    """A traced model of ``signature`` taken from a live fold model, or None.

    Asked by the model pool when a new fit finds no idle model of its
    architecture: a live fold model (another fold of the same candidate, or a
    candidate of the same architecture) is written to disk and gives up its
    traced model, instead of a new model being traced.  It is read back from
    disk if it is promoted.
    """
    from .keras._fast import lease_signature, release_lease

    for path, (identity, estimator) in _LIVE.items():
        wrappers = [w for w in _leased_keras_wrappers(estimator)
                    if lease_signature(w) == signature]
        if not wrappers:
            continue
        held = _LIVE.take(path)  # taken first: no other thread continues it meanwhile
        if held is None or held[1] is not estimator:  # continued meanwhile
            if held is not None:
                _LIVE.hold(path, *held)
            continue
        if identity is None:  # only memory has it (else: on disk, or stale)
            _write(path, estimator)
        model = release_lease(wrappers[0])
        if model is not None:
            return model
    return None


def _adopt_traced_models(estimator):
    """Give our Keras wrappers inside ``estimator`` a traced model, if one is idle."""
    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps:
            _adopt_traced_models(step)
        return
    wrappers = sys.modules.get("skautosearch.keras._wrappers")
    if (
        wrappers is None
        or not isinstance(estimator, wrappers._FastFitMixin)
        or not hasattr(estimator, "model_")
        or _user_model(estimator)
    ):
        return
    from .keras._fast import lease_model

    key = (estimator._builder_key(), estimator._data_key())
    estimator.model_ = lease_model(estimator.model_, key, estimator)
