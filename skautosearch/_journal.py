"""The evaluation journal behind a search's ``checkpoint``: one JSON line per finished fit.

The first line is a header with the search's fingerprint: everything a fit's result
depends on (see :func:`fingerprint`). Every later line is one fit of one candidate on
one split::

    {"params": "<hash of the candidate's parameters>", "split": 2, "out": {...}}

where ``out`` is what scikit-learn's ``_fit_and_score`` returned (scores, times, the
error message of a failed fit) plus the failure reason and cost measures. JSON, not
pickle, so that opening a journal never runs code. A search restarted with the same
``checkpoint`` answers every (candidate, split) pair it finds here instead of fitting;
as the strategies are deterministic given ``random_state`` and the scores, the
restarted search replays the same candidates and ends with the same ``cv_results_``.

A file is only ever modified when its first line proves it is a journal: a missing
path gets a new journal, created whole (header written to a temporary file, then
linked into place); any other existing file is refused and left as it was.
"""

import importlib.metadata
import json
import os
import tempfile
import types
import warnings
from functools import partial

import joblib

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
import numpy as np
from sklearn.base import clone

FORMAT = "skautosearch-journal"
VERSION = 2

# What each fingerprint entry means, for the error that refuses a foreign journal.
_FINGERPRINT_MEANING = {
    "estimator": "the estimator or its parameters",
    "code": "the code of the functions or classes the estimator uses",
    "data": "the data (X, y)",
    "cv": "the cross-validation splits",
    "fit_params": "the parameters passed to fit (sample_weight, Keras fit arguments, ...)",
    "score_params": "the parameters routed to the scorers",
    "scoring": "the scoring",
    "error_score": "error_score",
    "return_train_score": "return_train_score",
    "costs": "the cost measures recorded",
    "versions": "the versions of the libraries that fit the models",
}
# Libraries whose version decides what a fit returns; their code is not hashed.
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "keras", "tensorflow", "tensorflow-cpu",
              "scikeras", "skautosearch")
_LIBRARY_MODULES = {"builtins", "sklearn", "numpy", "scipy", "keras", "tensorflow",
                    "scikeras", "skautosearch", "skopt", "joblib", "pandas", "functools"}


# What a replayed record must hold: the keys scikit-learn's _fit_and_score returns.
_OUT_KEYS = ("fit_error", "test_scores", "n_test_samples", "fit_time", "score_time")


def _lock(file, path):
    """One search at a time per journal (an advisory lock, released when the process ends)."""
    if fcntl is None:  # Windows
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ValueError(
            f"checkpoint={path!r} is in use by another running search; two searches "
            "cannot share a journal at the same time."
        ) from None


def _versions():
    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _code_bytes(code):
    """What a code object does: its bytecode, constants and names (not line numbers)."""
    consts = [_code_bytes(c) if isinstance(c, types.CodeType) else repr(c)
              for c in code.co_consts]
    return (code.co_code, consts, code.co_names)


def _user_code(obj, found, seen, depth=0):
    """Collect the code of the user's functions and classes reachable from ``obj``."""
    if depth > 8 or id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, dict):
        for value in obj.values():
            _user_code(value, found, seen, depth + 1)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for value in obj:
            _user_code(value, found, seen, depth + 1)
    elif isinstance(obj, partial):
        for value in (obj.func, obj.args, obj.keywords):
            _user_code(value, found, seen, depth + 1)
    elif isinstance(obj, (types.FunctionType, types.MethodType)):
        function = getattr(obj, "__func__", obj)
        if _is_library(function):
            return
        found.append((function.__qualname__, _code_bytes(function.__code__)))
        for value in (function.__defaults__ or (), function.__kwdefaults__ or {}):
            _user_code(value, found, seen, depth + 1)
        for cell in function.__closure__ or ():
            try:
                _user_code(cell.cell_contents, found, seen, depth + 1)
            except ValueError:  # an empty cell
                pass
    elif not isinstance(obj, (str, bytes, int, float, np.ndarray, np.generic)):
        _class_code(obj if isinstance(obj, type) else type(obj), found, seen, depth)
        if hasattr(obj, "get_params") and not isinstance(obj, type):
            _user_code(obj.get_params(deep=False), found, seen, depth + 1)


def _class_code(cls, found, seen, depth):
    for klass in cls.__mro__:
        if _is_library(klass) or id(klass) in seen:
            continue
        seen.add(id(klass))
        for value in vars(klass).values():
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, types.FunctionType):
                _user_code(value, found, seen, depth + 1)


def _is_library(obj):
    module = getattr(obj, "__module__", None) or "builtins"
    return module.split(".")[0] in _LIBRARY_MODULES


def code_hash(*objects):
    """A hash of the code of the user's functions and classes in ``objects``.

    ``joblib.hash`` pickles a function by name, so an edited ``build_fn`` or custom
    estimator would hash as before; this hashes what the code does. Library code is
    covered by the library versions instead.
    """
    found = []
    _user_code(list(objects), found, set())
    return joblib.hash(found)


def fingerprint(search, inputs):
    """What a journal's answers depend on, as a dict of short strings.

    Parameters
    ----------
    search : BaseSequentialSearchCV
        For ``scoring``, ``error_score`` and ``return_train_score``.
    inputs : FitInputs
        The estimator, data, folds, routed parameters and cost measures of the fit.
    """
    return {
        "estimator": joblib.hash(clone(inputs.estimator)),
        "code": code_hash(inputs.estimator, search.scoring, inputs.fit_params),
        "data": joblib.hash((inputs.X, inputs.y)),
        "cv": joblib.hash([(np.asarray(train), np.asarray(test))
                           for train, test in inputs.splits]),
        "fit_params": joblib.hash(inputs.fit_params),
        "score_params": joblib.hash(inputs.score_params),
        "scoring": joblib.hash(search.scoring),
        "error_score": repr(search.error_score),
        "return_train_score": bool(search.return_train_score),
        "costs": sorted(inputs.costs),
        "versions": _versions(),
    }


def params_key(params):
    """A stable hash of one candidate's parameters (``joblib.hash`` sorts dict keys)."""
    return joblib.hash(params)


def _plain(value):
    """NumPy scalars and arrays as JSON values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _restore(out):
    """JSON's float values back as scikit-learn returned them (``nan`` stays ``nan``)."""
    for key in ("test_scores", "train_scores"):
        value = out.get(key)
        if isinstance(value, dict):
            out[key] = {k: float(v) for k, v in value.items()}
        elif value is not None:
            out[key] = float(value)
    return out


class Journal:
    """An open journal: the answers it holds and an append-only file for new ones.

    Parameters
    ----------
    path : str or os.PathLike
        The journal file; created with its header if missing or empty.
    fingerprint : dict
        This search's fingerprint; an existing journal must have the same one.

    Raises
    ------
    ValueError
        If the file is not a skautosearch journal, belongs to another search or other
        data, or has a corrupt record before its last one.
    """

    def __init__(self, path, fingerprint):
        self.path = os.fspath(path)
        self.answers = {}
        self._check_path()
        header = {"format": FORMAT, "version": VERSION, "fingerprint": fingerprint}
        if not os.path.lexists(self.path):
            self._create(header)
        try:
            self._file = open(self.path, "r+b")
        except OSError as exc:
            raise ValueError(
                f"checkpoint={self.path!r} cannot be read and appended to: {exc}."
            ) from None
        try:
            _lock(self._file, self.path)
            good_size = self._read(fingerprint)
        except BaseException:
            self._file.close()
            raise
        end = self._file.seek(0, os.SEEK_END)
        if good_size < end:
            self._file.truncate(good_size)  # drop a torn last record before appending
        self._file.seek(good_size)

    def _check_path(self):
        if not self.path:
            raise ValueError("checkpoint='' is an empty path; pass the path of a file.")
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise ValueError(
                f"checkpoint={self.path!r}: the folder {folder!r} does not exist."
            )
        if os.path.isdir(self.path):
            raise ValueError(
                f"checkpoint={self.path!r} is a folder; pass the path of a file."
            )

    def _create(self, header):
        """Create the journal whole: its header in a temporary file, linked into place."""
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            fd, tmp = tempfile.mkstemp(prefix=".skautosearch-", dir=folder)
        except OSError as exc:
            raise ValueError(f"checkpoint={self.path!r} cannot be created: {exc}.") from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_line(header))
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, self.path)  # fails, changing nothing, if the path appeared
        except FileExistsError:
            pass  # another process created it meanwhile: read it as an existing file
        except OSError as exc:
            raise ValueError(f"checkpoint={self.path!r} cannot be created: {exc}.") from None
        finally:
            os.unlink(tmp)

    def _read(self, fingerprint):
        """Load the answers; return the size of the file's well-formed part.

        Raises before anything is written unless the first line is our header.
        """
        self._file.seek(0)
        lines = self._file.read().split(b"\n")
        # After the last newline: "" for a complete file, else a torn record.
        lines, tail = lines[:-1], lines[-1]
        if not lines:  # empty, or one line without a newline: not one of our journals
            self._refuse()
        self._check_header(lines[0], fingerprint)
        size = len(lines[0]) + 1
        for number, line in enumerate(lines[1:], start=2):
            try:
                record = json.loads(line)
                key = (record["params"], int(record["split"]))
                out = _restore(record["out"])
                missing = [k for k in _OUT_KEYS if k not in out]
                if missing:
                    raise KeyError(f"no {', '.join(missing)}")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                # Complete lines (they end in a newline) were written whole: one that
                # does not parse was edited, and is refused. A crash only cuts the tail.
                raise ValueError(
                    f"checkpoint={self.path!r}: record on line {number} is corrupt "
                    f"({exc}); refusing to use the journal. Move it away to start over."
                ) from None
            self.answers[key] = out
            size += len(line) + 1
        if tail:
            warnings.warn(
                f"checkpoint={self.path!r}: skipping its truncated last record "
                f"(line {len(lines) + 1}).", stacklevel=4,
            )
        return size

    def _refuse(self):
        raise ValueError(
            f"checkpoint={self.path!r} is not a skautosearch journal; refusing to "
            "touch it. Pass the path of a new file or of an earlier journal."
        )

    def _check_header(self, line, fingerprint):
        try:
            header = json.loads(line)
            ok = isinstance(header, dict) and header.get("format") == FORMAT
        except ValueError:
            ok = False
        if not ok:
            self._refuse()
        if header.get("version") != VERSION:
            raise ValueError(
                f"checkpoint={self.path!r} is a version {header.get('version')} journal; "
                f"this skautosearch reads version {VERSION}."
            )
        theirs = header.get("fingerprint", {})
        differ = [key for key in fingerprint if theirs.get(key) != fingerprint[key]]
        if differ:
            what = ", ".join(_FINGERPRINT_MEANING[key] for key in differ)
            raise ValueError(
                f"checkpoint={self.path!r} belongs to another search: {what} differ from "
                "this fit's. Its results cannot answer this search; pass another path, "
                "or delete the file to start over."
            )

    def answer(self, key, split):
        """The recorded result of candidate ``key`` on ``split``, or None."""
        out = self.answers.get((key, split))
        return None if out is None else dict(out)

    def append(self, key, split, out):
        """Record one fit at once (flushed, so it survives the process being killed).

        A write that fails (a full disk) stops the journaling with a warning; the
        search goes on with its results in memory.
        """
        self.answers[(key, split)] = out
        if self._file is None:
            return
        try:
            self._file.write(_line({"params": key, "split": int(split), "out": out}))
            self._file.flush()
        except OSError as exc:
            warnings.warn(
                f"checkpoint={self.path!r}: cannot write to the journal ({exc}); the "
                "search goes on without journaling its further fits.", stacklevel=2,
            )
            self.close()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def _line(record):
    return (json.dumps(record, default=_plain, allow_nan=True) + "\n").encode()
