"""Bad input, tried like an attacker would.

Every row of the tables below is one bad input to the public API. Its test asserts
four things: the error's type; that its message names the parameter and what was
wrong (a regular expression); that it is raised before any model is fitted (a spy
estimator counts its fits, across clones); and that no file of the user's changed
(the user's folder, the working directory of the test, is compared byte for byte,
and so are the ``X`` and ``y`` arrays). The table is reproduced in
``docs/user_guide/reliability.rst`` ("Bad input").

Rows marked ``xfail(strict=True)`` are bad inputs the package does not yet refuse
well: the reason says which module must change and how.
"""

import builtins
import csv
import errno
import io
import json
import os
import re

import numpy as np
import pytest
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, KFold

from skautosearch import (
    AnnealingSearchCV,
    BayesianSearchCV,
    GeneticSearchCV,
    Real,
)
from skautosearch.cli import main

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
y_reg = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=60)

SEARCHES = {
    "genetic": (GeneticSearchCV, dict(population_size=2, elitism=1)),
    "annealing": (AnnealingSearchCV, dict(n_chains=1, n_initial_points=2)),
    "bayes": (BayesianSearchCV, dict(n_points=1, n_initial_points=2)),
}


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """LogisticRegression that counts its fits in a class attribute (clones share it)."""

    fits = 0

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        self.model_ = LogisticRegression(C=self.C).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


class SpyRegressor(RegressorMixin, BaseEstimator):
    """Ridge that counts its fits in a class attribute (clones share it)."""

    fits = 0

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        self.model_ = Ridge(alpha=self.alpha).fit(X, y, sample_weight=sample_weight)
        return self

    def predict(self, X):
        return self.model_.predict(X)


SPACE = {"C": Real(0.1, 10.0, prior="log-uniform")}


def search(name="genetic", estimator=None, space=None, **kwargs):
    cls, defaults = SEARCHES[name]
    params = {"estimator": SpyClassifier() if estimator is None else estimator,
              "param_distributions": SPACE if space is None else space,
              "n_iter": 2, "cv": 2, "random_state": 0, **defaults, **kwargs}
    return cls(**params)


# Some rows replace ``open``; the snapshots read with the real one.
_real_open = builtins.open


def _snapshot(folder):
    """Every file and folder under ``folder``: path -> bytes (None for a folder)."""
    seen = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            seen[os.path.relpath(os.path.join(root, name), folder)] = None
        for name in files:
            path = os.path.join(root, name)
            with _real_open(path, "rb") as f:
                seen[os.path.relpath(path, folder)] = f.read()
    return seen


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """The user's folder, as the working directory; the spies' counters at zero."""
    folder = tmp_path / "user"
    folder.mkdir()
    monkeypatch.chdir(folder)
    SpyClassifier.fits = SpyRegressor.fits = 0
    return folder


def assert_refused(call, error, match, folder, arrays=()):
    """``call()`` raises ``error`` matching ``match``, before any fit, changing nothing."""
    before = _snapshot(folder)
    copies = [np.array(a, copy=True) for a in arrays]
    with pytest.raises(error, match=match):
        call()
    assert SpyClassifier.fits == 0 and SpyRegressor.fits == 0, "a model was fitted"
    assert _snapshot(folder) == before, "a file of the user's changed"
    for original, copy in zip(arrays, copies):
        np.testing.assert_array_equal(original, copy)


# ------------------------------------------------ constructor parameters: wrong types

# One wrong-typed value for every parameter the three searches share...
SHARED = {
    "estimator": "LogisticRegression",
    "param_distributions": "C",
    "n_iter": "ten",
    "scoring": 3,
    "n_jobs": "2",
    "refit": 1.5,
    "cv": "three",
    "verbose": "loud",
    "pre_dispatch": 1.5,
    "random_state": "seed",
    "error_score": "ignore",
    "return_train_score": "yes",
    "max_time": "10",
    "patience": 2.5,
    "callbacks": "print",
    "checkpoint": 3,
    "candidate_timeout": "10",
    "objectives": ["accuracy"],
    "objective_weights": [0.5, 0.5],
    "resource": 3,
    "min_resources": 1.5,
    "max_resources": "27",
    "factor": 2.5,
    "n_brackets": "all",
}
# ... and for every parameter of each strategy.
OWN = {
    "genetic": {"population_size": "10", "crossover_probability": "high",
                "mutation_probability": None, "mutation_scale": "0.1",
                "tournament_size": 2.5, "elitism": "2", "screening": "8"},
    "annealing": {"n_chains": "2", "n_initial_points": 1.5, "initial_temperature": "hot",
                  "cooling": 3, "cooling_rate": "fast", "step_scale": None,
                  "restart_after": "4", "screening": 0.5},
    "bayes": {"n_points": "2", "n_initial_points": None, "surrogate": 3,
              "acq_func": None, "optimizer_kwargs": "fast"},
}
WRONG_TYPES = [
    pytest.param(name, param, value, id=f"{name}-{param}={value!r}")
    for name in SEARCHES
    for param, value in {**SHARED, **OWN[name]}.items()
]


def test_every_constructor_parameter_is_covered():
    for name, (cls, _) in SEARCHES.items():
        assert set(cls._get_param_names()) == set(SHARED) | set(OWN[name])


@pytest.mark.parametrize("name, param, value", WRONG_TYPES)
def test_wrong_type_for_a_constructor_parameter(user_dir, name, param, value):
    bad = search(name, **{param: value})
    assert_refused(lambda: bad.fit(X, y), ValueError,
                   rf"The '{param}' parameter of \w+SearchCV must be .*Got", user_dir, (X, y))


# ----------------------------------------------- constructor parameters: out of range

OUT_OF_RANGE = [
    ("genetic", dict(n_iter=0), ValueError, r"'n_iter' parameter .* range \[1, inf\)"),
    ("genetic", dict(max_time=float("nan")), ValueError, r"'max_time' parameter .*Got nan"),
    ("annealing", dict(max_time=-1.0), ValueError, r"'max_time' parameter .*Got -1.0"),
    ("bayes", dict(candidate_timeout=0), ValueError, r"'candidate_timeout' parameter"),
    ("genetic", dict(random_state=-1), ValueError, r"'random_state' parameter .*Got -1"),
    ("genetic", dict(cv=1), ValueError, r"'cv' parameter .*Got 1"),
    ("annealing", dict(n_jobs=0), ValueError, r"n_jobs == 0"),
    ("genetic", dict(mutation_scale=0.0), ValueError, r"'mutation_scale' parameter"),
    ("genetic", dict(tournament_size=0), ValueError, r"'tournament_size' parameter"),
    ("genetic", dict(elitism=-1), ValueError, r"'elitism' parameter"),
    ("genetic", dict(screening=0), ValueError, r"'screening' parameter"),
    ("annealing", dict(cooling_rate=1.0), ValueError, r"'cooling_rate' parameter"),
    ("annealing", dict(initial_temperature=float("nan")), ValueError,
     r"'initial_temperature' parameter"),
    ("annealing", dict(restart_after=0), ValueError, r"'restart_after' parameter"),
    ("annealing", dict(cooling=lambda step: "hot"), ValueError,
     r"cooling\(0\) must return a finite positive temperature, got 'hot'"),
    ("annealing", dict(cooling=lambda: 1.0), TypeError,
     r"cooling must be a callable taking the step number: .*positional argument"),
    ("bayes", dict(acq_func="UCB"), ValueError, r"'acq_func' parameter .*Got 'UCB'"),
    ("bayes", dict(optimizer_kwargs={"n_initial_pointz": 3}), ValueError,
     r"optimizer_kwargs: 'n_initial_pointz' is not a parameter of skopt.Optimizer"),
    ("bayes", dict(optimizer_kwargs={"base_estimator": "RF"}), ValueError,
     r"optimizer_kwargs: 'base_estimator' is set by the search itself; use its surrogate"),
    ("bayes", dict(optimizer_kwargs={"acq_func": "LCB"}), ValueError,
     r"optimizer_kwargs: 'acq_func' is set by the search itself; use its acq_func"),
    ("genetic", dict(scoring="acuracy"), ValueError, r"'scoring' parameter .*Got 'acuracy'"),
    ("genetic", dict(refit="knee"), ValueError, r"refit='knee' needs objectives"),
    ("annealing", dict(scoring={"acc": "accuracy", "bal": "balanced_accuracy"},
                       refit="f1"), ValueError, r"refit must be set to a scorer key"),
    ("genetic", dict(callbacks=[print, "stop"]), TypeError,
     r"callbacks must be callables, got 'stop'"),
    ("genetic", dict(cv=KFold(2, shuffle=True)), ValueError,
     r"cv parameter must yield consistent folds"),
    ("genetic", dict(random_state=np.random.default_rng(0)), ValueError,
     r"'random_state' parameter .*Got Generator"),
    ("genetic", dict(estimator=SpyClassifier), TypeError,
     r"estimator must be an estimator instance, not the class SpyClassifier"),
    ("annealing", dict(pre_dispatch="bogus", n_jobs=2), ValueError,
     r"pre_dispatch='bogus'"),
    ("bayes", dict(checkpoint=""), ValueError, r"checkpoint=''"),
    ("genetic", dict(factor=1), ValueError, r"'factor' parameter .* range \[2, inf\)"),
    ("genetic", dict(resource="n_trees"), ValueError, r"resource='n_trees' is neither"),
    ("annealing", dict(resource="n_samples", min_resources=0), ValueError,
     r"'min_resources' parameter"),
    ("bayes", dict(min_resources=5), ValueError, r"min_resources needs resource"),
]


@pytest.mark.parametrize(
    "name, params, error, match",
    [pytest.param(*row[:4], id=f"{row[0]}-{next(iter(row[1]))}", marks=row[4:])
     for row in OUT_OF_RANGE],
)
def test_constructor_parameter_out_of_range(user_dir, name, params, error, match):
    bad = search(name, **params)
    assert_refused(lambda: bad.fit(X, y), error, match, user_dir, (X, y))


# --------------------------------------------------------------------- objectives

OBJECTIVES = [
    (dict(objectives={"f1": "max"}), ValueError,
     r"objectives: unknown objective 'f1'.*scorer of scoring \(accuracy, score\)"),
    (dict(objectives={"accuracy": "maximise"}), ValueError,
     r"objectives\['accuracy'\] must be 'max' or 'min', got 'maximise'"),
    (dict(objectives={}), ValueError, r"objectives is empty"),
    (dict(objectives={("accuracy",): "max"}), TypeError, r"objectives keys must be str"),
    (dict(scoring={"acc": "accuracy"}, refit="acc", objectives={"accuracy": "max"}),
     ValueError,
     r"unknown objective 'accuracy'.*\(acc\)"),
    (dict(objectives={"accuracy": "max", "size_bytes": "min"},
          objective_weights={"accuracy": 1.0}), ValueError,
     r"objective_weights must give a weight to each objective"),
    (dict(objectives={"accuracy": "max", "size_bytes": "min"},
          objective_weights={"accuracy": 1.0, "size_bytes": float("nan")}), ValueError,
     r"objective_weights\['size_bytes'\] must be a finite number > 0, got nan"),
    (dict(objectives={"accuracy": "max", "n_params": "min"},
          objective_weights={"accuracy": -1.0, "n_params": 1.0}), ValueError,
     r"objective_weights\['accuracy'\] must be a finite number > 0, got -1.0"),
    (dict(objective_weights={"accuracy": 1.0}), ValueError,
     r"objective_weights needs objectives"),
]


@pytest.mark.parametrize("name", ["genetic", "bayes"])
@pytest.mark.parametrize(
    "params, error, match",
    [pytest.param(*row, id=repr(row[0])[:60]) for row in OBJECTIVES],
)
def test_bad_objectives(user_dir, name, params, error, match):
    bad = search(name, **params)
    assert_refused(lambda: bad.fit(X, y), error, match, user_dir, (X, y))


# -------------------------------------------------------------------- search spaces

NAN, INF = float("nan"), float("inf")
SPACES = [
    ("Real(nan, 10)", {"C": Real(NAN, 10.0)}, ValueError,
     r"param_distributions\['C'\].*bounds must be finite.*nan"),
    ("Real(0, inf)", {"C": Real(0.0, INF)}, ValueError,
     r"param_distributions\['C'\].*bounds must be finite.*inf"),
    ("Real(-inf, 1)", {"C": Real(-INF, 1.0)}, ValueError,
     r"param_distributions\['C'\].*bounds must be finite.*-inf"),
    ("tuple reversed", {"C": (10.0, 0.1)}, ValueError,
     r"param_distributions\['C'\].*low must be less than high, got low=10.0"),
    ("tuple log-uniform from 0", {"C": (0.0, 10.0, "log-uniform")}, ValueError,
     r"param_distributions\['C'\].*should not contain 0 when using log-uniform"),
    ("tuple (nan, 1)", {"C": (NAN, 1.0)}, ValueError,
     r"param_distributions\['C'\].*bounds must be finite numbers, got low=nan"),
    ("tuple (0, inf)", {"C": (0.0, INF)}, ValueError,
     r"param_distributions\['C'\].*bounds must be finite numbers, got .*high=inf"),
    ("tuple (1, 1)", {"C": (1.0, 1.0)}, ValueError,
     r"param_distributions\['C'\].*low must be less than high"),
    ("empty list", {"C": []}, ValueError, r"param_distributions\['C'\] is an empty list"),
    ("empty dict", {}, ValueError, r"param_distributions must be a non-empty dict"),
    ("empty list of dicts", [], ValueError, r"param_distributions must be a non-empty"),
    ("empty sub-space", [{"C": [1.0]}, {}], ValueError,
     r"param_distributions\[1\] must be a non-empty dict"),
    ("sub-space not a dict", [{"C": [1.0]}, ["C"]], ValueError,
     r"param_distributions\[1\] must be a non-empty dict"),
    ("set of choices", {"C": {0.1, 1.0}}, TypeError,
     r"param_distributions\['C'\] is .* of type set; expected a list"),
    ("dict as a value", {"C": {"low": 0.1}}, TypeError,
     r"param_distributions\['C'\] is .* of type dict"),
    ("2-d array", {"C": np.ones((2, 2))}, TypeError,
     r"(?s)param_distributions\['C'\] is .* of type ndarray"),
    ("a number", {"C": 1.0}, TypeError, r"param_distributions\['C'\] is 1.0 of type float"),
    ("None", {"C": None}, TypeError, r"param_distributions\['C'\] is None"),
    ("scipy uniform(0, -1)", {"C": stats.uniform(0, -1)}, ValueError,
     r"param_distributions\['C'\] is a uniform\(0, -1\) distribution with invalid "
     r"parameters"),
    ("scipy loguniform reversed", {"C": stats.loguniform(10, 0.1)}, ValueError,
     r"param_distributions\['C'\] is a loguniform\(10, 0.1\) distribution with invalid"),
    ("unknown parameter", {"gama": [1.0]}, ValueError,
     r"Invalid parameter 'gama' in param_distributions"),
    ("non-string name", {3: [1.0]}, ValueError,
     r"Invalid parameter 3 in param_distributions"),
    ("scipy norm(0, inf)", {"C": stats.norm(0, INF)}, ValueError,
     r"param_distributions\['C'\] is a norm\(0, inf\) distribution with invalid"),
]


@pytest.mark.parametrize(
    "space, error, match", [pytest.param(*row[1:], id=row[0]) for row in SPACES]
)
def test_bad_search_space(user_dir, space, error, match):
    bad = search("bayes", space=space)
    assert_refused(lambda: bad.fit(X, y), error, match, user_dir, (X, y))


# ---------------------------------------------------------------- data given to fit

y_nan = y_reg.copy()
y_nan[7] = np.nan
y_inf = y_reg.copy()
y_inf[3] = np.inf
y_cls_nan = y.astype(float)
y_cls_nan[5] = np.nan
X_nan = X.copy()
X_nan[4, 1] = np.nan

DATA = [
    ("X and y lengths differ", SpyClassifier(), lambda: ((X, y[:-1]), {}), ValueError,
     r"inconsistent numbers of samples: \[60, 59\]", ()),
    ("NaN in y, classifier", SpyClassifier(), lambda: ((X, y_cls_nan), {}), ValueError,
     r"Input y contains NaN", ()),
    ("NaN in y, regressor", SpyRegressor(), lambda: ((X, y_nan), {}), ValueError,
     r"y contains NaN", ()),
    ("inf in y, regressor", SpyRegressor(), lambda: ((X, y_inf), {}), ValueError,
     r"y contains infinity", ()),
    ("NaN in X, estimator without allow_nan", SpyClassifier(),
     lambda: ((X_nan, y), {}), ValueError, r"X contains NaN", ()),
    ("y missing for a classifier", SpyClassifier(), lambda: ((X, None), {}), ValueError,
     r"requires y|y is None|y=None", ()),
    ("no rows", SpyClassifier(), lambda: ((X[:0], y[:0]), {}), ValueError,
     r"(n_samples=0|0 sample)", ()),
    ("sample_weight of the wrong length", SpyClassifier(),
     lambda: ((X, y), {"sample_weight": np.ones(59)}), ValueError,
     r"sample_weight.*59.*60",
     ()),
    ("fit parameter the estimator does not take", SpyClassifier(),
     lambda: ((X, y), {"sampel_weight": np.ones(60)}), TypeError,
     r"sampel_weight", ()),
    ("groups of the wrong length", SpyClassifier(),
     lambda: ((X, y), {"groups": np.arange(59) % 3}), ValueError,
     r"inconsistent numbers of samples", ()),
]


@pytest.mark.parametrize(
    "estimator, make_args, error, match",
    [pytest.param(*row[1:5], id=row[0], marks=row[5]) for row in DATA],
)
def test_bad_data(user_dir, estimator, make_args, error, match):
    (X_, y_), params = make_args()
    cv = GroupKFold(2) if "groups" in params else 2
    bad = search("genetic", estimator, {"C" if hasattr(estimator, "C") else "alpha":
                                        Real(0.1, 10.0)}, cv=cv)
    arrays = [a for a in (X_, y_) if a is not None]
    assert_refused(lambda: bad.fit(X_, y_, **params), error, match, user_dir, arrays)


# ---------------------------------------------------------------------- checkpoints




def _patch_open(monkeypatch, opener):
    monkeypatch.setattr(builtins, "open", opener)
    monkeypatch.setattr(io, "open", opener)


def _unreadable(monkeypatch, path):
    """Tests run as root, where chmod 000 does not stop a read: refuse in ``open``."""
    path = os.path.abspath(path)

    def opener(file, *args, **kwargs):
        if not isinstance(file, int) and os.path.abspath(os.fspath(file)) == path:
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return _real_open(file, *args, **kwargs)

    _patch_open(monkeypatch, opener)


class _FullDisk:
    """A file whose every write fails with ENOSPC, as on a full disk."""

    def __init__(self, inner):
        self._inner = inner

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __iter__(self):
        return iter(self._inner)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._inner.close()


def _full_disk(monkeypatch, folder):
    """Every file opened for writing in ``folder`` (or by descriptor) is on a full disk."""
    folder = os.path.abspath(folder)

    def opener(file, mode="r", *args, **kwargs):
        inner = _real_open(file, mode, *args, **kwargs)
        on_disk = isinstance(file, int) or os.path.abspath(os.fspath(file)).startswith(folder)
        if on_disk and any(m in mode for m in "wax+"):
            return _FullDisk(inner)
        return inner

    _patch_open(monkeypatch, opener)


def _journal(folder):
    """A real journal of a tiny search, and that search (its fingerprint matches)."""
    path = folder / "search.jsonl"
    good = search("genetic", checkpoint=path)
    good.fit(X, y)
    SpyClassifier.fits = 0
    return path, search("genetic", checkpoint=path, n_iter=4)


def _edit_line(path, number, edit):
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = edit(lines[number - 1])
    path.write_bytes(b"\n".join(lines))


def _edit_record(key):
    def edit(line):
        record = json.loads(line)
        del record["out"][key]
        return json.dumps(record).encode()
    return edit


def _edit_header(field, value):
    def edit(line):
        header = json.loads(line)
        if field in header:
            header[field] = value
        else:
            header["fingerprint"][field] = value
        return json.dumps(header).encode()
    return edit


def _checkpoint_dir(folder, monkeypatch):
    (folder / "runs").mkdir()
    return search(checkpoint=folder / "runs")


def _checkpoint_missing_folder(folder, monkeypatch):
    return search(checkpoint=folder / "no-such-folder" / "search.jsonl")


def _checkpoint_unreadable(folder, monkeypatch):
    path, again = _journal(folder)
    _unreadable(monkeypatch, path)
    return again


def _checkpoint_full_disk(folder, monkeypatch):
    _full_disk(monkeypatch, folder)
    return search(checkpoint=folder / "search.jsonl")


def _foreign(content):
    def make(folder, monkeypatch):
        (folder / "mine.txt").write_bytes(content)
        return search(checkpoint=folder / "mine.txt")
    return make


def _hand_edited(number, edit):
    def make(folder, monkeypatch):
        path, again = _journal(folder)
        _edit_line(path, number, edit)
        return again
    return make


CHECKPOINTS = [
    ("a folder", _checkpoint_dir, ValueError, r"checkpoint=.*runs.* is a folder",
     ()),
    ("in a missing folder", _checkpoint_missing_folder, ValueError,
     r"checkpoint=.*: the folder .*no-such-folder.* does not exist", ()),
    ("unreadable", _checkpoint_unreadable, ValueError, r"checkpoint=.*cannot be read",
     ()),
    ("on a full disk", _checkpoint_full_disk, ValueError,
     r"checkpoint=.*No space left on device",
     ()),
    ("a JSON config on one line", _foreign(b'{"lr": 0.1}'), ValueError,
     r"checkpoint=.* is not a skautosearch journal",
     ()),
    ("an empty file", _foreign(b""), ValueError,
     r"checkpoint=.* is not a skautosearch journal",
     ()),
    ("a binary file", _foreign(bytes(range(256)) * 4), ValueError,
     r"checkpoint=.* is not a skautosearch journal", ()),
    ("a CSV file", _foreign(b"a,b\n1,2\n"), ValueError,
     r"checkpoint=.* is not a skautosearch journal", ()),
    ("journal edited: a header's fingerprint", _hand_edited(1, _edit_header("data", "x")),
     ValueError, r"checkpoint=.* belongs to another search: the data \(X, y\) differ", ()),
    ("journal edited: the header's version", _hand_edited(1, _edit_header("version", 99)),
     ValueError, r"checkpoint=.* is a version 99 journal", ()),
    ("journal edited: the header's format", _hand_edited(1, _edit_header("format", "x")),
     ValueError, r"checkpoint=.* is not a skautosearch journal", ()),
    ("journal edited: a record is not JSON", _hand_edited(2, lambda line: line[:-5]),
     ValueError, r"checkpoint=.* record on line 2 is corrupt", ()),
    ("journal edited: a record lost its scores", _hand_edited(2, _edit_record("test_scores")),
     ValueError, r"checkpoint=.* record on line 2 is corrupt",
     ()),
    ("journal edited: the last record", _hand_edited(5, lambda line: line[:-5]),
     ValueError, r"checkpoint=.* record on line 5 is corrupt",
     ()),
]


@pytest.mark.parametrize(
    "make, error, match", [pytest.param(*row[1:4], id=row[0], marks=row[4])
                           for row in CHECKPOINTS],
)
def test_bad_checkpoint(user_dir, monkeypatch, make, error, match):
    bad = make(user_dir, monkeypatch)
    assert_refused(lambda: bad.fit(X, y), error, match, user_dir, (X, y))


# -------------------------------------------------------------------- the command line


class _PipelineFitted(Exception):
    """Raised by the spy on ``Pipeline.fit``: the command fitted a model."""


@pytest.fixture
def no_cli_fit(monkeypatch):
    from sklearn.pipeline import Pipeline

    calls = []

    def spy(self, *args, **kwargs):
        calls.append(self)
        raise _PipelineFitted("the command fitted a model")

    monkeypatch.setattr(Pipeline, "fit", spy)
    return calls


def _table(header=("x1", "x2", "label"), n=30):
    rows = [list(header)]
    for i in range(n):
        rows.append([f"{(i * 7 % 11) / 3:.3f}", f"{i % 5 - 2:.1f}", ["yes", "no"][i % 2]])
    return rows


def _csv(folder, rows, name="data.csv", encoding="utf-8"):
    path = folder / name
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)
    return str(path)


def _latin1(folder):
    rows = _table(header=("x1", "x2", "étiquette"))
    return ["--dataset", _csv(folder, rows, encoding="latin-1"), "--target", "étiquette"]


def _inf_feature(folder):
    rows = _table()
    rows[4][0] = "inf"
    return ["--dataset", _csv(folder, rows), "--target", "label"]


def _output_is_a_file(folder):
    (folder / "results").write_bytes(b"my notes\n")
    return ["--dataset", "iris", "--output", "results", "--checkpoint"]


CLI = [
    ("--cv 1", lambda d: ["--cv", "1"], r"argument --cv: 1 is below 2", ()),
    ("--cv abc", lambda d: ["--cv", "abc"], r"argument --cv: 'abc' is not an integer", ()),
    ("--n-iter 0", lambda d: ["--n-iter", "0"], r"argument --n-iter: 0 is below 1", ()),
    ("--n-iter -5", lambda d: ["--n-iter", "-5"], r"argument --n-iter: -5 is below 1", ()),
    ("--n-jobs 0", lambda d: ["--n-jobs", "0"], r"argument --n-jobs: 0 jobs", ()),
    ("--n-jobs 1.5", lambda d: ["--n-jobs", "1.5"],
     r"argument --n-jobs: '1.5' is not an integer", ()),
    ("--seed abc", lambda d: ["--seed", "abc"], r"argument --seed: invalid int value", ()),
    ("--seed -1", lambda d: ["--seed", "-1", "--dataset", "iris"],
     r"--seed.*-1", ()),
    ("--strategies empty", lambda d: ["--strategies", ","],
     r"argument --strategies: unknown strategy", ()),
    ("--estimator unknown", lambda d: ["--estimator", "xgboost"],
     r"argument --estimator: invalid choice: 'xgboost'", ()),
    ("--task unknown", lambda d: ["--task", "ranking"],
     r"argument --task: invalid choice: 'ranking'", ()),
    ("--dataset unknown", lambda d: ["--dataset", "no-such-data"],
     r"unknown dataset 'no-such-data'", ()),
    ("--dataset a folder", lambda d: ["--dataset", str(d)], r"--dataset .* is a folder", ()),
    ("CSV without --target", lambda d: ["--dataset", _csv(d, _table())],
     r"--target is required with a CSV file; columns: x1, x2, label", ()),
    ("CSV missing the target column",
     lambda d: ["--dataset", _csv(d, _table()), "--target", "species"],
     r"target column 'species' is not in .*data.csv.*; columns: x1, x2, label", ()),
    ("CSV with duplicate header names",
     lambda d: ["--dataset", _csv(d, _table(header=("x", "x", "label"))),
                "--target", "label"],
     r"data.csv.* column name 'x' appears twice",
     ()),
    ("CSV with the target named twice",
     lambda d: ["--dataset", _csv(d, _table(header=("x1", "label", "label"))),
                "--target", "label"],
     r"data.csv.* column name 'label' appears twice",
     ()),
    ("CSV in Latin-1 (non-UTF-8 bytes)", _latin1,
     r"data.csv.* is not a readable CSV text file .*utf-8", ()),
    ("CSV with only a header", lambda d: ["--dataset", _csv(d, [["a", "label"]]),
                                          "--target", "label"],
     r"data.csv.* has no data rows", ()),
    ("CSV with an infinite feature", _inf_feature,
     r"feature column 'x1' has .*inf",
     ()),
    ("CSV text target with --task regression",
     lambda d: ["--dataset", _csv(d, _table()), "--target", "label", "--task",
                "regression"],
     r"--task regression needs a numeric target.*label",
     ()),
    ("--output is a file", _output_is_a_file, r"--output .*results.* is a file",
     ()),
]


@pytest.mark.parametrize(
    "argv, match", [pytest.param(*row[1:3], id=row[0], marks=row[3]) for row in CLI]
)
def test_bad_command_line(user_dir, capsys, no_cli_fit, argv, match):
    args = argv(user_dir)
    before = _snapshot(user_dir)
    code = main(args + ["--quick", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert not no_cli_fit, "the command fitted a model"
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("skautosearch: error: "), err
    assert re.search(match, err[0]), err[0]
    assert _snapshot(user_dir) == before, "a file of the user's changed"


# ------------------------------------------------------------- compression (Keras)


class SpyProbaClassifier(SpyClassifier):
    """A teacher for distillation: the spy classifier with ``predict_proba``."""

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


@pytest.fixture
def keras_student(monkeypatch):
    """A tiny Keras classifier, and a spy on ``keras.Model.fit`` that counts every fit."""
    keras = pytest.importorskip("keras")
    from skautosearch.keras import KerasClassifier, build_mlp

    calls = []

    def spy(self, *args, **kwargs):
        calls.append(self)
        raise AssertionError("a Keras model was fitted")

    monkeypatch.setattr(keras.Model, "fit", spy)
    student = KerasClassifier(build_mlp, model__hidden_units=(4,), epochs=1, verbose=0,
                              loss="sparse_categorical_crossentropy", random_state=0)
    yield student
    assert not calls, "a Keras model was fitted"


def _pruning(estimator=None, **kw):
    def make(student):
        from skautosearch.compression import MagnitudePruning

        return MagnitudePruning(student if estimator is None else estimator, **kw)
    return make


def _structured(**kw):
    def make(student):
        from skautosearch.compression import StructuredPruning

        return StructuredPruning(student, **kw)
    return make


def _quantization(**kw):
    def make(student):
        from skautosearch.compression import Quantization

        return Quantization(student, **kw)
    return make


def _distillation(teacher=None, student=None, **kw):
    def make(keras_student):
        from skautosearch.compression import Distillation

        return Distillation(SpyProbaClassifier() if teacher is None else teacher,
                            keras_student if student is None else student, **kw)
    return make


X_img = np.abs(X).astype("float32")
X_img_nan = X_img.copy()
X_img_nan[2, 0] = np.nan
COMPRESSION = [
    ("MagnitudePruning sparsity=1.0", _pruning(sparsity=1.0), (X_img, y), ValueError,
     r"`sparsity` must be a float in \[0, 1\); got 1.0"),
    ("MagnitudePruning sparsity=-0.1", _pruning(sparsity=-0.1), (X_img, y), ValueError,
     r"`sparsity` must be a float in \[0, 1\); got -0.1"),
    ("MagnitudePruning sparsity=nan", _pruning(sparsity=NAN), (X_img, y), ValueError,
     r"`sparsity` must be a float in \[0, 1\); got nan"),
    ("MagnitudePruning sparsity='high'", _pruning(sparsity="high"), (X_img, y), ValueError,
     r"`sparsity` must be a float in \[0, 1\); got 'high'"),
    ("MagnitudePruning sparsity={}", _pruning(sparsity={}), (X_img, y), ValueError,
     r"`sparsity` must not be an empty dict"),
    ("MagnitudePruning sparsity for a missing layer", _pruning(sparsity={"conv9": 0.5}),
     (X_img, y), ValueError, r"`sparsity` names layers without prunable weights: \['conv9'\]"),
    ("MagnitudePruning initial_sparsity > sparsity",
     _pruning(sparsity=0.5, initial_sparsity=0.9), (X_img, y), ValueError,
     r"`initial_sparsity` \(0.9\) must not exceed `sparsity`"),
    ("MagnitudePruning scope='local'", _pruning(scope="local"), (X_img, y), ValueError,
     r"'scope' parameter of MagnitudePruning must be"),
    ("MagnitudePruning power=0", _pruning(power=0), (X_img, y), ValueError,
     r"'power' parameter of MagnitudePruning"),
    ("MagnitudePruning frequency=0", _pruning(frequency=0), (X_img, y), ValueError,
     r"'frequency' parameter of MagnitudePruning"),
    ("MagnitudePruning pruning_epochs=-1", _pruning(pruning_epochs=-1), (X_img, y),
     ValueError, r"'pruning_epochs' parameter of MagnitudePruning"),
    ("MagnitudePruning validation_fraction=1.0", _pruning(validation_fraction=1.0),
     (X_img, y), ValueError, r"'validation_fraction' parameter of MagnitudePruning"),
    ("MagnitudePruning of a scikit-learn estimator",
     _pruning(estimator=SpyClassifier()), (X_img, y), TypeError,
     r"`estimator` must be a Keras-backed estimator .*got SpyClassifier"),
    ("MagnitudePruning X and y lengths differ", _pruning(), (X_img, y[:-1]), ValueError,
     r"inconsistent numbers of samples: \[60, 59\]"),
    ("MagnitudePruning NaN in X", _pruning(), (X_img_nan, y), ValueError,
     r"X contains NaN"),
    ("StructuredPruning fraction=1.0", _structured(fraction=1.0), (X_img, y), ValueError,
     r"`fraction` must be a float in \[0, 1\); got 1.0"),
    ("StructuredPruning criterion='l3'", _structured(criterion="l3"), (X_img, y),
     ValueError, r"'criterion' parameter of StructuredPruning"),
    ("Quantization dtype='int3'", _quantization(dtype="int3"), (X_img, y), ValueError,
     r"`dtype` must be one of .*got 'int3'"),
    ("Quantization batch_size=0", _quantization(batch_size=0), (X_img, y), ValueError,
     r"'batch_size' parameter of Quantization"),
    ("Quantization calibration=3", _quantization(calibration=3), (X_img, y), ValueError,
     r"'calibration' parameter of Quantization"),
    ("Distillation temperature=0", _distillation(temperature=0), (X_img, y), ValueError,
     r"'temperature' parameter of Distillation"),
    ("Distillation alpha=1.5", _distillation(alpha=1.5), (X_img, y), ValueError,
     r"'alpha' parameter of Distillation"),
    ("Distillation augment='cutmix'", _distillation(augment="cutmix"), (X_img, y),
     ValueError, r"'augment' parameter of Distillation"),
    ("Distillation n_augment=0", _distillation(n_augment=0), (X_img, y), ValueError,
     r"'n_augment' parameter of Distillation"),
    ("Distillation teacher without predict_proba",
     _distillation(teacher=SpyRegressor()), (X_img, y), TypeError,
     r"`teacher` must be a classifier with predict_proba; got SpyRegressor"),
    ("Distillation student not Keras", _distillation(student=SpyClassifier()),
     (X_img, y), TypeError, r"`student` must be a Keras-backed estimator"),
]


@pytest.mark.keras
@pytest.mark.parametrize(
    "make, data, error, match", [pytest.param(*row[1:], id=row[0]) for row in COMPRESSION]
)
def test_bad_compression_input(user_dir, keras_student, make, data, error, match):
    compressor = make(keras_student)
    assert_refused(lambda: compressor.fit(*data), error, match, user_dir, data)


# ------------------------------------------------------------- Keras wrappers (Keras)

KERAS_WRAPPERS = [
    ("epochs=-1", dict(epochs=-1), ValueError,
     r"'epochs' parameter of KerasClassifier must be an int in the range \[1, inf\)"),
    ("epochs='ten'", dict(epochs="ten"), ValueError,
     r"'epochs' parameter of KerasClassifier .*Got 'ten'"),
    ("fit__epochs=0", dict(fit__epochs=0), ValueError,
     r"'fit__epochs' parameter of KerasClassifier .*Got 0"),
    ("batch_size=0", dict(batch_size=0), ValueError,
     r"'batch_size' parameter of KerasClassifier .*Got 0"),
    ("validation_split=1.5", dict(validation_split=1.5), ValueError,
     r"'validation_split' parameter of KerasClassifier .*Got 1.5"),
    ("random_state='x'", dict(random_state="x"), ValueError,
     r"'random_state' parameter of KerasClassifier .*Got 'x'"),
    ("loss='nope'", dict(loss="nope"), ValueError, r"Could not interpret loss identifier: nope"),
    ("optimizer='nope'", dict(optimizer="nope"), ValueError,
     r"Could not interpret optimizer identifier: nope"),
    ("model__dropout=1.5", dict(model__dropout=1.5), ValueError,
     r"dropout must be in \[0, 1\); got 1.5"),
    ("model__hidden_units=(0,)", dict(model__hidden_units=(0,)), ValueError,
     r"units_0 must be an integer >= 1; got 0"),
]


@pytest.mark.keras
@pytest.mark.parametrize(
    "params, error, match", [pytest.param(*row[1:], id=row[0]) for row in KERAS_WRAPPERS]
)
def test_bad_keras_wrapper_parameter(user_dir, keras_student, params, error, match):
    bad = keras_student.set_params(**params)
    assert_refused(lambda: bad.fit(X_img, y), error, match, user_dir, (X_img, y))
