"""Crash-safe resume, failure isolation and timeouts (issue 6)."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV, Real

X, y = load_iris(return_X_y=True)
CV = StratifiedKFold(3, shuffle=True, random_state=0)
CV2 = StratifiedKFold(2, shuffle=True, random_state=0)
SPACE = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-4, 1e1, prior="log-uniform")}
SEARCHES = {
    "genetic": lambda **kw: GeneticSearchCV(SVC(), SPACE, population_size=4, **kw),
    "annealing": lambda **kw: AnnealingSearchCV(SVC(), SPACE, n_initial_points=4, **kw),
    "bayes": lambda **kw: BayesianSearchCV(SVC(), SPACE, n_initial_points=4, n_points=2, **kw),
}


def same_results(a, b):
    """cv_results_ equal in everything but the measured times."""
    assert a.cv_results_["params"] == b.cv_results_["params"]
    for key, value in a.cv_results_.items():
        if "time" in key or key == "params":
            continue
        np.testing.assert_array_equal(value, b.cv_results_[key], err_msg=key)
    assert a.best_params_ == b.best_params_
    assert type(a.best_params_) is dict and all(type(p) is dict for p in a.cv_results_["params"])


class Behaving(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; misbehaves as told: raise, NaN, die, hang."""

    def __init__(self, mode="ok", c=1.0):
        self.mode = mode
        self.c = c

    def fit(self, X, y):
        if self.mode == "raise":
            raise RuntimeError("cannot fit this one")
        if self.mode == "die":
            os._exit(3)
        if self.mode == "hang":
            time.sleep(30)
        if self.mode == "stuck":  # like a long C call: the timeout's alarm cannot land
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
            time.sleep(30)
        values, counts = np.unique(y, return_counts=True)
        self.classes_ = values
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)

    def score(self, X, y):
        return float("nan") if self.mode == "nan" else float(np.mean(self.predict(X) == y)) * self.c


# -- resume -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEARCHES)
def test_resume_from_a_journal_fits_nothing_again_and_gives_the_same_results(name, tmp_path):
    path = tmp_path / "journal.jsonl"
    params = dict(n_iter=10, cv=CV, random_state=0)
    reference = SEARCHES[name](**params).fit(X, y)
    first = SEARCHES[name](checkpoint=path, **params).fit(X, y)
    assert first.n_replayed_fits_ == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 10 * 3  # the header, then one line per fit
    # A crash after the sixth fit: keep the header and six records.
    path.write_text("\n".join(lines[:7]) + "\n")
    resumed = SEARCHES[name](checkpoint=path, **params).fit(X, y)
    assert resumed.n_replayed_fits_ == 6
    assert len(path.read_text().splitlines()) == 1 + 10 * 3
    same_results(resumed, reference)
    # Everything is journaled now: a third run fits no candidate at all.
    again = SEARCHES[name](checkpoint=path, **params).fit(X, y)
    assert again.n_replayed_fits_ == 30
    same_results(again, reference)


def test_a_longer_search_continues_a_shorter_ones_journal(tmp_path):
    path = tmp_path / "journal.jsonl"
    GeneticSearchCV(SVC(), SPACE, population_size=4, n_iter=8, cv=CV, random_state=0,
                    checkpoint=path).fit(X, y)
    longer = GeneticSearchCV(SVC(), SPACE, population_size=4, n_iter=12, cv=CV,
                             random_state=0, checkpoint=path).fit(X, y)
    assert longer.n_replayed_fits_ == 8 * 3
    assert len(longer.cv_results_["params"]) == 12


SLOW_SVC = textwrap.dedent("""
    import os
    import time
    from sklearn.svm import SVC

    class SlowSVC(SVC):
        def fit(self, X, y, sample_weight=None):
            # In the search to be killed: once 10 fits are journaled, say so and hang,
            # so that the kill lands mid-search at a known point, with no race.
            journal = os.environ.get("SKAUTOSEARCH_TEST_JOURNAL")
            if journal and os.path.exists(journal):
                with open(journal, "rb") as f:
                    if len(f.read().splitlines()) > 10:
                        open(journal + ".ready", "w").close()
                        parent = os.getppid()
                        while os.getppid() == parent:  # a loky worker ends with its search
                            time.sleep(0.1)
                        os._exit(0)
            return super().fit(X, y, sample_weight=sample_weight)
""")
KILLED_SEARCH = textwrap.dedent("""
    import sys
    from sklearn.datasets import load_iris
    from sklearn.model_selection import StratifiedKFold
    from skautosearch import GeneticSearchCV, Real
    from slow_svc import SlowSVC

    X, y = load_iris(return_X_y=True)
    search = GeneticSearchCV(
        SlowSVC(), {"C": Real(1e-2, 1e3, prior="log-uniform"),
                    "gamma": Real(1e-4, 1e1, prior="log-uniform")},
        population_size=4, n_iter=12, cv=StratifiedKFold(3, shuffle=True, random_state=0),
        random_state=0, checkpoint=sys.argv[1], n_jobs=int(sys.argv[2]))
    search.fit(X, y)
    print("finished")
""")


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_search_killed_with_sigkill_resumes_where_it_stopped(tmp_path, n_jobs):
    path = tmp_path / "journal.jsonl"
    script = tmp_path / "search.py"
    script.write_text(KILLED_SEARCH)
    (tmp_path / "slow_svc.py").write_text(SLOW_SVC)
    # SlowSVC is importable by the killed search, its workers and this process.
    sys.path.insert(0, str(tmp_path))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
           "SKAUTOSEARCH_TEST_JOURNAL": str(path)}
    ready = tmp_path / "journal.jsonl.ready"
    try:
        proc = subprocess.Popen([sys.executable, str(script), str(path), str(n_jobs)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        # The child hangs in a fit once it has journaled 10 fits, and says so.
        deadline = time.monotonic() + 300
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists() and proc.poll() is None, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        n_records = len(path.read_bytes().splitlines()) - 1
        assert 10 <= n_records < 36, "killed in the middle of the search"

        import slow_svc as module  # the same estimator class, for the resumed run

        space = {"C": Real(1e-2, 1e3, prior="log-uniform"),
                 "gamma": Real(1e-4, 1e1, prior="log-uniform")}
        params = dict(population_size=4, n_iter=12, cv=CV, random_state=0)
        with pytest.warns(UserWarning, match="truncated last record") if \
                not path.read_bytes().endswith(b"\n") else contextlib.nullcontext():
            resumed = GeneticSearchCV(module.SlowSVC(), space, checkpoint=path,
                                      **params).fit(X, y)
        complete = len(path.read_bytes().splitlines()) - 1
        assert complete == 36
        assert resumed.n_replayed_fits_ >= 10 - 1
        reference = GeneticSearchCV(module.SlowSVC(), space, **params).fit(X, y)
        same_results(resumed, reference)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("slow_svc", None)


def test_a_truncated_last_record_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "journal.jsonl"
    params = dict(population_size=4, n_iter=8, cv=CV, random_state=0)
    reference = GeneticSearchCV(SVC(), SPACE, checkpoint=path, **params).fit(X, y)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:5]) + lines[5][:25])  # cut in the middle of a record
    with pytest.warns(UserWarning, match="truncated last record"):
        resumed = GeneticSearchCV(SVC(), SPACE, checkpoint=path, **params).fit(X, y)
    assert resumed.n_replayed_fits_ == 4
    same_results(resumed, reference)
    # The cut record was dropped before appending: every line parses again.
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_a_corrupt_record_before_the_last_is_refused(tmp_path):
    path = tmp_path / "journal.jsonl"
    params = dict(population_size=4, n_iter=8, cv=CV, random_state=0)
    GeneticSearchCV(SVC(), SPACE, checkpoint=path, **params).fit(X, y)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = '{"params": "garbage\n'
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match="line 4 is corrupt"):
        GeneticSearchCV(SVC(), SPACE, checkpoint=path, **params).fit(X, y)


@pytest.mark.parametrize("change, what", [
    (dict(X=X * 2), "the data"),
    (dict(estimator=SVC(kernel="linear")), "the estimator"),
    (dict(cv=StratifiedKFold(3, shuffle=True, random_state=1)), "the cross-validation splits"),
    (dict(scoring="balanced_accuracy"), "the scoring"),
])
def test_a_journal_of_another_search_or_other_data_is_refused(tmp_path, change, what):
    path = tmp_path / "journal.jsonl"
    GeneticSearchCV(SVC(), SPACE, population_size=4, n_iter=4, cv=CV, random_state=0,
                    checkpoint=path).fit(X, y)
    before = path.read_bytes()
    data = change.pop("X", X)
    kwargs = dict(population_size=4, n_iter=4, cv=CV, random_state=0, checkpoint=path)
    kwargs.update(change)
    estimator = kwargs.pop("estimator", SVC())
    search = GeneticSearchCV(estimator, SPACE, **kwargs)
    with pytest.raises(ValueError, match=f"belongs to another search: {what}"):
        search.fit(data, y)
    assert path.read_bytes() == before  # never mixed in, never overwritten


def test_a_file_that_is_not_a_journal_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my precious notes\n")
    search = GeneticSearchCV(SVC(), SPACE, n_iter=4, population_size=4, checkpoint=path)
    with pytest.raises(ValueError, match="is not a skautosearch journal"):
        search.fit(X, y)
    assert path.read_text() == "my precious notes\n"


def test_a_checkpoint_in_a_missing_folder_is_an_error_before_any_fit(tmp_path):
    search = GeneticSearchCV(Behaving(mode="raise"), {"c": [1.0, 2.0]}, n_iter=2,
                             population_size=2, elitism=0,
                             checkpoint=tmp_path / "nope" / "journal.jsonl")
    with pytest.raises(ValueError, match="checkpoint=.*does not exist"):
        search.fit(X, y)


def test_a_journal_in_use_by_another_search_is_refused(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    path = tmp_path / "journal.jsonl"
    search = GeneticSearchCV(SVC(), SPACE, n_iter=4, population_size=4, cv=CV,
                             random_state=0, checkpoint=path)
    search.fit(X, y)
    held = open(path, "a+b")
    try:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match="in use by another running search"):
            search.fit(X, y)
    finally:
        held.close()
    assert search.fit(X, y).n_replayed_fits_ == 12  # free again


def test_the_journal_is_json_never_pickle(tmp_path):
    path = tmp_path / "journal.jsonl"
    GeneticSearchCV(SVC(), SPACE, n_iter=4, population_size=4, cv=CV, random_state=0,
                    checkpoint=path).fit(X, y)
    header, *records = [json.loads(line) for line in path.read_text().splitlines()]
    assert header["format"] == "skautosearch-journal"
    assert set(header["fingerprint"]) >= {"estimator", "data", "cv", "scoring"}
    assert {r["split"] for r in records} == {0, 1, 2}
    assert all(isinstance(r["out"]["test_scores"], float) for r in records)


# -- failure isolation ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["genetic", "annealing", "bayes"])
def test_raising_and_nan_candidates_are_recorded_with_a_reason(name):
    space = {"mode": ["ok", "raise", "nan"], "c": [0.5, 1.0]}
    cls = {"genetic": GeneticSearchCV, "annealing": AnnealingSearchCV,
           "bayes": BayesianSearchCV}[name]
    search = cls(Behaving(), space, n_iter=6, cv=CV, random_state=0, error_score=-1.0)
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    res = search.cv_results_
    for params, score, reason in zip(res["params"], res["mean_test_score"],
                                     res["failure_reason"]):
        if params["mode"] == "raise":
            assert score == -1.0 and reason == "RuntimeError: cannot fit this one"
        elif params["mode"] == "nan":
            assert score == -1.0 and reason.startswith("non-finite test score")
        else:
            assert score > 0 and reason == ""
    assert search.best_params_["mode"] == "ok"


def test_a_nan_score_with_error_score_raise_raises():
    search = GeneticSearchCV(Behaving(mode="nan"), {"c": [1.0, 2.0]}, n_iter=2,
                             population_size=2, elitism=0, cv=CV, error_score="raise")
    with pytest.raises(ValueError, match="non-finite test score"):
        search.fit(X, y)


def test_a_candidate_whose_worker_dies_is_recorded_and_the_search_goes_on():
    space = [{"mode": ["ok"], "c": [0.5, 1.0, 2.0]}, {"mode": ["die"], "c": [1.0]}]
    # Two folds: each death restarts a worker, which takes seconds.
    search = GeneticSearchCV(Behaving(), space, n_iter=4, population_size=4, cv=CV2,
                             random_state=0, n_jobs=2, error_score=-1.0)
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    res = search.cv_results_
    assert len(res["params"]) == 4
    for params, score, reason in zip(res["params"], res["mean_test_score"],
                                     res["failure_reason"]):
        if params["mode"] == "die":
            assert score == -1.0 and reason.startswith("worker process died")
        else:
            assert score > 0 and reason == ""


def test_a_dead_worker_with_error_score_raise_raises():
    search = GeneticSearchCV(Behaving(mode="die"), {"c": [1.0]}, n_iter=1,
                             population_size=2, elitism=0, cv=CV2, n_jobs=2,
                             error_score="raise")
    with pytest.raises(RuntimeError, match="worker process died"):
        search.fit(X, y)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_candidate_that_runs_too_long_times_out_and_frees_its_worker(n_jobs):
    space = {"mode": ["ok", "hang"], "c": [0.5, 1.0]}
    search = GeneticSearchCV(Behaving(), space, n_iter=4, population_size=4, cv=CV,
                             random_state=0, n_jobs=n_jobs, candidate_timeout=0.5,
                             error_score=-1.0)
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    res = search.cv_results_
    # The hanging fits (30 s each) were cut, and recorded as such.
    hang = np.array([p["mode"] == "hang" for p in res["params"]])
    assert hang.any() and (res["mean_fit_time"][hang] < 10).all()
    for params, score, reason in zip(res["params"], res["mean_test_score"],
                                     res["failure_reason"]):
        if params["mode"] == "hang":
            assert score == -1.0 and reason.startswith("timed out after 0.5 s")
        else:
            assert score > 0 and reason == ""


def test_a_fit_stuck_where_no_interruption_lands_gets_its_worker_killed():
    space = [{"mode": ["ok"], "c": [0.5, 1.0, 2.0]}, {"mode": ["stuck"], "c": [1.0]}]
    search = GeneticSearchCV(Behaving(), space, n_iter=4, population_size=4, cv=CV,
                             random_state=0, n_jobs=2, candidate_timeout=0.5,
                             error_score=-1.0)
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    res = search.cv_results_
    reasons = dict(zip([p["mode"] for p in res["params"]], res["failure_reason"]))
    assert reasons["stuck"] == "timed out after 0.5 s (worker killed)"
    assert reasons["ok"] == ""


def test_bad_reliability_parameters_are_rejected_before_any_fit():
    with pytest.raises(ValueError, match="candidate_timeout"):
        GeneticSearchCV(Behaving(mode="raise"), {"c": [1.0]}, candidate_timeout=0).fit(X, y)
    with pytest.raises((ValueError, TypeError), match="checkpoint"):
        GeneticSearchCV(Behaving(mode="raise"), {"c": [1.0]}, checkpoint=3).fit(X, y)
