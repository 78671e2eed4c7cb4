"""The evaluation journal behind a search's ``checkpoint``: one JSON line per finished fit.

The first line is a header with the search's fingerprint: hashes of the estimator's
parameters, of ``X`` and ``y``, of the CV split indices and of the scoring, plus the
settings that change what a fit returns (``error_score``, ``return_train_score``, the
cost measures). Every later line is one fit of one candidate on one split::

    {"params": "<hash of the candidate's parameters>", "split": 2, "out": {...}}

where ``out`` is what scikit-learn's ``_fit_and_score`` returned (scores, times, the
error message of a failed fit) plus the failure reason and cost measures. JSON, not
pickle, so that opening a journal never runs code. A search restarted with the same
``checkpoint`` answers every (candidate, split) pair it finds here instead of fitting;
as the strategies are deterministic given ``random_state`` and the scores, the
restarted search replays the same candidates and ends with the same ``cv_results_``.
"""

import json
import os
import warnings

import joblib

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
import numpy as np
from sklearn.base import clone

FORMAT = "skautosearch-journal"
VERSION = 1

# What each fingerprint entry means, for the error that refuses a foreign journal.
_FINGERPRINT_MEANING = {
    "estimator": "the estimator or its parameters",
    "data": "the data (X, y)",
    "cv": "the cross-validation splits",
    "scoring": "the scoring",
    "error_score": "error_score",
    "return_train_score": "return_train_score",
    "costs": "the cost measures recorded",
}


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


def fingerprint(estimator, X, y, splits, *, scoring, error_score, return_train_score,
                costs=()):
    """What a journal's answers depend on, as a dict of short strings."""
    return {
        "estimator": joblib.hash(clone(estimator)),
        "data": joblib.hash((X, y)),
        "cv": joblib.hash([(np.asarray(train), np.asarray(test)) for train, test in splits]),
        "scoring": joblib.hash(scoring),
        "error_score": repr(error_score),
        "return_train_score": bool(return_train_score),
        "costs": sorted(costs),
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
        header = {"format": FORMAT, "version": VERSION, "fingerprint": fingerprint}
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise ValueError(
                f"checkpoint={self.path!r}: the folder {folder!r} does not exist."
            )
        existed = os.path.exists(self.path)
        self._file = open(self.path, "a+b")  # appending never changes what is there
        try:
            _lock(self._file, self.path)
            good_size = self._read(fingerprint) if existed else 0
        except BaseException:
            self._file.close()
            raise
        if good_size < self._file.seek(0, os.SEEK_END):
            self._file.truncate(good_size)  # drop a truncated last record before appending
            self._file.seek(good_size)
        if good_size == 0:
            self._write(header)

    def _read(self, fingerprint):
        """Load the answers; return the size of the file's well-formed part."""
        with open(self.path, "rb") as f:
            lines = f.read().split(b"\n")
        # After the last newline: "" for a complete file, else a truncated record.
        lines, tail = lines[:-1], lines[-1]
        if not lines:
            if tail:
                warnings.warn(
                    f"checkpoint={self.path!r}: its header is truncated; starting a new "
                    "journal.", stacklevel=4,
                )
            return 0
        self._check_header(lines[0], fingerprint)
        size = len(lines[0]) + 1
        for number, line in enumerate(lines[1:], start=2):
            try:
                record = json.loads(line)
                key = (record["params"], int(record["split"]))
                out = _restore(record["out"])
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(lines) and not tail:
                    # The last line of all: a write cut short by a crash.
                    warnings.warn(
                        f"checkpoint={self.path!r}: skipping its truncated last record "
                        f"(line {number}).", stacklevel=4,
                    )
                    return size
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

    def _check_header(self, line, fingerprint):
        try:
            header = json.loads(line)
            ok = header.get("format") == FORMAT
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            raise ValueError(
                f"checkpoint={self.path!r} is not a skautosearch journal; refusing to "
                "overwrite it. Pass the path of a new file or of an earlier journal."
            )
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
        """Record one fit at once (flushed, so it survives the process being killed)."""
        self.answers[(key, split)] = out
        self._write({"params": key, "split": int(split), "out": out})

    def _write(self, record):
        line = json.dumps(record, default=_plain, allow_nan=True) + "\n"
        self._file.write(line.encode())
        self._file.flush()

    def close(self):
        self._file.close()

