"""Model-building functions for architecture search, usable as ``model=``.

Each builder takes SciKeras's ``meta`` (shapes and classes seen in ``fit``) and
the searchable parameters, and returns an *uncompiled* model: the wrapper
compiles it from its ``optimizer``, ``optimizer__learning_rate`` and ``loss``
parameters.  Per-block parameters (``filters_0``, ``filters_1`` ...) are
separate, so a search, and ``GeneticSearchCV``'s crossover in particular, can
treat each block on its own; only the first ``n_blocks`` of them are used.
Search them as :class:`~skautosearch.Conditional` dimensions, so that a block's
parameters exist only when the block does::

    from skautosearch import Conditional

    space = {
        "model__n_blocks": [1, 2, 3],
        "model__filters_0": [16, 32, 64],
        "model__filters_1": Conditional([16, 32, 64], when={"model__n_blocks": [2, 3]}),
        "model__filters_2": Conditional([16, 32, 64], when={"model__n_blocks": [3]}),
    }

Then a one-block network is one candidate, whatever the other blocks' filters,
and ``cv_results_`` shows only the filters it used.
"""

import math

import keras

__all__ = ["build_mlp", "build_cnn", "build_lstm_classifier", "MAX_BLOCKS"]

#: The largest ``n_blocks`` (and ``n_layers``) the builders accept.
MAX_BLOCKS = 4


def _check_int(name, value, low, high=None):
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        bound = (
            f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        )
        raise ValueError(f"{name} must be {bound}; got {value!r}.")


def _check_rate(name, value):
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {value!r}.")


def _loss_name(compile_kwargs):
    loss = (compile_kwargs or {}).get("loss")
    if loss is None or isinstance(loss, str):
        return loss or ""
    return (
        getattr(loss, "name", None)
        or getattr(loss, "__name__", "")
        or type(loss).__name__
    )


def _output_layer(meta, task, compile_kwargs=None):
    """Output layer matching the target and the loss SciKeras compiles with.

    A binary target gets one sigmoid unit unless the loss is a (sparse)
    categorical cross-entropy, which wants one softmax unit a class.
    """
    if task == "regression":
        return keras.layers.Dense(max(1, meta.get("n_outputs_expected_") or 1))
    n_classes = meta.get("n_classes_") or 2
    loss = _loss_name(compile_kwargs).lower()
    if meta.get("target_type_") == "binary" and "categorical" not in loss:
        return keras.layers.Dense(1, activation="sigmoid")
    return keras.layers.Dense(n_classes, activation="softmax")


def _per_block(name, default, overrides, n_blocks):
    """Values of a per-block parameter: ``name_i`` overrides ``default[i]``."""
    if isinstance(default, (int, float, str)) or default is None:
        default = [default] * n_blocks
    elif len(default) == 1 and n_blocks > 1:
        default = list(default) * n_blocks
    default = list(default)
    if len(default) < n_blocks:
        raise ValueError(
            f"{name} has {len(default)} values but n_blocks={n_blocks}; give one "
            f"value per block or set {name}_0 ... {name}_{n_blocks - 1}."
        )
    return [
        overrides[i] if overrides[i] is not None else default[i]
        for i in range(n_blocks)
    ]


def build_mlp(
    meta,
    hidden_units=(32,),
    n_layers=None,
    units_0=None,
    units_1=None,
    units_2=None,
    units_3=None,
    activation="relu",
    dropout=0.0,
    task="classification",
    compile_kwargs=None,
):
    """Build a fully connected network for tabular data.

    Parameters
    ----------
    meta : dict
        SciKeras's fit metadata (``n_features_in_``, ``n_classes_`` ...).
    hidden_units : int or sequence of int, default=(32,)
        Units of each hidden layer.
    n_layers : int or None, default=None
        Number of hidden layers, 0 to ``MAX_BLOCKS``; None means
        ``len(hidden_units)``.
    units_0, units_1, units_2, units_3 : int or None, default=None
        Units of one hidden layer, overriding ``hidden_units``; search these
        (with ``n_layers``) to evolve each layer on its own.  Values for
        layers past ``n_layers`` are unused.
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout rate after each hidden layer.
    task : {"classification", "regression"}, default="classification"
        Output layer: softmax / sigmoid for classification, linear otherwise.
    compile_kwargs : dict or None, default=None
        Filled in by SciKeras; its ``loss`` picks a binary output layer
        (one sigmoid unit, or two softmax units for a categorical loss).

    Returns
    -------
    model : keras.Sequential
        An uncompiled model.

    Examples
    --------
    >>> from skautosearch.keras import build_mlp
    >>> model = build_mlp({"n_features_in_": 4, "n_classes_": 3,
    ...                    "target_type_": "multiclass"}, hidden_units=(8,))
    >>> model.output_shape
    (None, 3)
    """
    _check_rate("dropout", dropout)
    if n_layers is None:
        n_layers = 1 if isinstance(hidden_units, int) else len(hidden_units)
    _check_int("n_layers", n_layers, 0, MAX_BLOCKS)
    per_layer = _per_block(
        "hidden_units", hidden_units, [units_0, units_1, units_2, units_3], n_layers
    )
    layers = [keras.Input((meta["n_features_in_"],))]
    for i, units in enumerate(per_layer):
        _check_int(f"units_{i}", units, 1)
        layers.append(keras.layers.Dense(units, activation=activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(_output_layer(meta, task, compile_kwargs))
    return keras.Sequential(layers)


def _image_shape(meta, input_shape):
    shape = tuple(meta["X_shape_"][1:])
    if input_shape is None:
        if len(shape) == 2:
            return shape + (1,), None
        if len(shape) != 3:
            raise ValueError(
                f"build_cnn needs images of shape (n, height, width, channels) "
                f"or input_shape=; got X of shape {meta['X_shape_']}."
            )
        return shape, None
    input_shape = tuple(input_shape)
    if math.prod(shape) != math.prod(input_shape):
        raise ValueError(
            f"input_shape={input_shape} does not fit X rows of shape {shape}."
        )
    return input_shape, shape


def build_cnn(
    meta,
    n_blocks=2,
    filters=(32, 64, 64, 128),
    filters_0=None,
    filters_1=None,
    filters_2=None,
    filters_3=None,
    kernel_size=3,
    activation="relu",
    pooling="max",
    dense_units=64,
    dropout=0.0,
    input_shape=None,
    compile_kwargs=None,
):
    """Build a CNN: ``n_blocks`` x (Conv2D + pooling), Flatten, Dense, output.

    The CIFAR-10 workflow's network is ``n_blocks=2``, ``filters_0`` and
    ``filters_1`` in {32, 64}, ``kernel_size`` in {3, 5}, ``dense_units=64``.

    Parameters
    ----------
    meta : dict
        SciKeras's fit metadata; ``X_shape_`` gives the image shape.
    n_blocks : int, default=2
        Number of convolution blocks, 1 to ``MAX_BLOCKS``.
    filters : int or sequence of int, default=(32, 64, 64, 128)
        Filters of each block (one int for all blocks).
    filters_0, filters_1, filters_2, filters_3 : int or None, default=None
        Filters of one block, overriding ``filters``; search these to evolve
        each block on its own.  Values for blocks past ``n_blocks`` are unused.
    kernel_size : int, default=3
        Side of the square convolution kernels ("same" padding).
    activation : str, default="relu"
        Activation of the convolution and dense layers.
    pooling : {"max", "average", None}, default="max"
        2x2 pooling after each convolution; None for no pooling.
    dense_units : int, default=64
        Units of the dense layer after Flatten (0 for none).
    dropout : float, default=0.0
        Dropout rate before the output layer.
    input_shape : tuple of int or None, default=None
        Image shape (height, width, channels) when ``X`` holds flattened
        images (e.g. after a scaler in a Pipeline); None takes it from ``X``
        (a 3-D ``X`` is read as one-channel images).
    compile_kwargs : dict or None, default=None
        Filled in by SciKeras (see :func:`build_mlp`).

    Returns
    -------
    model : keras.Sequential
        An uncompiled model.

    Raises
    ------
    ValueError
        If the images are too small for ``n_blocks`` poolings, or a parameter
        is out of range.

    Examples
    --------
    >>> from skautosearch.keras import build_cnn
    >>> meta = {"X_shape_": (10, 8, 8, 1), "n_classes_": 10,
    ...         "target_type_": "multiclass"}
    >>> build_cnn(meta, n_blocks=2, filters_0=8, filters_1=16).output_shape
    (None, 10)
    >>> build_cnn(meta, n_blocks=4)
    Traceback (most recent call last):
    ...
    ValueError: build_cnn: n_blocks=4 with 2x2 pooling halves the images 4 times, ...
    """
    _check_int("n_blocks", n_blocks, 1, MAX_BLOCKS)
    _check_int("kernel_size", kernel_size, 1)
    _check_int("dense_units", dense_units, 0)
    _check_rate("dropout", dropout)
    if pooling not in ("max", "average", None):
        raise ValueError(f"pooling must be 'max', 'average' or None; got {pooling!r}.")
    shape, flat = _image_shape(meta, input_shape)
    if pooling is not None and min(shape[:2]) < 2**n_blocks:
        raise ValueError(
            f"build_cnn: n_blocks={n_blocks} with 2x2 pooling halves the images "
            f"{n_blocks} times, which needs images of at least {2**n_blocks}x"
            f"{2**n_blocks} pixels; these are {shape[0]}x{shape[1]}. Lower "
            f"n_blocks or set pooling=None."
        )
    per_block = _per_block(
        "filters", filters, [filters_0, filters_1, filters_2, filters_3], n_blocks
    )
    layers = [keras.Input(flat if flat is not None else shape)]
    if flat is not None:
        layers.append(keras.layers.Reshape(shape))
    pool = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
    for i, n_filters in enumerate(per_block):
        _check_int(f"filters_{i}", n_filters, 1)
        layers.append(
            keras.layers.Conv2D(
                n_filters, kernel_size, padding="same", activation=activation
            )
        )
        if pooling is not None:
            layers.append(pool[pooling]((2, 2)))
    layers.append(keras.layers.Flatten())
    if dense_units:
        layers.append(keras.layers.Dense(dense_units, activation=activation))
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(_output_layer(meta, "classification", compile_kwargs))
    return keras.Sequential(layers)


def build_lstm_classifier(
    meta,
    embedding_dim=128,
    dropout=0.2,
    recurrent_dropout=0.1,
    n_units=64,
    vocab_size=None,
    n_layers=1,
    units_0=None,
    units_1=None,
    units_2=None,
    units_3=None,
    compile_kwargs=None,
):
    """Build an Embedding + SpatialDropout1D + LSTM text classifier.

    The IMDB workflow's network: sequences of word indices (padded to
    ``maxlen``), ``Embedding(vocab_size, embedding_dim)``,
    ``SpatialDropout1D(dropout)``, ``LSTM(n_units, dropout, recurrent_dropout)``
    and a sigmoid (binary) or softmax output.  With ``n_layers`` > 1 the LSTMs
    are stacked, each but the last passing on its whole sequence.

    Parameters
    ----------
    meta : dict
        SciKeras's fit metadata: ``X_shape_[1]`` is ``maxlen``, ``X_max_`` the
        largest token id seen in ``fit``.
    embedding_dim : int, default=128
        Size of the word vectors.
    dropout : float, default=0.2
        Rate of ``SpatialDropout1D`` and of the LSTM's input dropout.
    recurrent_dropout : float, default=0.1
        The LSTM's recurrent dropout.  Note that a non-zero value makes
        TensorFlow use the generic (slower) LSTM kernel.
    n_units : int, default=64
        Units of each LSTM layer.
    vocab_size : int or None, default=None
        Number of token ids (largest id + 1).  None takes it from the data
        seen in ``fit`` (``X_max_ + 1``); give it when known (e.g. the
        ``num_words`` of the loader) so that a rare id present only in a test
        fold cannot fall outside the embedding.
    n_layers : int, default=1
        Number of stacked LSTM layers, 1 to ``MAX_BLOCKS``.
    units_0, units_1, units_2, units_3 : int or None, default=None
        Units of one LSTM layer, overriding ``n_units``; search them as
        :class:`~skautosearch.Conditional` dimensions of ``n_layers``.  Values
        for layers past ``n_layers`` are unused.
    compile_kwargs : dict or None, default=None
        Filled in by SciKeras (see :func:`build_mlp`).

    Returns
    -------
    model : keras.Sequential
        An uncompiled model.

    Examples
    --------
    >>> from skautosearch.keras import build_lstm_classifier
    >>> meta = {"X_shape_": (10, 20), "X_max_": 99, "n_classes_": 2,
    ...         "target_type_": "binary"}
    >>> build_lstm_classifier(meta, embedding_dim=8, n_units=4).output_shape
    (None, 1)
    >>> model = build_lstm_classifier(meta, n_layers=2, units_0=8, units_1=4)
    >>> [layer.units for layer in model.layers if layer.name.startswith("lstm")]
    [8, 4]
    """
    _check_int("embedding_dim", embedding_dim, 1)
    _check_int("n_units", n_units, 1)
    _check_int("n_layers", n_layers, 1, MAX_BLOCKS)
    _check_rate("dropout", dropout)
    _check_rate("recurrent_dropout", recurrent_dropout)
    if len(meta["X_shape_"]) != 2:
        raise ValueError(
            "build_lstm_classifier needs X of shape (n_samples, maxlen) holding "
            f"token ids; got shape {meta['X_shape_']}."
        )
    if vocab_size is None:
        if meta.get("X_max_") is None:
            raise ValueError(
                "build_lstm_classifier: vocab_size=None needs integer token ids "
                "in X; pass vocab_size= or cast X to an integer dtype."
            )
        vocab_size = meta["X_max_"] + 1
    _check_int("vocab_size", vocab_size, 1)
    per_layer = _per_block(
        "n_units", n_units, [units_0, units_1, units_2, units_3], n_layers
    )
    layers = [
        keras.Input((meta["X_shape_"][1],), dtype="int32"),
        keras.layers.Embedding(vocab_size, embedding_dim),
        keras.layers.SpatialDropout1D(dropout),
    ]
    for i, units in enumerate(per_layer):
        _check_int(f"units_{i}", units, 1)
        layers.append(
            keras.layers.LSTM(
                units,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
                return_sequences=i < n_layers - 1,
            )
        )
    layers.append(_output_layer(meta, "classification", compile_kwargs))
    return keras.Sequential(layers)
