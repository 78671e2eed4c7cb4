"""The checkpoint journal never harms a user's file and never replays results of another
setting (issue 11, defects 2 and 3)."""

import importlib
import json
import os
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.svm import SVC

from skautosearch import GeneticSearchCV, Real, _journal

X, y = load_iris(return_X_y=True)
CV = StratifiedKFold(3, shuffle=True, random_state=0)
SPACE = {"C": Real(1e-2, 1e3, prior="log-uniform")}


def search(estimator=None, **kwargs):
    params = dict(n_iter=4, population_size=4, cv=CV, random_state=0)
    return GeneticSearchCV(estimator if estimator is not None else SVC(), SPACE,
                           **{**params, **kwargs})


FOREIGN_FILES = {
    "json config without a newline": json.dumps({"lr": 0.1}).encode(),
    "json config with a newline": json.dumps({"lr": 0.1}).encode() + b"\n",
    "one line of text": b"my precious notes",
    "csv": b"a,b,target\n1,2,0\n3,4,1\n",
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "a json line that looks close": b'{"format": "not-ours", "version": 2}\n',
    "json list": b"[1, 2, 3]\n",
}


@pytest.mark.parametrize("content", FOREIGN_FILES.values(), ids=FOREIGN_FILES.keys())
def test_a_foreign_file_is_refused_byte_for_byte_unchanged(tmp_path, content):
    path = tmp_path / "file"
    path.write_bytes(content)
    before = os.stat(path)
    with pytest.raises(ValueError, match="is not a skautosearch journal"):
        search(checkpoint=path).fit(X, y)
    assert path.read_bytes() == content
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert sorted(os.listdir(tmp_path)) == ["file"]  # no temporary file left behind


def test_a_new_journal_is_created_whole(tmp_path):
    path = tmp_path / "journal.jsonl"
    search(checkpoint=path).fit(X, y)
    header = json.loads(path.read_text().splitlines()[0])
    assert header["format"] == _journal.FORMAT and header["version"] == _journal.VERSION
    assert sorted(os.listdir(tmp_path)) == ["journal.jsonl"]


def test_a_checkpoint_that_is_a_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="checkpoint=.* is a folder"):
        search(checkpoint=tmp_path).fit(X, y)


def test_a_full_disk_while_journaling_keeps_the_search_and_its_results(tmp_path, monkeypatch):
    path = tmp_path / "journal.jsonl"
    reference = search().fit(X, y)
    real_line = _journal._line
    calls = []

    def line(record):
        calls.append(record)
        if len(calls) > 3:  # the header and two fits, then the disk is full
            raise OSError(28, "No space left on device")
        return real_line(record)

    monkeypatch.setattr(_journal, "_line", line)
    with pytest.warns(UserWarning, match="cannot write to the journal"):
        result = search(checkpoint=path).fit(X, y)
    np.testing.assert_array_equal(result.cv_results_["mean_test_score"],
                                  reference.cv_results_["mean_test_score"])
    assert len(path.read_text().splitlines()) == 3


class WeightSpy(ClassifierMixin, BaseEstimator):
    """An SVC that takes sample_weight; its class code can be 'edited' by tests."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        self.model_ = SVC(C=self.C).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


@pytest.mark.parametrize("what, first, second", [
    ("the parameters passed to fit", {"sample_weight": np.ones(len(y))},
     {"sample_weight": np.linspace(0.1, 2.0, len(y))}),
])
def test_results_of_other_fit_parameters_are_refused(tmp_path, what, first, second):
    path = tmp_path / "journal.jsonl"
    search(WeightSpy(), checkpoint=path).fit(X, y, **first)
    with pytest.raises(ValueError, match=what):
        search(WeightSpy(), checkpoint=path).fit(X, y, **second)


def test_results_of_other_groups_are_refused(tmp_path):
    path = tmp_path / "journal.jsonl"
    groups = np.arange(len(y)) % 5
    search(cv=GroupKFold(3), checkpoint=path).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="cross-validation splits"):
        search(cv=GroupKFold(3), checkpoint=path).fit(X, y, groups=np.arange(len(y)) % 4)


class FunctionEstimator(ClassifierMixin, BaseEstimator):
    def __init__(self, build=None, C=1.0):
        self.build = build
        self.C = C

    def fit(self, X, y):
        self.model_ = self.build(self.C).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


MODEL_MODULE = """
from sklearn.svm import SVC

def build(C):
    return SVC(C=C{edit})
"""


def test_an_edited_model_function_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "journal.jsonl"
    module_file = tmp_path / "user_models.py"
    module_file.write_text(MODEL_MODULE.format(edit=""))
    monkeypatch.syspath_prepend(str(tmp_path))
    import user_models

    try:
        search(FunctionEstimator(user_models.build), checkpoint=path).fit(X, y)
        # The same module, the same function name, another body.
        module_file.write_text(MODEL_MODULE.format(edit=" * 2"))
        importlib.reload(user_models)
        with pytest.raises(ValueError, match="the code of the functions"):
            search(FunctionEstimator(user_models.build), checkpoint=path).fit(X, y)
        # The original code resumes.
        module_file.write_text(MODEL_MODULE.format(edit=""))
        importlib.reload(user_models)
        resumed = search(FunctionEstimator(user_models.build), checkpoint=path).fit(X, y)
        assert resumed.n_replayed_fits_ == 4 * 3
    finally:
        sys.modules.pop("user_models", None)


def test_code_hash_sees_closures_methods_and_defaults():
    def f(a, b=1):
        return a + b

    def g(a, b=2):
        return a + b

    assert _journal.code_hash(f) != _journal.code_hash(g)
    assert _journal.code_hash(SVC()) == _journal.code_hash(SVC(C=3))  # library code: by version
    assert _journal.code_hash(WeightSpy()) != _journal.code_hash(FunctionEstimator())


def test_other_library_versions_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "journal.jsonl"
    search(checkpoint=path).fit(X, y)
    real = _journal._versions
    monkeypatch.setattr(_journal, "_versions", lambda: {**real(), "scikit-learn": "0.1"})
    with pytest.raises(ValueError, match="versions of the libraries"):
        search(checkpoint=path).fit(X, y)


class Sleepy(ClassifierMixin, BaseEstimator):
    def __init__(self, C=1.0, seconds=0.0):
        self.C = C
        self.seconds = seconds

    def fit(self, X, y):
        import time

        time.sleep(self.seconds)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_a_timeout_recorded_under_a_shorter_limit_is_run_again(tmp_path):
    path = tmp_path / "journal.jsonl"

    def run(timeout):
        space = {"seconds": [0.0, 0.6], "C": [1.0, 2.0]}
        return GeneticSearchCV(Sleepy(), space, n_iter=4, population_size=4, cv=CV,
                               random_state=0, checkpoint=path, candidate_timeout=timeout,
                               error_score=0.0).fit(X, y)

    with pytest.warns(FitFailedWarning):
        first = run(0.3)
    slow = np.array([p["seconds"] > 0 for p in first.cv_results_["params"]])
    assert all(r.startswith("timed out") for r in first.cv_results_["failure_reason"][slow])
    # The same limit replays the timeouts...
    with pytest.warns(FitFailedWarning):
        assert run(0.3).n_replayed_fits_ == 4 * 3
    # ...a longer one runs them again, and they now succeed.
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitFailedWarning)
        longer = run(30)
    assert longer.n_replayed_fits_ == 2 * 3
    assert not any(longer.cv_results_["failure_reason"])


def test_a_checkpoint_without_random_state_warns(tmp_path):
    with pytest.warns(UserWarning, match="random_state is None"):
        search(checkpoint=tmp_path / "j.jsonl", random_state=None).fit(X, y)


def test_a_version_1_journal_is_refused_with_its_version(tmp_path):
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"format": _journal.FORMAT, "version": 1,
                                "fingerprint": {}}) + "\n")
    with pytest.raises(ValueError, match="version 1 journal"):
        search(checkpoint=path).fit(X, y)
