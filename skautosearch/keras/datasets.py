"""Data for the two Keras workflows: CIFAR-10 and IMDB, with offline fallbacks.

:func:`load_cifar10` and :func:`load_imdb` call ``keras.datasets``, which reads
its cache in ``~/.keras/datasets`` (``$KERAS_HOME/datasets``) and downloads
only when the file is missing.  When the file is missing and cannot be
downloaded they raise :class:`DatasetUnavailableError`, saying which file to
place where.  :func:`load_digits_images` (scikit-learn's digits as 8x8x1
images) and :func:`make_token_sequences` (a synthetic token-sequence task)
need neither network nor cache.
"""

import os

import numpy as np

__all__ = [
    "DatasetUnavailableError",
    "load_cifar10",
    "load_imdb",
    "load_digits_images",
    "make_token_sequences",
    "keras_datasets_dir",
]

_FILES = {
    "cifar10": (
        "cifar-10-batches-py-target_archive",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "cifar-10-python.tar.gz",
    ),
    "imdb": (
        "imdb.npz",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz",
        "imdb.npz",
    ),
}


class DatasetUnavailableError(OSError):
    """A Keras data set is neither cached nor downloadable."""


def keras_datasets_dir():
    """Return the folder where ``keras.datasets`` caches its files.

    Returns
    -------
    path : str
        ``$KERAS_HOME/datasets`` if ``KERAS_HOME`` is set, else
        ``~/.keras/datasets``.

    Examples
    --------
    >>> from skautosearch.keras import keras_datasets_dir
    >>> keras_datasets_dir().endswith("datasets")
    True
    """
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return os.path.join(home, "datasets")


def _unavailable(name, cause=None):
    cached, url, original = _FILES[name]
    path = os.path.join(keras_datasets_dir(), cached)
    message = (
        f"{name} is not in the Keras cache and could not be downloaded"
        f"{f' ({type(cause).__name__}: {cause})' if cause else ''}. To work "
        f"offline, download {original} from {url} on a machine with network "
        f"access and place it at {path}"
        + (
            " (the .tar.gz file itself, renamed; Keras extracts it)"
            if name == "cifar10"
            else ""
        )
        + ". Or use the bundled fallback: "
        + (
            "skautosearch.keras.load_digits_images()."
            if name == "cifar10"
            else "skautosearch.keras.make_token_sequences()."
        )
    )
    return DatasetUnavailableError(message)


def _load(name, loader, download, **kwargs):
    cached = os.path.join(keras_datasets_dir(), _FILES[name][0])
    if not download and not os.path.exists(cached):
        raise _unavailable(name)
    try:
        return loader(**kwargs)
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise _unavailable(name, exc) from exc


def _head(arrays, n):
    return arrays if n is None else tuple(a[:n] for a in arrays)


def load_cifar10(n_train=None, n_test=None, download=True):
    """Load CIFAR-10 through ``keras.datasets.cifar10``, pixels scaled to [0, 1].

    Parameters
    ----------
    n_train, n_test : int or None, default=None
        Keep only the first rows of the training / test set (None: all,
        50,000 and 10,000).
    download : bool, default=True
        Download the archive if it is not cached.  With False, a missing
        cache file raises at once, without touching the network.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of ndarray
        ``X`` float32 of shape (n, 32, 32, 3); ``y`` int64 of shape (n,).

    Raises
    ------
    DatasetUnavailableError
        If the archive is not cached and cannot be downloaded; the message
        says which file to place where.

    Examples
    --------
    >>> from skautosearch.keras import DatasetUnavailableError, load_cifar10
    >>> try:
    ...     (X, y), _ = load_cifar10(n_train=100, download=False)
    ... except DatasetUnavailableError as exc:
    ...     print("place it at" in str(exc))
    ... else:
    ...     print(X.shape == (100, 32, 32, 3))
    True
    """
    import keras

    (X_train, y_train), (X_test, y_test) = _load(
        "cifar10", keras.datasets.cifar10.load_data, download
    )
    X_train, y_train = _head((X_train, y_train), n_train)
    X_test, y_test = _head((X_test, y_test), n_test)
    scale = np.float32(1 / 255)
    return (
        (X_train.astype(np.float32) * scale, y_train.ravel().astype(np.int64)),
        (X_test.astype(np.float32) * scale, y_test.ravel().astype(np.int64)),
    )


def load_imdb(num_words=5000, maxlen=100, n_train=None, n_test=None, download=True):
    """Load IMDB reviews through ``keras.datasets.imdb`` as padded token ids.

    Parameters
    ----------
    num_words : int, default=5000
        Keep the most frequent words; the others become the out-of-vocabulary
        id 2.  Token ids are then in ``[0, num_words)``.
    maxlen : int, default=100
        Pad (with 0, in front) or truncate (keeping the end) every review to
        this many tokens.
    n_train, n_test : int or None, default=None
        Keep only the first rows (None: all 25,000 of each).
    download : bool, default=True
        Download the file if it is not cached.

    Returns
    -------
    (X_train, y_train), (X_test, y_test) : tuple of ndarray
        ``X`` int32 of shape (n, maxlen); ``y`` int64 of 0 / 1.

    Raises
    ------
    DatasetUnavailableError
        If ``imdb.npz`` is not cached and cannot be downloaded.

    Examples
    --------
    >>> from skautosearch.keras import DatasetUnavailableError, load_imdb
    >>> try:
    ...     (X, y), _ = load_imdb(maxlen=50, n_train=10, download=False)
    ... except DatasetUnavailableError as exc:
    ...     print("imdb.npz" in str(exc))
    ... else:
    ...     print(X.shape == (10, 50))
    True
    """
    import keras

    (X_train, y_train), (X_test, y_test) = _load(
        "imdb", keras.datasets.imdb.load_data, download, num_words=num_words
    )
    X_train, y_train = _head((X_train, y_train), n_train)
    X_test, y_test = _head((X_test, y_test), n_test)

    def pad(X):
        return keras.utils.pad_sequences(X, maxlen=maxlen, dtype="int32")

    return (
        (pad(X_train), np.asarray(y_train, dtype=np.int64)),
        (pad(X_test), np.asarray(y_test, dtype=np.int64)),
    )


def load_digits_images():
    """scikit-learn's digits (bundled, 1,797 rows) as 8x8x1 images in [0, 1].

    The offline stand-in for CIFAR-10 in the CNN workflow: small images, ten
    classes, no download.

    Returns
    -------
    X : ndarray of shape (1797, 8, 8, 1), float32
    y : ndarray of shape (1797,), int64

    Examples
    --------
    >>> from skautosearch.keras import load_digits_images
    >>> X, y = load_digits_images()
    >>> X.shape, float(X.max()), len(set(y))
    ((1797, 8, 8, 1), 1.0, 10)
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32).reshape(-1, 8, 8, 1), y.astype(np.int64)


def make_token_sequences(
    n_samples=2000, maxlen=100, vocab_size=5000, signal=0.08, random_state=None
):
    """Synthetic binary classification of token sequences (IMDB stand-in).

    **Synthetic data**, not text.  Each sequence has a random length; its
    tokens are drawn from a Zipf-like distribution over ``[3, vocab_size)``,
    except that a fraction ``signal`` of them come from a small set of
    "positive" or "negative" marker tokens, by class.  Sequences are padded in
    front with 0 to ``maxlen`` and start with token 1, as
    ``keras.datasets.imdb`` does.  A bag-of-words model can learn the task; a
    sequence model must learn to count markers over the sequence.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of sequences (half in each class).
    maxlen : int, default=100
        Length of each (padded) sequence.
    vocab_size : int, default=5000
        Token ids are in ``[0, vocab_size)``.
    signal : float, default=0.15
        Fraction of tokens that are class markers; lower is harder.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator.

    Returns
    -------
    X : ndarray of shape (n_samples, maxlen), int32
    y : ndarray of shape (n_samples,), int64

    Examples
    --------
    >>> from skautosearch.keras import make_token_sequences
    >>> X, y = make_token_sequences(n_samples=10, maxlen=20, random_state=0)
    >>> X.shape, X.dtype.name, int(X.max()) < 5000, sorted(set(y.tolist()))
    ((10, 20), 'int32', True, [0, 1])
    """
    from sklearn.utils import check_random_state

    if not 0.0 <= signal <= 1.0:
        raise ValueError(f"signal must be in [0, 1]; got {signal!r}.")
    if vocab_size < 64:
        raise ValueError(f"vocab_size must be at least 64; got {vocab_size!r}.")
    rng = check_random_state(random_state)
    y = np.arange(n_samples) % 2
    rng.shuffle(y)
    markers = rng.choice(np.arange(3, vocab_size), size=(2, 20), replace=False)
    ranks = np.arange(1, vocab_size - 2)
    zipf = 1.0 / ranks
    zipf /= zipf.sum()
    X = np.zeros((n_samples, maxlen), dtype=np.int32)
    lengths = rng.randint(max(2, maxlen // 3), maxlen + 1, size=n_samples)
    for i, (label, length) in enumerate(zip(y, lengths)):
        tokens = rng.choice(ranks + 2, size=length - 1, p=zipf)
        is_marker = rng.random_sample(length - 1) < signal
        tokens[is_marker] = rng.choice(markers[label], size=is_marker.sum())
        X[i, maxlen - length] = 1
        X[i, maxlen - length + 1 :] = tokens
    return X, y.astype(np.int64)
