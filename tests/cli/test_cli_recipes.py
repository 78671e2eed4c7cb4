"""The workflow's CNN recipe and ``compare``'s keras-cnn space: every candidate is a network.

A candidate is identified here by the network ``build_cnn`` builds from it (its
layers and their configurations), so two candidates that differ only in the filters
of a block the network lacks count as one.
"""

import pytest

pytestmark = pytest.mark.keras

pytest.importorskip("tensorflow")
pytest.importorskip("scikeras")

from sklearn.model_selection import ParameterGrid  # noqa: E402

from skautosearch.cli.estimators import ESTIMATORS  # noqa: E402
from skautosearch.cli.recipes import RECIPES, estimator_for  # noqa: E402
from skautosearch.cli.workflow import _final_params  # noqa: E402
from skautosearch.keras import build_cnn  # noqa: E402
from skautosearch.space import SearchSpace, to_param_grid  # noqa: E402

META = {"X_shape_": (10, 8, 8, 1), "n_classes_": 10, "target_type_": "multiclass"}


def _network(estimator, candidate):
    """The layers (class and configuration, names left out) of a candidate's network."""
    params = estimator.set_params(**candidate).get_params()
    kwargs = {k[len("model__"):]: v for k, v in params.items() if k.startswith("model__")}
    model = build_cnn(META, **kwargs)
    return tuple(
        (type(layer).__name__,
         tuple(sorted((k, repr(v)) for k, v in layer.get_config().items() if k != "name")))
        for layer in model.layers)


def _candidates(space):
    return list(ParameterGrid(to_param_grid(space)))


@pytest.mark.parametrize("quick", [False, True])
def test_every_candidate_of_the_cnn_recipe_is_a_distinct_network(quick):
    recipe = RECIPES["cnn"](quick)
    estimator = estimator_for(recipe, seed=0)
    for label, candidates in (("grid", list(ParameterGrid(recipe.grid))),
                              ("space", _candidates(recipe.space))):
        networks = {_network(estimator, c) for c in candidates}
        assert len(networks) == len(candidates), label
    # The default budget (the grid's size) and the space's size, as the docs state.
    if not quick:
        assert len(ParameterGrid(recipe.grid)) == 8
        assert SearchSpace(recipe.space).size() == 72 == len(_candidates(recipe.space))


def test_every_candidate_of_compares_keras_cnn_space_is_a_distinct_network():
    spec = ESTIMATORS["keras-cnn"]
    estimator = spec.make("classification", 0, True)
    space = {k: v for k, v in spec.space().items() if k.startswith("model__")}
    candidates = _candidates(space)
    assert len({_network(estimator, c) for c in candidates}) == len(candidates) == 12
    two_blocks = [c for c in candidates if c["model__n_blocks"] == 2]
    assert {c["model__filters_1"] for c in two_blocks} == {16, 32}  # searched


@pytest.mark.parametrize("n_blocks", [1, 2])
def test_final_params_name_the_second_filters_only_with_a_second_block(n_blocks):
    recipe = RECIPES["cnn"](False)
    winner = {"model__n_blocks": n_blocks, "model__filters_0": 16,
              "model__kernel_size": 5, "model__dense_units": 32}
    if n_blocks == 2:
        winner["model__filters_1"] = 64
    final = estimator_for(recipe, seed=0).set_params(**winner, batch_size=16)
    params = _final_params(recipe, final, winner)
    assert ("model__filters_1" in params) == (n_blocks == 2)
    assert {k: params[k] for k in winner} == winner
    assert params["batch_size"] == 16
