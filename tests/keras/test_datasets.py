"""Data loaders: real Keras loaders offline give actionable errors; fallbacks work."""

import os

import numpy as np
import pytest

pytestmark = pytest.mark.keras

keras = pytest.importorskip("keras")

from skautosearch.keras import (  # noqa: E402
    DatasetUnavailableError,
    load_cifar10,
    load_digits_images,
    load_imdb,
    make_token_sequences,
)


@pytest.fixture
def empty_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize(
    "loader, filename",
    [
        (load_cifar10, "cifar-10-batches-py-target_archive"),
        (load_imdb, "imdb.npz"),
    ],
)
def test_missing_cache_without_download_says_which_file_where(
    empty_keras_home, loader, filename
):
    with pytest.raises(DatasetUnavailableError) as info:
        loader(download=False)
    assert os.path.join(str(empty_keras_home), "datasets", filename) in str(info.value)


@pytest.mark.parametrize(
    "loader, name", [(load_cifar10, "cifar10"), (load_imdb, "imdb")]
)
def test_failed_download_is_reported_with_the_fix(
    empty_keras_home, monkeypatch, loader, name
):
    def offline(**kwargs):
        raise OSError("URL fetch failure: no network")

    monkeypatch.setattr(getattr(keras.datasets, name), "load_data", offline)
    with pytest.raises(DatasetUnavailableError, match="no network.*place it at"):
        loader(download=True)


def test_loaders_read_the_keras_loader_and_subset(monkeypatch):
    images = np.full((5, 32, 32, 3), 255, dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8).reshape(-1, 1)
    monkeypatch.setattr(
        keras.datasets.cifar10,
        "load_data",
        lambda: ((images, labels), (images, labels)),
    )
    (X, y), (X_test, _) = load_cifar10(n_train=3)
    assert X.shape == (3, 32, 32, 3) and X.dtype == np.float32 and X.max() == 1.0
    assert y.tolist() == [0, 1, 2] and len(X_test) == 5
    reviews = np.array([[1, 5, 6], [1, 7]], dtype=object)
    monkeypatch.setattr(
        keras.datasets.imdb,
        "load_data",
        lambda num_words: ((reviews, np.array([0, 1])), (reviews, np.array([1, 0]))),
    )
    (X, y), _ = load_imdb(maxlen=4)
    assert X.tolist() == [[0, 1, 5, 6], [0, 0, 1, 7]] and y.tolist() == [0, 1]


def test_digits_images_fallback():
    X, y = load_digits_images()
    assert X.shape == (1797, 8, 8, 1) and X.dtype == np.float32
    assert 0.0 <= X.min() and X.max() == 1.0 and set(y) == set(range(10))


def test_token_sequences_are_seeded_padded_and_learnable():
    X, y = make_token_sequences(
        n_samples=400, maxlen=40, vocab_size=300, random_state=0
    )
    X2, y2 = make_token_sequences(
        n_samples=400, maxlen=40, vocab_size=300, random_state=0
    )
    np.testing.assert_array_equal(X, X2)
    assert X.shape == (400, 40) and X.dtype == np.int32 and X.max() < 300
    assert (X[:, -1] != 0).all() and (X == 1).sum(axis=1).min() >= 1  # start token
    assert abs(y.mean() - 0.5) < 0.01
    # A bag of words separates the classes: the task carries signal.
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    counts = np.stack([np.bincount(row, minlength=300) for row in X])
    assert (
        cross_val_score(LogisticRegression(max_iter=1000), counts, y, cv=3).mean() > 0.7
    )
