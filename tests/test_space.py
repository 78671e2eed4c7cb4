import math

import numpy as np
import pytest
from scipy import stats

from skautosearch import Categorical, Integer, Real
from skautosearch.space import SearchSpace


def rng():
    return np.random.default_rng(0)


def test_every_kind_of_value_is_parsed_and_sampled_within_its_support():
    space = SearchSpace({
        "choice": ["a", "b", "c"],
        "cat": Categorical([1, 2], prior=[0.9, 0.1]),
        "real": Real(1e-3, 1e3, prior="log-uniform"),
        "int": Integer(1, 5),
        "tuple": (0.0, 1.0),
        "uniform": stats.uniform(0, 2),
        "normal": stats.norm(0, 1),
        "randint": stats.randint(3, 7),
    })
    for genome in space.sample(50, rng()):
        p = space.decode(genome)
        assert p["choice"] in "abc" and p["cat"] in (1, 2)
        assert 1e-3 <= p["real"] <= 1e3 and isinstance(p["real"], float)
        assert p["int"] in range(1, 6) and isinstance(p["int"], int)
        assert 0 <= p["tuple"] <= 1 and 0 <= p["uniform"] <= 2
        assert math.isfinite(p["normal"])
        assert p["randint"] in range(3, 7) and isinstance(p["randint"], int)


def test_latin_hypercube_sampling_follows_a_log_uniform_prior():
    space = SearchSpace({"C": Real(1e-4, 1e4, prior="log-uniform")})
    values = [space.decode(g)["C"] for g in space.sample(400, rng())]
    decades = np.histogram(np.log10(values), bins=8, range=(-4, 4))[0]
    # A Latin hypercube puts exactly n / 8 points in each of 8 equal bins.
    assert decades.min() >= 45 and decades.max() <= 55


def test_mutation_respects_type_and_prior():
    space = SearchSpace({"C": Real(1e-4, 1e4, prior="log-uniform"), "n": Integer(1, 100),
                         "kind": ["x", "y", "z"]})
    start = (0, (1.0, 50, 0))
    for seed in range(100):
        child = space.mutate(start, np.random.default_rng(seed), probability=1.0, scale=0.05)
        c, n, kind = child[1]
        # A step of 0.05 of the 8-decade log range moves C by a factor, not an amount.
        assert 1e-4 <= c <= 1e4 and 0.01 < c < 100
        assert isinstance(n, int) and n != 50 and abs(n - 50) <= 30
        assert kind != 0  # a categorical mutation always picks another category


def test_mutation_of_an_unbounded_distribution_stays_finite():
    space = SearchSpace({"x": stats.norm(0, 1)})
    genome = (0, (3.0,))
    generator = rng()
    for _ in range(100):
        genome = space.mutate(genome, generator, probability=1.0, scale=0.5)
        assert math.isfinite(genome[1][0])


def test_size_counts_finite_spaces_and_sub_spaces():
    assert SearchSpace([{"a": [1, 2, 3], "b": Integer(1, 2)}, {"c": [1]}]).size() == 7
    assert SearchSpace({"a": [1, 2], "x": Real(0, 1)}).size() == math.inf


def test_crossover_mixes_genes_but_not_sub_spaces():
    space = SearchSpace([{"a": [1, 2], "b": [1, 2], "c": [1, 2]}, {"d": [1, 2]}])
    first, second = (0, (0, 0, 0)), (0, (1, 1, 1))
    children = [space.crossover(first, second, np.random.default_rng(i)) for i in range(20)]
    assert any(c1[1] not in (first[1], second[1]) for c1, _ in children)
    for c1, c2 in children:  # genes are exchanged, never lost
        assert all(x + y == 1 for x, y in zip(c1[1], c2[1]))
    other = (1, (0,))
    assert space.crossover(first, other, rng()) == (first, other)


def test_blend_crossover_draws_numeric_genes_around_the_parents_and_swaps_the_rest():
    space = SearchSpace({"x": Real(0.0, 1.0), "n": Integer(0, 100), "kind": ["a", "b"]})
    first, second = (0, (0.4, 40, 0)), (0, (0.6, 60, 1))
    xs = []
    for seed in range(200):
        for child in space.crossover(first, second, np.random.default_rng(seed), blend=0.5):
            x, n, kind = child[1]
            # BLX-0.5: the parents' interval widened by half its length on each side.
            assert 0.3 <= x <= 0.7 and 30 <= n <= 70 and isinstance(n, int)
            xs.append(x)
        assert {c[1][2] for c in space.crossover(first, second, np.random.default_rng(seed),
                                                 blend=0.5)} == {0, 1}
    assert len(set(xs)) > 300  # new values, not the parents' two
    assert min(xs) < 0.35 and max(xs) > 0.65
    # Without blending, values are only exchanged.
    swapped = {c[1][0] for s in range(20)
               for c in space.crossover(first, second, np.random.default_rng(s))}
    assert swapped == {0.4, 0.6}


def test_mutating_all_numeric_genes_moves_each_by_a_shorter_step():
    space = SearchSpace({name: Real(0.0, 1.0) for name in "abcd"} | {"kind": ["x", "y"]})
    start = (0, (0.5, 0.5, 0.5, 0.5, 0))
    steps = []
    for seed in range(300):
        child = space.mutate(start, np.random.default_rng(seed), probability=0.0,
                             scale=0.2, numeric="all")
        *xs, kind = child[1]
        assert all(x != 0.5 for x in xs) and kind == 0  # every number moves, no category
        steps.extend(np.subtract(xs, 0.5))
    # scale / sqrt(4 numeric genes) per gene: the whole move is about ``scale`` long.
    assert np.std(steps) == pytest.approx(0.1, rel=0.1)
    # A space of categories only still changes one gene.
    only = SearchSpace({"kind": ["x", "y"]})
    assert only.mutate((0, (0,)), rng(), probability=0.0, scale=0.2, numeric="all") == (0, (1,))


@pytest.mark.parametrize(
    "space, match",
    [
        ({}, "non-empty dict"),
        ([], "non-empty dict or a non-empty list"),
        ({"C": []}, r"param_distributions\['C'\] is an empty list"),
        ({"C": (10.0, 1.0)}, r"param_distributions\['C'\].*low must be less than high"),
        ({"C": (1.0, 1.0)}, "low must be less than high"),
        ([{"C": [1]}, {}], r"param_distributions\[1\] must be a non-empty dict"),
    ],
)
def test_bad_spaces_raise_value_error_naming_the_parameter(space, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace(space)


def test_unsupported_value_type_names_parameter_and_type():
    with pytest.raises(TypeError, match=r"param_distributions\['C'\] is 1.0 of type float"):
        SearchSpace({"C": 1.0})
    with pytest.raises(TypeError, match="'kernel'.*type str"):
        SearchSpace({"kernel": "rbf"})


def test_a_list_of_tuples_is_categorical_as_in_grid_search():
    space = SearchSpace({"hidden_layer_sizes": [(32,), (64, 32), (16, 16)]})
    values = {space.decode(g)["hidden_layer_sizes"] for g in space.sample(30, rng())}
    assert values == {(32,), (64, 32), (16, 16)}


def test_a_tuple_of_tuples_is_categorical_as_in_randomized_search():
    # RandomizedSearchCV takes any sequence of choices, e.g. CountVectorizer's ngram_range.
    space = SearchSpace({"vect__ngram_range": ((1, 1), (1, 2))})
    values = {space.decode(g)["vect__ngram_range"] for g in space.sample(20, rng())}
    assert values == {(1, 1), (1, 2)}
    assert space.size() == 2
