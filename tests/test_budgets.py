"""Budgets: successive halving and Hyperband brackets in every search, with continuation
(issue 12)."""

import os

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import SVC

from skautosearch import (
    AnnealingSearchCV,
    BayesianSearchCV,
    GeneticSearchCV,
    Integer,
    Real,
)
from skautosearch._budget import Schedule, promoted
from skautosearch._evaluator import Evaluator
from skautosearch.space import SearchSpace

X, y = load_iris(return_X_y=True)
CV = StratifiedKFold(3, shuffle=True, random_state=0)
FOREST_SPACE = {"max_depth": Integer(1, 8), "max_features": Real(0.2, 1.0)}


def make(name, estimator, space, **kwargs):
    return {
        "genetic": lambda: GeneticSearchCV(estimator, space, population_size=9, **kwargs),
        "annealing": lambda: AnnealingSearchCV(estimator, space, n_initial_points=9,
                                               n_chains=3, **kwargs),
        "bayes": lambda: BayesianSearchCV(estimator, space, n_initial_points=9, n_points=3,
                                          **kwargs),
    }[name]()


STRATEGIES = ["genetic", "annealing", "bayes"]


# -- the schedule ----------------------------------------------------------------------------


@pytest.mark.parametrize("low, high, factor, rungs", [
    (1, 27, 3, [1, 3, 9, 27]),
    (2, 27, 3, [2, 6, 18, 27]),
    (5, 5, 3, [5]),
    (1, 8, 2, [1, 2, 4, 8]),
    (10, 100, 4, [10, 40, 100]),
])
def test_rungs_grow_by_factor_and_end_at_max_resources(low, high, factor, rungs):
    assert Schedule("epochs", low, high, factor).rungs == rungs


def test_brackets_rotate_the_entry_rung():
    schedule = Schedule("epochs", 1, 27, 3)
    assert [schedule.entry_rung(b) for b in range(6)] == [0, 1, 2, 3, 0, 1]
    single = Schedule("epochs", 1, 27, 3, n_brackets=1)
    assert {single.entry_rung(b) for b in range(6)} == {0}


def test_higher_brackets_get_hyperband_s_smaller_shares():
    schedule = Schedule("epochs", 1, 27, 3)  # rungs 1, 3, 9, 27
    assert [schedule.batch_size(b, 8) for b in range(5)] == [8, 4, 2, 1, 8]
    assert [schedule.batch_size(b, 9) for b in range(4)] == [9, 4, 2, 1]
    assert [schedule.batch_size(b, 1) for b in range(4)] == [1, 1, 1, 1]
    single = Schedule("epochs", 1, 27, 3, n_brackets=1)
    assert {single.batch_size(b, 8) for b in range(4)} == {8}


def test_failures_are_never_promoted():
    assert promoted([0.5, -np.inf, 0.9, np.nan, 0.7], 3) == [2, 4, 0]
    assert promoted([-np.inf, np.nan], 1) == []


def test_bohb_s_rule_picks_the_highest_rung_with_enough_candidates():
    space = SearchSpace(FOREST_SPACE)  # two parameters: a rung needs three candidates
    ev = Evaluator(space, trials=None, stopping=None, n_iter=9,
                   schedule=Schedule("n_estimators", 2, 18, 3))
    ev.model_rung = "highest"
    a, b, c, d, e = space.sample(5, np.random.default_rng(0))
    ev.rung_scores = {a: {0: 0.5}, b: {0: 0.6, 1: 0.7}, c: {0: 0.7, 1: 0.8, 2: 0.9},
                      d: {1: 0.75, 2: 0.85}, e: {1: -np.inf}}
    ev.scores = {g: r[max(r)] for g, r in ev.rung_scores.items()}
    # Rung 2 has two candidates, rung 1 four (three finite): the models compare at rung 1.
    assert ev.model_scores == {b: 0.7, c: 0.8, d: 0.75, e: -np.inf}
    ev.rung_scores[a][1] = 0.65
    ev.rung_scores[a][2] = 0.95
    assert ev.model_scores == {a: 0.95, c: 0.9, d: 0.85}
    ev.model_rung = "reached"  # each candidate at the highest rung it reached
    assert ev.model_scores is ev.scores
    few = Evaluator(space, trials=None, stopping=None, n_iter=9,
                    schedule=Schedule("n_estimators", 2, 18, 3))
    few.model_rung = "highest"
    few.rung_scores, few.scores = {a: {0: 0.5}}, {a: 0.5}
    assert few.model_scores is few.scores  # no rung has enough yet


def test_dehb_s_rule_breeds_from_the_best_at_the_children_s_entry_rung():
    space = SearchSpace(FOREST_SPACE)
    ev = Evaluator(space, trials=None, stopping=None, n_iter=9,
                   schedule=Schedule("n_estimators", 2, 18, 3))  # rungs 2, 6, 18
    a, b, c, d, e = space.sample(5, np.random.default_rng(0))
    ev.rung_scores = {a: {0: 0.5}, b: {0: 0.6, 1: 0.7}, c: {0: 0.7, 1: 0.6, 2: 0.9},
                      d: {1: 0.75}, e: {0: np.nan}}
    ev.scores = {g: r[max(r)] for g, r in ev.rung_scores.items()}
    search = GeneticSearchCV(RandomForestClassifier(), FOREST_SPACE, population_size=4,
                             tournament_size=2)
    population = [a, b, c, e]
    scores = ev.scores_of(population)
    # By default the population, each at the highest rung it reached.
    assert search._parents(ev, population, scores)[0] is population
    search._parent_rung = "entry"
    ev.n_batches = 1  # this batch's children start at rung 1
    parents, fitness = search._parents(ev, population, scores)
    # Rung 1's candidates by their rung-1 scores (c, the population's best by its rung-2
    # score, is last of them), then the population's best of the others.
    assert parents == [d, b, c, a]
    assert list(fitness) == [0, -1, -2, -3]
    ev.n_batches = 0  # rung 0: every candidate but d was trained there; a failure last
    assert search._parents(ev, population, scores)[0] == [c, b, a, e]
    ev.schedule = None  # no budgets: the rule does not apply
    assert search._parents(ev, population, scores)[0] is population


def test_with_bohb_s_rule_the_bayesian_surrogate_is_told_one_rung(monkeypatch):
    from skautosearch.bayes import _SubspaceOptimizer

    monkeypatch.setattr(Evaluator, "model_rung", "highest")
    # Every batch's top rung before the next batch, so that the counts below are the rule's.
    monkeypatch.setattr(Evaluator, "defer_top_rung", False)
    told = []
    retell = _SubspaceOptimizer.retell
    monkeypatch.setattr(_SubspaceOptimizer, "retell", lambda self, genomes, scores, worst: (
        told.append([(self.space.decode(g), s) for g, s in zip(genomes, scores)]),
        retell(self, genomes, scores, worst)))
    search = BayesianSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=24,
                              n_initial_points=6, n_points=6, cv=CV, random_state=0,
                              resource="n_estimators", min_resources=2, max_resources=18,
                              n_brackets=1).fit(X, y)
    res = search.cv_results_
    assert len(told) == 3  # before each batch the surrogate proposed
    for points in told:
        budgets = []  # the budgets at which each told (params, score) is a row
        for params, score in points:
            budgets.append({res["n_resources"][i] for i, p in enumerate(res["params"])
                            if {k: v for k, v in p.items() if k != "n_estimators"} == params
                            and res["mean_test_score"][i] == score})
        assert set.intersection(*budgets)  # every point trained alike
        assert len(points) >= 3
    # The rung moves up as more candidates reach the higher rungs: 6 at 2 trees, then
    # the 4 at 6 trees, then the 3 at 18.
    assert [len(points) for points in told] == [6, 4, 3]


# -- searches with budgets -------------------------------------------------------------------


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_budgeted_search_has_a_row_per_candidate_and_budget(name):
    search = make(name, RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=18,
                  cv=CV, random_state=0, resource="n_estimators", min_resources=2,
                  max_resources=18, n_brackets=1).fit(X, y)
    res = search.cv_results_
    assert search.n_resources_ == [2, 6, 18]
    assert list(np.unique(res["n_resources"])) == [2, 6, 18]
    # n_iter counts distinct configurations, each once however many budgets it reached.
    configs = {tuple(sorted((k, v) for k, v in p.items() if k != "n_estimators"))
               for p in res["params"]}
    assert len(configs) == 18
    assert search.n_candidates_[0] == 18 and search.n_candidates_[1] < 18
    for params, budget in zip(res["params"], res["n_resources"]):
        assert params["n_estimators"] == budget
    # Promoted candidates trained only the extra trees: 6 - 2 = 4 per fold.
    at_6 = res["n_resources"] == 6
    assert (res["resources_trained"][at_6] == 4 * 3).all()
    # The best is chosen among the largest budget, and refitted with max_resources.
    assert res["n_resources"][search.best_index_] == 18
    assert search.best_estimator_.n_estimators == 18


def test_continued_forests_score_exactly_as_forests_trained_from_scratch():
    search = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=9,
                             population_size=9, cv=CV, random_state=0, resource="n_estimators",
                             min_resources=2, max_resources=18, n_brackets=1).fit(X, y)
    res = search.cv_results_
    top = np.flatnonzero(res["n_resources"] == 18)
    assert len(top) >= 1
    params = [res["params"][i] for i in top]
    grid = GridSearchCV(RandomForestClassifier(random_state=0),
                        [{k: [v] for k, v in p.items()} for p in params], cv=CV).fit(X, y)
    for i, p in zip(top, params):
        j = grid.cv_results_["params"].index(p)
        for split in range(3):
            key = f"split{split}_test_score"
            assert res[key][i] == grid.cv_results_[key][j]


def test_n_samples_budgets_fit_on_growing_nested_subsets():
    search = GeneticSearchCV(SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")}, n_iter=9,
                             population_size=9, cv=CV, random_state=0, resource="n_samples",
                             min_resources=11, max_resources=99, n_brackets=1).fit(X, y)
    assert search.n_resources_ == [11, 33, 99]
    res = search.cv_results_
    assert (res["resources_trained"][res["n_resources"] == 11] == 11 * 3).all()
    assert "n_samples" not in search.best_params_


def test_budgets_do_not_depend_on_n_jobs():
    kwargs = dict(n_iter=20, population_size=9, cv=CV, random_state=0,
                  resource="n_estimators", min_resources=2, max_resources=18)
    one = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_jobs=1,
                          **kwargs).fit(X, y)
    two = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_jobs=2,
                          **kwargs).fit(X, y)
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"],
                                  two.cv_results_["mean_test_score"])
    assert one.cv_results_["params"] == two.cv_results_["params"]


def _budgets_per_dispatch(monkeypatch):
    """The budgets of each ``Trials.run`` call (one dispatch of fit tasks), in order."""
    from skautosearch._trials import Trials

    calls, run = [], Trials.run
    monkeypatch.setattr(Trials, "run", lambda self, params, more, steps=None: (
        calls.append(sorted({s.budget for s in steps})), run(self, params, more, steps))[1])
    return calls


def test_a_batch_s_top_rung_runs_beside_the_next_batch_s_first_rung(monkeypatch):
    calls = _budgets_per_dispatch(monkeypatch)
    search = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=16,
                             population_size=9, cv=CV, random_state=0, resource="n_estimators",
                             min_resources=2, max_resources=18, n_brackets=1).fit(X, y)
    # Batches of 9 and 7 candidates. The first batch's 18 trees wait for the second
    # batch's 2 trees, so that the workers the lone top candidate leaves free have work;
    # the last top rung runs when the strategy is done.
    assert calls == [[2], [6], [2, 18], [6], [18]]
    res = search.cv_results_
    assert search.n_candidates_ == [16, 3 + 2, 1 + 1]
    for batch in (0, 1):  # each batch still goes all the way up
        assert sorted(set(res["n_resources"][res["batch"] == batch])) == [2, 6, 18]


def test_deferred_candidates_are_scored_at_their_top_rung(monkeypatch):
    evaluators, finish = [], Evaluator.finish
    monkeypatch.setattr(Evaluator, "finish",
                        lambda self: (finish(self), evaluators.append(self)))
    results = []  # what a callback sees after each batch and at the end
    search = AnnealingSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE,
                               n_iter=18, n_initial_points=9, n_chains=3, cv=CV,
                               random_state=0, resource="n_estimators", min_resources=2,
                               max_resources=18, n_brackets=1,
                               callbacks=[lambda s, r: results.append(len(r["params"]))])
    search.fit(X, y)
    ev, res = evaluators[0], search.cv_results_
    top = np.flatnonzero(res["n_resources"] == 18)
    assert len(top) >= 2
    for i in top:  # the strategy's memory holds the top rung's score, not the one below
        assert ev.scores[ev.genomes[i]] == res["mean_test_score"][i]
    assert results[-1] == len(res["params"])  # the callbacks saw the last rung too


def test_deferring_the_top_rung_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(Evaluator, "defer_top_rung", False)
    calls = _budgets_per_dispatch(monkeypatch)
    GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=9,
                    population_size=9, cv=CV, random_state=0, resource="n_estimators",
                    min_resources=2, max_resources=18, n_brackets=1).fit(X, y)
    assert calls == [[2], [6], [18]]


def test_fold_models_are_deleted_when_the_search_ends(tmp_path):
    path = tmp_path / "journal.jsonl"
    GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=9,
                    population_size=9, cv=CV, random_state=0, checkpoint=path,
                    resource="n_estimators", min_resources=2, max_resources=18).fit(X, y)
    assert sorted(os.listdir(tmp_path)) == ["journal.jsonl"]


def test_a_budgeted_search_resumes_from_its_journal(tmp_path):
    path = tmp_path / "journal.jsonl"
    kwargs = dict(n_iter=20, population_size=9, cv=CV, random_state=0,
                  resource="n_estimators", min_resources=2, max_resources=18)
    first = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE,
                            checkpoint=path, **kwargs).fit(X, y)
    again = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE,
                            checkpoint=path, **kwargs).fit(X, y)
    assert again.n_replayed_fits_ == len(first.cv_results_["params"]) * 3
    np.testing.assert_array_equal(first.cv_results_["mean_test_score"],
                                  again.cv_results_["mean_test_score"])


def test_hyperband_brackets_start_later_batches_higher():
    search = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=27,
                             population_size=9, cv=CV, random_state=0, resource="n_estimators",
                             min_resources=2, max_resources=18).fit(X, y)
    res = search.cv_results_
    for batch, entry in zip(range(3), [0, 1, 2]):
        rows = res["batch"] == batch
        assert (res["bracket"][rows] == entry).all()
        assert res["iter"][rows].min() == entry


def _new_per_batch(search):
    """How many new candidates each batch had (rows at the rung their batch entered)."""
    res = search.cv_results_
    entered = res["iter"] == res["bracket"]
    return [int(np.sum(entered & (res["batch"] == b))) for b in range(res["batch"].max() + 1)]


@pytest.mark.parametrize("name, full", [("genetic", 7), ("annealing", 3), ("bayes", 3)])
def test_each_strategy_s_batches_take_their_bracket_s_share(name, full):
    # Rungs 2, 6, 18: a full batch from the lowest rung, 1/2 of it from the middle one,
    # 1/3 from the top (at least one); the first batch is the initial sample.
    search = make(name, RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=27,
                  cv=CV, random_state=0, resource="n_estimators", min_resources=2,
                  max_resources=18).fit(X, y)
    schedule = Schedule("n_estimators", 2, 18, 3)
    sizes = _new_per_batch(search)
    assert sizes[1:-1] == [schedule.batch_size(b, full) for b in range(1, len(sizes) - 1)]
    assert sizes[1:4] == {7: [4, 2, 7], 3: [2, 1, 3]}[full]
    assert sum(sizes) == 27  # the last batch is cut to n_iter
    if name == "annealing":  # the chains take turns
        res = search.cv_results_
        entered = res["iter"] == res["bracket"]
        assert [list(res["chain"][entered & (res["batch"] == b)]) for b in (1, 2, 3)] == [
            [0, 1], [2], [0, 1, 2]]


def test_equal_bracket_sizes_can_be_switched_back(monkeypatch):
    monkeypatch.setattr(Evaluator, "bracket_sizes", "equal")
    search = make("bayes", RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=9,
                  cv=CV, random_state=0, resource="n_estimators", min_resources=2,
                  max_resources=18).fit(X, y)
    assert _new_per_batch(search) == [3, 3, 3]


def test_a_genetic_step_with_few_children_keeps_the_population_s_size():
    from types import SimpleNamespace

    search = GeneticSearchCV(SVC(), {"C": Real(1, 2)}, population_size=5, elitism=1)
    ev = SimpleNamespace(scores={"a": 0.9, "b": 0.5, "c": 0.7, "d": 0.1, "e": 0.3, "x": 0.2})
    population, scores = search._next_population(
        ev, ["a", "b", "c", "d", "e"], np.array([0.9, 0.5, 0.7, 0.1, 0.3]), ["x"],
        np.array([0.2]))
    assert population == ["a", "c", "b", "e", "x"]  # elite, old best, the child
    np.testing.assert_array_equal(scores, [0.9, 0.7, 0.5, 0.3, 0.2])
    full, _ = search._next_population(ev, ["a", "b", "c", "d", "e"], np.zeros(5),
                                      ["v", "w", "x", "y"], np.zeros(4))
    assert full == ["a", "v", "w", "x", "y"]  # a full generation: elites and children
    # A child that is now the best is an elite: one place, the old population's best
    # gets the other.
    ev.scores["v"] = 1.0
    full, full_scores = search._next_population(
        ev, ["a", "b", "c", "d", "e"], np.array([0.9, 0.5, 0.7, 0.1, 0.3]),
        ["v", "w", "x", "y"], np.array([1.0, 0.0, 0.2, 0.0]))
    assert full == ["v", "a", "w", "x", "y"]
    np.testing.assert_array_equal(full_scores, [1.0, 0.9, 0.0, 0.2, 0.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(resource="n_trees"), "resource='n_trees' is neither"),
    (dict(resource="n_estimators", min_resources=20, max_resources=10),
     "min_resources=20 must be <= max_resources=10"),
    (dict(min_resources=2), "min_resources needs resource"),
    (dict(resource="max_depth"), "also a parameter of the search space"),
    (dict(resource="n_samples", max_resources=10_000), "more than the 100 training rows"),
])
def test_bad_budget_settings_are_refused_before_any_fit(kwargs, match):
    search = GeneticSearchCV(RandomForestClassifier(max_depth=3), FOREST_SPACE, n_iter=4,
                             cv=CV, random_state=0, **kwargs)
    with pytest.raises(ValueError, match=match):
        search.fit(X, y)
    assert not hasattr(search, "cv_results_")


@pytest.mark.keras
def test_keras_epochs_continue_from_the_previous_rung():
    pytest.importorskip("tensorflow")
    from skautosearch.keras import KerasClassifier, build_mlp

    digits_X, digits_y = load_digits(return_X_y=True)
    digits_X = digits_X[:300] / 16.0
    digits_y = digits_y[:300]
    model = KerasClassifier(build_mlp, loss="sparse_categorical_crossentropy", epochs=4,
                            verbose=0, random_state=0)
    search = GeneticSearchCV(model, {"model__hidden_units": [8, 16, 32]}, n_iter=3,
                             population_size=3, cv=StratifiedKFold(2), random_state=0,
                             resource="epochs", min_resources=1, max_resources=4,
                             n_brackets=1).fit(digits_X, digits_y)
    res = search.cv_results_
    assert search.n_resources_ == [1, 3, 4]
    continued = res["n_resources"] > 1
    budgets = res["n_resources"][continued]
    previous = np.where(budgets == 3, 1, 3)
    assert (res["resources_trained"][continued] == (budgets - previous) * 2).all()
    assert search.best_estimator_.epochs == 4


def test_plot_budgets_draws_a_line_per_candidate_through_its_rungs():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from skautosearch.plot import plot_budgets

    search = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=9,
                             population_size=9, cv=CV, random_state=0, resource="n_estimators",
                             min_resources=2, max_resources=18, n_brackets=1).fit(X, y)
    ax = plot_budgets(search)
    assert len(ax.lines) == 9  # one per distinct configuration
    red = [line for line in ax.lines if line.get_label() == "chosen"]
    assert len(red) == 1 and red[0].get_xdata()[-1] == 18
    assert ax.get_xlabel() == "budget (n_estimators)"
    with pytest.raises(ValueError, match="n_resources"):
        plot_budgets(GeneticSearchCV(RandomForestClassifier(), FOREST_SPACE, n_iter=3,
                                     population_size=3, cv=CV).fit(X, y))


def test_the_progress_bar_of_a_budgeted_search_counts_resource_units():
    import io

    from skautosearch._progress import ProgressCallback

    out = io.StringIO()
    bar = ProgressCallback(file=out)
    search = GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=9,
                             population_size=9, cv=CV, random_state=0, resource="n_estimators",
                             min_resources=2, max_resources=18, n_brackets=1,
                             callbacks=[bar]).fit(X, y)
    bar.close()
    assert bar.n_fits_ == search.cv_results_["resources_trained"].sum()
    assert "n_estimators" in out.getvalue()


def test_the_genetic_search_breeds_from_its_population_s_current_scores(monkeypatch):
    # A generation's top rung is deferred and runs beside the next generation's
    # children. A generation with Hyperband's smaller share of children keeps some of
    # the old population, whose scores must then be those of the top rung.
    seen = []  # (population, the scores it was bred from, the evaluator's scores then)
    breed = GeneticSearchCV._breed

    def spy(self, ev, population, scores, rng, n_children):
        seen.append((list(population), np.array(scores), ev.scores_of(population)))
        return breed(self, ev, population, scores, rng, n_children)

    monkeypatch.setattr(GeneticSearchCV, "_breed", spy)
    GeneticSearchCV(RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=30,
                    population_size=9, elitism=1, cv=CV, random_state=0,
                    resource="n_estimators", min_resources=2, max_resources=18).fit(X, y)
    assert len(seen) >= 3
    for _, bred_from, current in seen:
        np.testing.assert_array_equal(bred_from, current)


def test_the_bayesian_surrogate_learns_the_deferred_top_rung_s_scores(monkeypatch):
    from skautosearch.bayes import _SubspaceOptimizer

    evaluators, told = [], []  # what the optimiser holds after each tell, and ev's memory
    evaluate, tell = Evaluator.evaluate, _SubspaceOptimizer.tell
    monkeypatch.setattr(Evaluator, "evaluate", lambda self, *args: (
        evaluators.append(self), evaluate(self, *args))[1])

    def spy(self, genomes, scores, worst):
        tell(self, genomes, scores, worst)
        memory = evaluators[0].scores
        told.append((list(self.scores), [memory.get(g, -np.inf) for g in self.told]))

    monkeypatch.setattr(_SubspaceOptimizer, "tell", spy)
    make("bayes", RandomForestClassifier(random_state=0), FOREST_SPACE, n_iter=21, cv=CV,
         random_state=0, resource="n_estimators", min_resources=2, max_resources=18,
         n_brackets=1).fit(X, y)
    assert len(told) >= 3
    for scores, memory in told:
        np.testing.assert_array_equal(np.nan_to_num(scores, nan=-np.inf), memory)
