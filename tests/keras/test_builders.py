"""Model builders: per-block parameters, sizes from the data, impossible models."""

import numpy as np
import pytest

pytestmark = pytest.mark.keras

keras = pytest.importorskip("keras")

from skautosearch import AnnealingSearchCV, Conditional, GeneticSearchCV  # noqa: E402
from skautosearch.keras import (  # noqa: E402
    KerasClassifier,
    build_cnn,
    build_lstm_classifier,
    build_mlp,
    load_digits_images,
)

IMAGES = {"X_shape_": (10, 8, 8, 1), "n_classes_": 10, "target_type_": "multiclass"}
TOKENS = {"X_shape_": (10, 30), "X_max_": 49, "n_classes_": 2, "target_type_": "binary"}


def _conv_filters(model):
    return [
        layer.filters
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]


def test_cnn_uses_only_the_first_n_blocks_per_block_filters():
    model = build_cnn(IMAGES, n_blocks=2, filters_0=8, filters_1=16, filters_2=99)
    assert _conv_filters(model) == [8, 16]
    assert model.output_shape == (None, 10)
    model = build_cnn(
        IMAGES,
        n_blocks=3,
        filters=4,
        filters_1=12,
        kernel_size=5,
        pooling=None,
        dense_units=0,
        dropout=0.5,
    )
    assert _conv_filters(model) == [4, 12, 4]
    assert model.layers[0].kernel_size == (5, 5)


def test_cnn_reshapes_flattened_images():
    model = build_cnn(
        {**IMAGES, "X_shape_": (10, 64)}, input_shape=(8, 8, 1), n_blocks=1
    )
    assert model.input_shape == (None, 64)
    with pytest.raises(ValueError, match="input_shape"):
        build_cnn({**IMAGES, "X_shape_": (10, 60)}, input_shape=(8, 8, 1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_blocks=4), "at least 16x16 pixels; these are 8x8"),
        (dict(n_blocks=0), "n_blocks must be an integer in"),
        (dict(n_blocks=2, filters_1=0), "filters_1 must be"),
        (dict(dropout=1.5), "dropout must be in"),
        (dict(pooling="median"), "pooling must be"),
        (dict(n_blocks=3, filters=(8, 8)), "filters has 2 values but n_blocks=3"),
    ],
)
def test_cnn_impossible_or_invalid_architectures_raise_clearly(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_cnn(IMAGES, **kwargs)


def test_lstm_takes_maxlen_and_vocabulary_from_the_data():
    model = build_lstm_classifier(
        TOKENS, embedding_dim=8, n_units=4, dropout=0.3, recurrent_dropout=0.2
    )
    embedding = model.layers[0]
    assert embedding.input_dim == 50 and embedding.output_dim == 8
    assert model.input_shape == (None, 30) and model.output_shape == (None, 1)
    lstm = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)][0]
    assert (lstm.units, lstm.dropout, lstm.recurrent_dropout) == (4, 0.3, 0.2)
    assert build_lstm_classifier(TOKENS, vocab_size=500).layers[0].input_dim == 500
    with pytest.raises(ValueError, match="vocab_size"):
        build_lstm_classifier({**TOKENS, "X_max_": None})


def test_lstm_stacks_n_layers_with_per_layer_units():
    model = build_lstm_classifier(TOKENS, embedding_dim=8, n_units=4, n_layers=3,
                                  units_0=6, units_2=5, units_3=99)
    lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
    assert [layer.units for layer in lstms] == [6, 4, 5]
    assert [layer.return_sequences for layer in lstms] == [True, True, False]
    assert model.output_shape == (None, 1)
    with pytest.raises(ValueError, match="n_layers must be an integer in"):
        build_lstm_classifier(TOKENS, n_layers=0)
    with pytest.raises(ValueError, match="units_1 must be"):
        build_lstm_classifier(TOKENS, n_layers=2, units_1=0)


def test_binary_output_follows_the_loss():
    meta = {"n_features_in_": 3, "n_classes_": 2, "target_type_": "binary"}
    assert build_mlp(meta).output_shape == (None, 1)
    sparse = {"loss": "sparse_categorical_crossentropy"}
    assert build_mlp(meta, compile_kwargs=sparse).output_shape == (None, 2)


def test_mlp_per_layer_units():
    meta = {"n_features_in_": 3, "n_classes_": 3, "target_type_": "multiclass"}
    model = build_mlp(meta, n_layers=2, units_0=5, units_1=7, units_2=100)
    assert [layer.units for layer in model.layers] == [5, 7, 3]


def test_genetic_search_records_an_impossible_architecture_and_goes_on():
    X, y = load_digits_images()
    X, y = X[:200], y[:200]
    cnn = KerasClassifier(
        build_cnn,
        loss="sparse_categorical_crossentropy",
        epochs=1,
        verbose=0,
        random_state=0,
        model__dense_units=8,
        model__filters=4,
        run_eagerly=True,
    )
    search = GeneticSearchCV(
        cnn,
        {"model__n_blocks": [1, 4], "model__filters_0": [4, 8]},
        n_iter=3,
        population_size=3,
        elitism=1,
        cv=2,
        random_state=0,
        refit=False,
    )
    with pytest.warns(Warning, match="fits failed"):
        search.fit(X, y)
    blocks = np.array([p["model__n_blocks"] for p in search.cv_results_["params"]])
    scores = np.asarray(search.cv_results_["mean_test_score"])
    assert (blocks == 4).any() and (blocks == 1).any()
    assert (
        np.isnan(scores[blocks == 4]).all() and np.isfinite(scores[blocks == 1]).all()
    )


def test_a_conditional_space_builds_each_block_count_with_its_own_filters():
    X, y = load_digits_images()
    X, y = X[:150], y[:150]
    cnn = KerasClassifier(build_cnn, loss="sparse_categorical_crossentropy", epochs=1,
                          verbose=0, random_state=0, model__dense_units=8, model__filters=4)
    space = {
        "model__n_blocks": [1, 2, 3],
        "model__filters_0": [4, 8],
        "model__filters_1": Conditional([4, 8], when={"model__n_blocks": [2, 3]}),
        "model__filters_2": Conditional([4, 8], when={"model__n_blocks": [3]}),
    }
    search = AnnealingSearchCV(cnn, space, n_iter=5, n_chains=1, n_initial_points=4,
                               cv=2, random_state=0).fit(X, y)
    for params in search.cv_results_["params"]:
        n_blocks = params["model__n_blocks"]
        assert {f"model__filters_{i}" for i in range(3)} & set(params) == {
            f"model__filters_{i}" for i in range(n_blocks)
        }
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_params_
    assert _conv_filters(search.best_estimator_.model_) == [
        best[f"model__filters_{i}"] for i in range(best["model__n_blocks"])
    ]
