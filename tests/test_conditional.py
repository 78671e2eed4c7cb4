"""Conditional search spaces: parameters that exist only when others take some values."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, ParameterGrid, StratifiedKFold
from sklearn.svm import SVC

from skautosearch import (
    AnnealingSearchCV,
    BayesianSearchCV,
    Conditional,
    GeneticSearchCV,
    Integer,
    Real,
)
from skautosearch._base import BaseSequentialSearchCV
from skautosearch.space import SearchSpace, to_param_grid

X, y = load_iris(return_X_y=True)
CV = StratifiedKFold(3, shuffle=True, random_state=0)
STRATEGIES = {
    "genetic": (GeneticSearchCV, dict(population_size=4)),
    "annealing": (AnnealingSearchCV, dict(n_chains=2, n_initial_points=4)),
    "bayes": (BayesianSearchCV, dict(n_points=2, n_initial_points=4)),
}

# n_layers 1-3; units_2 only with 2 or more layers; act_2 only when units_2 is 16.
CHAINED = {
    "n_layers": [1, 2, 3],
    "units_2": Conditional([8, 16], when={"n_layers": lambda n: n >= 2}),
    "act_2": Conditional(["relu", "tanh"], when={"units_2": [16]}),
}


def make(name, estimator, space, **kwargs):
    cls, defaults = STRATEGIES[name]
    params = {"n_iter": 10, "cv": CV, "random_state": 0, **defaults, **kwargs}
    return cls(estimator, space, **params)


def rng(seed=0):
    return np.random.default_rng(seed)


class Spy(ClassifierMixin, BaseEstimator):
    """Records the parameters each fit received; its score is a function of them.

    A parameter left at None was never set: the search did not pass it.
    """

    received = []

    def __init__(self, kind=None, width=None, depth=None, extra=None, leaf=None):
        self.kind = kind
        self.width = width
        self.depth = depth
        self.extra = extra
        self.leaf = leaf

    def fit(self, X, y):
        type(self).received.append(
            {k: v for k, v in self.get_params().items() if v is not None}
        )
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y):
        value = {"a": 0.1, "b": 0.2}[self.kind] + 0.01 * (self.width or 0)
        return value + 0.05 * (self.depth or 0) + 0.02 * (self.extra or 0)


SPY_SPACE = {
    "kind": ["a", "b"],
    "width": Conditional(Integer(1, 5), when={"kind": "b"}),
    "depth": Integer(1, 3),
    "extra": Conditional([1, 2, 3], when={"depth": lambda d: d >= 2}),
    "leaf": Conditional(Real(0.0, 1.0), when={"extra": [3], "kind": ["a"]}),
}


def spy_active(params):
    """The parameters SPY_SPACE makes active for these values."""
    names = {"kind", "depth"}
    if params["kind"] == "b":
        names.add("width")
    if params["depth"] >= 2:
        names.add("extra")
        if params["extra"] == 3 and params["kind"] == "a":
            names.add("leaf")
    return names


@pytest.fixture
def spy():
    Spy.received = []
    return Spy


# ------------------------------------------------------------------ the space


def test_sampled_genomes_hold_no_value_for_inactive_parameters():
    space = SearchSpace(CHAINED)
    seen = set()
    for genome in space.sample(60, rng()):
        params = space.decode(genome)
        assert ("units_2" in params) == (params["n_layers"] >= 2)
        assert ("act_2" in params) == (params.get("units_2") == 16)
        assert all((code is None) == (name not in params)
                   for name, code in zip(CHAINED, genome[1]))
        assert space.canonical(genome) == genome
        seen.add(tuple(sorted(params)))
    assert seen == {("n_layers",), ("n_layers", "units_2"), ("act_2", "n_layers", "units_2")}


def test_size_counts_each_architecture_once():
    # n_layers=1: 1; n_layers 2 or 3: units_2=8 (1) or 16 with two activations (2).
    assert SearchSpace(CHAINED).size() == 1 + 2 * (1 + 2)
    assert SearchSpace([CHAINED, {"n_layers": [0]}]).size() == 8
    assert SearchSpace({**CHAINED, "lr": Real(0.1, 1.0)}).size() == np.inf


def _every_candidate(space):
    """Every distinct candidate of a finite space, by brute force over its values."""
    structure = SearchSpace(space)
    params = structure.subspaces[0]
    found = set()
    for combination in ParameterGrid({p.name: list(p.codes()) for p in params}):
        genome = structure.canonical((0, tuple(combination[p.name] for p in params)))
        found.add(tuple(sorted(structure.decode(genome).items())))
    return found


@pytest.mark.parametrize("space", [
    CHAINED,
    {"a": [1, 2]},
    {"kernel": ["linear", "poly", "rbf"], "C": [1, 10],
     "degree": Conditional(Integer(2, 4), when={"kernel": "poly"}),
     "gamma": Conditional([0.1, 1], when={"kernel": lambda k: k != "linear"})},
    {"n": [1, 2, 3, 4], "f_1": [8], "f_2": Conditional([8, 16], when={"n": lambda n: n >= 2}),
     "f_3": Conditional([8, 16], when={"n": [3, 4]})},
])
def test_to_param_grid_lists_each_candidate_once_without_inactive_parameters(space):
    grids = to_param_grid(space)
    candidates = [tuple(sorted(c.items())) for c in ParameterGrid(grids)]
    assert len(candidates) == len(set(candidates)) == SearchSpace(space).size()
    assert set(candidates) == _every_candidate(space)


def test_to_param_grid_joins_neighbouring_grids_and_refuses_a_continuous_dimension():
    grids = to_param_grid({"n": [1, 2, 3], "f": Conditional([8, 16], when={"n": [2, 3]})})
    assert grids == [{"n": [1]}, {"n": [2, 3], "f": [8, 16]}]
    with pytest.raises(ValueError, match=r"\['lr'\] is continuous"):
        to_param_grid({"n": [1, 2], "lr": Conditional(Real(0.1, 1), when={"n": [2]})})


def test_grid_search_over_to_param_grid_masks_inactive_parameters():
    space = {"kernel": ["linear", "poly"], "degree": Conditional([2, 3], when={"kernel": "poly"})}
    search = GridSearchCV(SVC(), to_param_grid(space), cv=CV).fit(X, y)
    degree = search.cv_results_["param_degree"]
    kernels = list(search.cv_results_["param_kernel"])
    assert list(np.ma.getmaskarray(degree)) == [k == "linear" for k in kernels]
    assert len(kernels) == 3


def test_canonical_forgets_inactive_values_and_refuses_missing_active_ones():
    space = SearchSpace(CHAINED)
    # n_layers=1 (code 0): units_2 and act_2 are inactive whatever they hold.
    assert space.canonical((0, (0, 1, 1))) == (0, (0, None, None))
    assert space.canonical((0, (0, 0, 0))) == (0, (0, None, None))
    assert space.canonical((0, (1, 0, 1))) == (0, (1, 0, None))
    assert space.active((0, (2, 1, 0))) == [True, True, True]
    with pytest.raises(ValueError, match="no value for 'units_2'"):
        space.canonical((0, (2, None, None)))


def test_mutation_moves_active_genes_only_and_fills_what_it_activates():
    space = SearchSpace({**CHAINED, "lr": Real(0.0, 1.0)})
    start = (0, (0, None, None, 0.5))  # one layer: only n_layers and lr are active
    n_layers_moved = 0
    for seed in range(200):
        child = space.mutate(start, rng(seed), probability=1.0, scale=0.1)
        assert space.canonical(child) == child
        n_layers, units, act, _ = child[1]
        assert (units is not None) == (n_layers >= 1)
        assert (act is not None) == (units == 1)
        n_layers_moved += n_layers != 0
    assert n_layers_moved > 0
    # A child of a 3-layer genome that drops to 1 layer forgets units_2 and act_2.
    children = [space.mutate((0, (2, 1, 0, 0.5)), rng(s), probability=1.0, scale=0.1)
                for s in range(100)]
    assert any(c[1][:3] == (0, None, None) for c in children)


def test_crossover_keeps_each_parents_sub_tree_whole():
    space = SearchSpace({
        "n_blocks": [1, 2, 3],
        "f_1": Conditional([0, 1, 2, 3], when={"n_blocks": [2, 3]}),
        "f_2": Conditional([0, 1, 2, 3], when={"n_blocks": [3]}),
        "lr": [0, 1, 2, 3],
    })
    three = (0, (2, 1, 1, 1))  # n_blocks=3, every gene 1
    two = (0, (1, 2, None, 2))  # n_blocks=2, every active gene 2
    for seed in range(50):
        for child in space.crossover(three, two, rng(seed)):
            assert space.canonical(child) == child
            n_blocks, f_1, f_2, _ = child[1]
            # The block genes come from the parent whose n_blocks the child has.
            assert (f_1, f_2) == ((1, 1) if n_blocks == 2 else (2, None))
    # Parents of the same structure exchange block genes one by one.
    a, b = (0, (2, 1, 1, 1)), (0, (2, 2, 2, 2))
    children = [c for s in range(50) for c in space.crossover(a, b, rng(s))]
    assert {(c[1][1], c[1][2]) for c in children} == {(1, 1), (1, 2), (2, 1), (2, 2)}


def test_blend_crossover_keeps_each_parents_sub_tree_whole():
    space = SearchSpace({
        "n_blocks": [1, 2, 3],
        "f_1": Conditional(Integer(1, 100), when={"n_blocks": [2, 3]}),
        "lr": Real(0.0, 1.0),
    })
    three, two = (0, (2, 10, 0.2)), (0, (1, 90, 0.8))
    for seed in range(50):
        for child in space.crossover(three, two, rng(seed), blend=0.5):
            n_blocks, f_1, lr = child[1]
            # The parents' structures differ: f_1 goes with n_blocks, unblended ...
            assert f_1 == (10 if n_blocks == 2 else 90)
            # ... while a gene outside the sub-tree is blended.
            assert 0.0 <= lr <= 1.0
    lrs = {c[1][2] for s in range(20) for c in space.crossover(three, two, rng(s), blend=0.5)}
    assert len(lrs) > 2
    # Same structure: the block's gene is blended too.
    a, b = (0, (2, 10, 0.5)), (0, (2, 90, 0.5))
    f_1s = {c[1][1] for s in range(20) for c in space.crossover(a, b, rng(s), blend=0.5)}
    assert len(f_1s) > 5 and all(1 <= f <= 100 for f in f_1s)


@pytest.mark.parametrize(
    "space, match",
    [
        ({"a": [1], "b": Conditional([1], when={"c": [1]})},
         r"param_distributions\['b'\]: the condition names 'c', which is not a parameter"),
        ({"a": Conditional([1], when={"b": [1]}), "b": Conditional([1], when={"a": [1]})},
         "the conditions form a cycle: 'a' when \\['b'\\], 'b' when \\['a'\\]"),
        ({"a": Conditional([1], when={"a": [1]})}, "cannot be conditional on itself"),
        ({"a": [1], "b": Conditional([1], when={})}, r"\['b'\]: a Conditional's when must be"),
        ({"a": [1], "b": Conditional([1], when=["a"])}, "non-empty dict"),
        ({"a": [1], "b": Conditional([1], when={"a": []})}, r"when\['a'\] is empty"),
        ({"a": [1], "b": Conditional(Conditional([1], when={"a": [1]}), when={"a": [1]})},
         "Conditional of a Conditional"),
        ({"a": [1, "x"], "b": Conditional([1], when={"a": lambda v: v > 0})},
         r"\['b'\]: the condition on 'a' raised TypeError.* for a='x'"),
        ({"a": [1], "b": Conditional([], when={"a": [1]})}, r"\['b'\] is an empty list"),
        ([{"a": [1]}, {"b": Conditional([1], when={"a": [1]})}],
         r"param_distributions\[1\]\['b'\]: the condition names 'a'"),
    ],
)
def test_bad_conditions_raise_naming_the_parameter(space, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace(space)


# ------------------------------------------------------------------ the searches


@pytest.mark.parametrize("name", STRATEGIES)
def test_inactive_parameters_are_never_passed_to_the_estimator(name, spy):
    search = make(name, spy(), SPY_SPACE, n_iter=12).fit(X, y)
    for params in search.cv_results_["params"]:
        assert set(params) == spy_active(params)
    assert len(spy.received) == 12 * 3 + 1
    for params in spy.received:
        assert set(params) == spy_active(params)
    assert set(search.best_params_) == spy_active(search.best_params_)


@pytest.mark.parametrize("name", STRATEGIES)
def test_candidates_hold_their_active_parameters_only(name, spy):
    search = make(name, spy(), SPY_SPACE, n_iter=12).fit(X, y)
    for params in search.cv_results_["params"]:
        assert set(params) == spy_active(params)
    assert set(search.best_params_) == spy_active(search.best_params_)
    assert set(search.best_estimator_.get_params()) - set(search.best_params_) == {
        name for name, value in search.best_estimator_.get_params().items() if value is None
    }


@pytest.mark.parametrize("name", STRATEGIES)
def test_candidates_differing_only_in_inactive_values_are_fitted_once(name, spy):
    space = {"kind": ["a", "b"], "width": Conditional([1, 2, 3], when={"kind": ["b"]})}
    search = make(name, spy(), space, n_iter=20).fit(X, y)
    params = search.cv_results_["params"]
    assert sorted(tuple(sorted(p.items())) for p in params) == [
        (("kind", "a"),),
        (("kind", "b"), ("width", 1)),
        (("kind", "b"), ("width", 2)),
        (("kind", "b"), ("width", 3)),
    ]
    assert search.stop_reason_ == "exhausted"
    assert len(spy.received) == 4 * 3 + 1  # 4 candidates x 3 folds + refit


@pytest.mark.parametrize("name", STRATEGIES)
def test_cv_results_mask_inactive_parameters_as_scikit_learn_does(name):
    space = {
        "kernel": ["linear", "poly", "rbf"],
        "C": Real(1e-2, 1e2, prior="log-uniform"),
        "degree": Conditional(Integer(2, 4), when={"kernel": ["poly"]}),
        "gamma": Conditional(Real(1e-3, 1.0, prior="log-uniform"),
                             when={"kernel": lambda k: k != "linear"}),
    }
    search = make(name, SVC(), space, n_iter=12).fit(X, y)
    res = search.cv_results_
    kernels = list(res["param_kernel"])
    assert set(kernels) == {"linear", "poly", "rbf"}
    np.testing.assert_array_equal(np.ma.getmaskarray(res["param_degree"]),
                                  [k != "poly" for k in kernels])
    np.testing.assert_array_equal(np.ma.getmaskarray(res["param_gamma"]),
                                  [k == "linear" for k in kernels])
    assert not np.ma.getmaskarray(res["param_C"]).any()
    assert search.best_score_ > 0.9


@pytest.mark.parametrize("name", STRATEGIES)
def test_chained_conditions_in_every_search(name, spy):
    space = {
        "kind": ["a", "b"],
        "depth": Integer(1, 3),
        "extra": Conditional([1, 2, 3], when={"depth": [2, 3]}),
        "leaf": Conditional([0.1, 0.9], when={"extra": [3]}),
    }
    search = make(name, spy(), space, n_iter=14).fit(X, y)
    rows = search.cv_results_["params"]
    assert any("leaf" in p for p in rows) and any("extra" in p and "leaf" not in p for p in rows)
    for p in rows:
        assert ("extra" in p) == (p["depth"] >= 2)
        assert ("leaf" in p) == (p.get("extra") == 3)
    keys = [tuple(sorted(p.items())) for p in rows]
    assert len(keys) == len(set(keys)) == 14


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_conditional_in_one_of_several_sub_spaces(name):
    space = [
        {"kernel": ["linear"], "C": Real(1e-2, 1e2, prior="log-uniform")},
        {"kernel": ["poly", "rbf"], "C": Real(1e-2, 1e2, prior="log-uniform"),
         "degree": Conditional([2, 3], when={"kernel": "poly"})},
    ]
    search = make(name, SVC(), space, n_iter=10).fit(X, y)
    for p in search.cv_results_["params"]:
        assert ("degree" in p) == (p["kernel"] == "poly")


@pytest.mark.parametrize("name", STRATEGIES)
def test_bad_conditions_raise_before_any_fit(name, spy):
    bad = {"kind": ["a"], "width": Conditional([1, 2], when={"knd": ["a"]})}
    with pytest.raises(ValueError, match="the condition names 'knd'"):
        make(name, spy(), bad).fit(X, y)
    cycle = {"kind": Conditional(["a"], when={"width": [1]}),
             "width": Conditional([1], when={"kind": ["a"]})}
    with pytest.raises(ValueError, match="cycle"):
        make(name, spy(), cycle).fit(X, y)
    assert spy.received == []


def test_an_unknown_conditional_parameter_name_is_refused_before_any_fit(spy):
    space = {"kind": ["a", "b"], "wdth": Conditional([1, 2], when={"kind": ["b"]})}
    with pytest.raises(ValueError, match="Invalid parameter 'wdth'"):
        make("genetic", spy(), space).fit(X, y)
    assert spy.received == []


def test_same_search_with_the_same_seed_and_a_clone_of_it(spy):
    first = make("genetic", spy(), SPY_SPACE, n_iter=8).fit(X, y)
    second = make("genetic", spy(), SPY_SPACE, n_iter=8).fit(X, y)
    assert first.cv_results_["params"] == second.cv_results_["params"]


class _TwoRawGenomes(BaseSequentialSearchCV):
    """Evaluates two genomes that differ only in an inactive value, not canonicalised."""

    def __init__(self, estimator, param_distributions, *, n_iter=4, cv=None):
        super().__init__(estimator, param_distributions, n_iter=n_iter, cv=cv)

    def _search(self, ev, rng):
        ev.evaluate([(0, (0, 0)), (0, (0, 1))], {})


def test_the_engine_treats_genomes_differing_only_in_inactive_values_as_one(spy):
    space = {"kind": ["a", "b"], "width": Conditional([1, 2], when={"kind": ["b"]})}
    search = _TwoRawGenomes(spy(), space, cv=CV).fit(X, y)
    assert len(search.cv_results_["params"]) == 1


# ------------------------------------------------------------------ the surrogate


def test_the_bayesian_surrogate_sees_one_fixed_value_for_inactive_dimensions():
    from skopt.space import Space
    from skopt.utils import normalize_dimensions

    from skautosearch.bayes import _InactiveColumns

    space = SearchSpace({
        "kernel": ["linear", "poly"],
        "degree": Conditional(Integer(2, 5), when={"kernel": ["poly"]}),
        "C": Real(1.0, 2.0),
    })
    dims = normalize_dimensions([p.skopt_dimension() for p in space.subspaces[0]]).dimensions
    skopt_space = Space(dims)
    points = [[0, 3, 1.5], [1, 3, 1.5], [0, 5, 1.25]]  # kernel by category index
    X = skopt_space.transform(points)
    imputed = _InactiveColumns(space, 0, skopt_space).impute(X)
    degree = 1  # kernel (2 categories) takes one column, then degree, then C
    assert imputed[0, degree] == imputed[2, degree] == -1.0
    assert imputed[1, degree] == X[1, degree] != -1.0
    np.testing.assert_array_equal(np.delete(imputed, degree, axis=1),
                                  np.delete(X, degree, axis=1))


@pytest.mark.parametrize("surrogate", ["GP", "RF"])
def test_the_bayesian_surrogate_sees_candidates_by_their_active_values(surrogate):
    from skautosearch.bayes import _SubspaceOptimizer

    space = SearchSpace({
        "kernel": ["linear", "poly"],
        "degree": Conditional(Integer(2, 5), when={"kernel": ["poly"]}),
        "C": Real(1.0, 2.0),
    })
    opt = _SubspaceOptimizer(space, 0, rng(), surrogate, n_initial_points=2,
                             acq_optimizer="sampling", acq_optimizer_kwargs={"n_points": 100})
    # The score grows with the degree of a polynomial kernel.
    genomes = [(0, (0, None, c)) for c in (1.1, 1.5, 1.9)]
    genomes += [(0, (1, d, c)) for d in (2, 3, 4, 5) for c in (1.2, 1.6)]
    opt.tell(genomes, [0.5] * 3 + [0.1 * d for d in (2, 2, 3, 3, 4, 4, 5, 5)], worst=0.1)
    model, transform = opt.optimizer.models[-1], opt.optimizer.space.transform
    # Linear kernels (index 0) with any degree are one candidate: one prediction.
    linear = model.predict(transform([[0, 2, 1.5], [0, 5, 1.5]]))
    assert linear[0] == linear[1]
    poly = model.predict(transform([[1, 2, 1.2], [1, 5, 1.2]]))
    assert poly[0] != poly[1]
    for genome in opt.ask(4):
        assert space.canonical(genome) == genome
