"""The search engine leaves scikit-learn alone and handles the edge cases scikit-learn does
(issue 11, part 2 and defect 5)."""

import pathlib
import re
import signal
import threading
import time

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.model_selection import _search as sk_search
from sklearn.model_selection import _validation as sk_validation
from sklearn.svm import SVC

import skautosearch
from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV, Integer, Real
from skautosearch._deadline import CandidateTimeout, Deadline

X, y = load_iris(return_X_y=True)
CV = StratifiedKFold(3, shuffle=True, random_state=0)
SPACE = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-4, 1e1, prior="log-uniform")}
SEARCHES = {
    "genetic": lambda **kw: GeneticSearchCV(SVC(), SPACE, population_size=4, **kw),
    "annealing": lambda **kw: AnnealingSearchCV(SVC(), SPACE, n_initial_points=4, **kw),
    "bayes": lambda **kw: BayesianSearchCV(SVC(), SPACE, n_initial_points=4, n_points=2, **kw),
}
PACKAGE = pathlib.Path(skautosearch.__file__).parent


# -- scikit-learn is never patched --------------------------------------------------------


def test_no_module_of_the_package_assigns_to_a_scikit_learn_attribute():
    assignment = re.compile(r"^\s*(sklearn|_sk_\w+|sk_\w+)(\.\w+)+\s*=[^=]", re.M)
    setattr_call = re.compile(r"setattr\(\s*(sklearn|_sk_\w+|sk_\w+)\b")
    offenders = [
        str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
        if assignment.search(path.read_text()) or setattr_call.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize("name", SEARCHES)
def test_a_search_leaves_every_scikit_learn_module_as_it_was(name):
    modules = [sk_search, sk_validation]
    before = [dict(vars(module)) for module in modules]
    SEARCHES[name](n_iter=4, cv=CV, random_state=0).fit(X, y)
    for module, snapshot in zip(modules, before):
        changed = [k for k, v in vars(module).items() if snapshot.get(k, object()) is not v]
        assert changed == [], module.__name__


def test_a_users_grid_search_in_another_thread_runs_its_own_fits():
    """A GridSearchCV beside our search must fit its candidates, not get our answers."""
    grid_results = {}

    def run_grid():
        grid = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.01, 1.0]}, cv=CV)
        grid_results["scores"] = grid.fit(X, y).cv_results_["mean_test_score"]

    thread = threading.Thread(target=run_grid)
    thread.start()
    GeneticSearchCV(SVC(), SPACE, n_iter=8, population_size=4, cv=CV, random_state=0).fit(X, y)
    thread.join()
    alone = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.01, 1.0]}, cv=CV).fit(X, y)
    np.testing.assert_array_equal(grid_results["scores"],
                                  alone.cv_results_["mean_test_score"])


def test_the_users_estimator_and_parameters_are_never_rewritten_during_fit():
    seen = []
    estimator = SVC()

    def callback(search, results):
        seen.append((search.estimator, search.n_jobs, search.refit))

    search = GeneticSearchCV(estimator, SPACE, n_iter=8, population_size=4, cv=CV,
                             random_state=0, n_jobs=2, callbacks=[callback])
    search.fit(X, y)
    assert seen and all(s == (estimator, 2, True) for s in seen)


# -- defect 5 -------------------------------------------------------------------------------


def test_a_generator_passed_as_cv_is_used_for_its_folds():
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    search = GeneticSearchCV(SVC(), SPACE, n_iter=4, population_size=4, random_state=0,
                             cv=(fold for fold in folds)).fit(X, y)
    reference = GeneticSearchCV(SVC(), SPACE, n_iter=4, population_size=4, random_state=0,
                                cv=folds).fit(X, y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  reference.cv_results_["mean_test_score"])
    assert search.n_splits_ == 3


@pytest.mark.parametrize("name", SEARCHES)
def test_an_empty_cv_iterator_gets_scikit_learns_message(name):
    with pytest.raises(ValueError, match="No fits were performed. Was the CV iterator empty"):
        SEARCHES[name](n_iter=4, cv=[], random_state=0).fit(X, y)


class Tradeoff(ClassifierMixin, BaseEstimator):
    """Bigger ``k``: a larger model (``size_bytes``) and a better score."""

    def __init__(self, k=1):
        self.k = k

    def fit(self, X, y):
        self.weights_ = np.zeros(int(self.k) * 100)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y):
        return self.k / 100


@pytest.mark.parametrize("name", ["genetic", "annealing", "bayes"])
def test_a_single_objective_guides_the_search(name):
    """objectives={"size_bytes": "min"} searches for small models, not for the score."""
    space = {"k": Integer(1, 100)}
    kwargs = dict(n_iter=16, cv=CV, random_state=0, objectives={"size_bytes": "min"})
    search = {
        "genetic": lambda: GeneticSearchCV(Tradeoff(), space, population_size=4, **kwargs),
        "annealing": lambda: AnnealingSearchCV(Tradeoff(), space, n_initial_points=4,
                                               **kwargs),
        "bayes": lambda: BayesianSearchCV(Tradeoff(), space, n_initial_points=4,
                                          n_points=2, **kwargs),
    }[name]().fit(X, y)
    k = np.array([p["k"] for p in search.cv_results_["params"]])
    # After the 4 initial candidates, the search heads for small k (small models).
    assert np.median(k[4:]) < np.median(k[:4])
    assert search.pareto_front_.table["params"][0]["k"] == k.min()


def test_a_space_that_is_not_exhausted_is_reported_stalled():
    class NoNews(GeneticSearchCV):
        """A strategy that proposes the same genome again and again."""

        def _search(self, ev, rng):
            genome = ev.space.sample(1, rng)
            while not ev.done:
                ev.evaluate(genome, {})

    search = NoNews(SVC(), SPACE, n_iter=10, cv=CV, random_state=0).fit(X, y)
    assert search.stop_reason_ == "stalled"
    assert len(search.cv_results_["params"]) == 1


def test_a_finite_space_fully_visited_is_reported_exhausted():
    search = GeneticSearchCV(SVC(), {"C": [0.1, 1.0, 10.0]}, n_iter=30, population_size=3,
                             cv=CV, random_state=0).fit(X, y)
    assert search.stop_reason_ == "exhausted"
    assert len(search.cv_results_["params"]) == 3


def test_scikit_learn_callbacks_see_every_fit_task():
    callback_module = pytest.importorskip("sklearn.callback")

    class Counter:
        def __init__(self):
            self.begun = []

        def setup(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context, **kwargs):
            self.begun.append(context.task_name)

        def on_fit_task_end(self, estimator, context, **kwargs):
            pass

        def teardown(self, estimator, context):
            pass

    assert isinstance(Counter(), callback_module.FitCallback)
    counts = {}
    for name, search in [
        ("grid", GridSearchCV(SVC(), {"C": [0.1, 1.0, 10.0]}, cv=3)),
        ("genetic", GeneticSearchCV(SVC(), {"C": [0.1, 1.0, 10.0]}, n_iter=3,
                                    population_size=3, cv=3, random_state=0)),
    ]:
        counter = Counter()
        search.set_callbacks(counter)
        search.fit(X, y)
        counts[name] = counter.begun.count("candidate-split-evaluation")
    assert counts == {"grid": 9, "genetic": 9}


# -- the deadline keeps the caller's alarm ---------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_a_deadline_keeps_a_pending_alarm_and_its_handler():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(time.monotonic()))
    try:
        start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with Deadline(5.0, tombstone=None) as deadline:
            time.sleep(0.05)
            deadline.stop()
        # The caller's handler is back, with about the time its alarm had left.
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0.1 < remaining <= 0.3
        assert signal.getsignal(signal.SIGALRM) is not None
        while not fired and time.monotonic() - start < 5:
            time.sleep(0.01)
        assert fired and fired[0] - start >= 0.29
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_a_callers_alarm_due_during_the_fit_still_runs_its_handler():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with Deadline(5.0, tombstone=None) as deadline:
            time.sleep(0.3)  # the caller's alarm comes first, during the fit
            deadline.stop()
        assert fired == [True] and not deadline.expired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_timeout_is_not_swallowed_by_except_exception_in_user_code():
    caught = []
    with pytest.raises(CandidateTimeout):
        with Deadline(0.1, tombstone=None):
            try:
                time.sleep(2)
            except Exception:  # what a user's fit might do
                caught.append(True)
    assert caught == []


def test_the_sklearn_version_under_test_is_supported():
    major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
    assert (1, 6) <= (major, minor)
