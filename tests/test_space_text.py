import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from skautosearch import Conditional, GeneticSearchCV, Integer, Real
from skautosearch.space import SearchSpace
from skautosearch.space_text import parse_param, parse_space


def test_each_kind_of_dimension():
    space = parse_space("""
        # an SVC
        kernel=[rbf, poly, 'linear']
        C=real(1e-2, 1e3, log)
        tol=real(0, 1)
        degree=int(2, 5)
        ngram_range=[(1, 1), (1, 2)]
        class_weight=[None, balanced]
    """)
    assert list(space) == ["kernel", "C", "tol", "degree", "ngram_range", "class_weight"]
    assert space["kernel"] == ["rbf", "poly", "linear"]
    assert space["C"] == Real(1e-2, 1e3, prior="log-uniform")
    assert space["tol"] == Real(0.0, 1.0)
    assert space["degree"] == Integer(2, 5)
    assert space["ngram_range"] == [(1, 1), (1, 2)]
    assert space["class_weight"] == [None, "balanced"]


def test_conditions_make_a_conditional():
    name, dim = parse_param("filters_3=[16,32,64] if n_blocks>=3")
    assert name == "filters_3" and isinstance(dim, Conditional)
    assert dim.dimension == [16, 32, 64]
    test = dim.when["n_blocks"]
    assert [test(n) for n in (2, 3, 4)] == [False, True, True]
    _, dim = parse_param("gamma=real(1e-4, 1, log) if kernel in [rbf, poly] and C!=1")
    assert dim.when["kernel"] == ["rbf", "poly"] and not dim.when["C"](1)
    _, dim = parse_param("degree=int(2, 5) if kernel==poly")
    assert dim.when == {"kernel": ["poly"]}
    pickle.dumps(parse_param("x=[1] if n<3"))  # a fitted search can be pickled


def test_a_parsed_conditional_space_drives_a_search():
    X, y = load_iris(return_X_y=True)
    space = parse_space([
        "kernel=[linear, poly, rbf]",
        "C=real(1e-2, 1e2, log)",
        "degree=int(2, 4) if kernel==poly",
        "gamma=real(1e-3, 1, log) if kernel!=linear",
    ])
    assert SearchSpace(space).size() == np.inf
    search = GeneticSearchCV(SVC(), space, n_iter=8, population_size=4, random_state=0,
                             cv=StratifiedKFold(3)).fit(X, y)
    for params in search.cv_results_["params"]:
        assert ("degree" in params) == (params["kernel"] == "poly")
        assert ("gamma" in params) == (params["kernel"] != "linear")


@pytest.mark.parametrize("text, match", [
    ("units", "expected name=DIMENSION"),
    ("units=[16, 32", "lacks its closing"),
    ("units=[]", "at least one value"),
    ("units=range(1, 3)", "is not a dimension"),
    ("units=int(1.5, 3)", "whole numbers"),
    ("units=int(1)", "takes low, high"),
    ("units=real(2, 1)", "low must be less than high"),
    ("units=real(a, 1)", "must be numbers"),
    ("units=[1] if n ~ 3", "cannot read the condition 'n ~ 3'"),
    ("units=[1] if n>1 and n<3", "two conditions on 'n'"),
    ("units=[1 + ]", "cannot read the value"),
])
def test_bad_lines_are_refused_naming_the_text(text, match):
    with pytest.raises(ValueError, match=match) as info:
        parse_param(text)
    assert repr(text) in str(info.value)


def test_a_parameter_given_twice_is_refused():
    with pytest.raises(ValueError, match="'units' is given twice"):
        parse_space(["units=[1]", "units=[2]"])
