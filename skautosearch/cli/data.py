"""Data for ``skautosearch compare``: a bundled scikit-learn set or a CSV file.

CSV files are read with pandas, every cell as text, so that each problem (a
missing value, a text column, an infinite number, a short row) gets its own
one-line message naming the column or line.
"""

import math
import os
from dataclasses import dataclass

import numpy as np

from ._common import UsageError

DATASETS = ("digits", "iris", "wine", "breast_cancer", "diabetes")
MAX_CLASSES = 20  # an integer target with more distinct values is a regression
TEST_SIZE = 0.25
_MISSING = {"", "na", "nan", "n/a", "null", "none"}  # empty CSV cells, lower-cased


@dataclass
class Data:
    """A data set ready for the searches."""

    name: str
    X: object
    y: object
    categorical: list  # indices of non-numeric feature columns
    task: str
    images: bool = False


def load_data(args):
    """The data of ``--dataset`` (bundled name or CSV path), checked for ``--cv``."""
    source = args.dataset
    key = source.replace("-", "_").lower()
    if key in DATASETS and not os.path.isfile(source):
        if args.target is not None:
            raise UsageError("--target is only for CSV files; the bundled "
                             f"{key!r} data has its own target")
        data = _load_bundled(key)
    elif os.path.isdir(source):
        raise UsageError(f"--dataset {source!r} is a folder, not a CSV file")
    elif os.path.exists(source) or source.lower().endswith(".csv") or os.sep in source:
        if not os.path.exists(source):
            raise UsageError(f"no such file: {source!r}")
        data = _load_csv(source, args.target, args.encode, args.task)
    else:
        raise UsageError(f"unknown dataset {source!r}: use one of "
                         f"{', '.join(DATASETS)} or a path to a CSV file")
    if args.task != "auto":
        data.task = args.task
    if data.task == "classification":
        _check_classes(data.y, args.cv)
    return data


def _load_bundled(name):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    task = "regression" if name == "diabetes" else "classification"
    return Data(name, bunch.data, bunch.target, [], task, images=name == "digits")


def read_csv(path):
    """Header and body of a CSV file as text, with the file's problems as UsageError."""
    try:
        import pandas as pd
    except ImportError:
        raise UsageError("reading a CSV file needs pandas: pip install "
                         "skautosearch[results]") from None
    try:
        table = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                            encoding="utf-8-sig", skip_blank_lines=True)
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path!r} is not a readable CSV text file ({exc})") from None
    except pd.errors.EmptyDataError:
        raise UsageError(f"{path!r} has no data rows (a header row and data "
                         "expected)") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise UsageError(f"{path!r} is not a well-formed CSV file ({detail})") from None
    table = table[~(table.fillna("").apply(lambda c: c.str.strip()) == "").all(axis=1)]
    if len(table) < 2:
        raise UsageError(f"{path!r} has no data rows (a header row and data expected)")
    header = [str(h).strip() for h in table.iloc[0]]
    _check_header(path, header)
    body = table.iloc[1:]
    if (body == "").any(axis=None):
        _check_row_lengths(path, len(header))
    body.columns = header
    return header, body


def _check_row_lengths(path, n_header):
    """A short row and a row of empty trailing cells both read as "" in pandas."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = (row for row in csv.reader(f) if any(cell.strip() for cell in row))
        for line, row in enumerate(rows, start=1):
            if len(row) < n_header:
                raise UsageError(f"{path!r} line {line} has {len(row)} fields, the "
                                 f"header has {n_header}")


def _check_header(path, header):
    seen = set()
    for name in header:
        if name in seen:
            raise UsageError(f"{path!r}: column name {name!r} appears twice in the "
                             "header row")
        seen.add(name)


def _load_csv(path, target, encode, task):
    header, body = read_csv(path)
    if target is None:
        raise UsageError(f"--target is required with a CSV file; columns: "
                         f"{', '.join(header)}")
    if target not in header:
        raise UsageError(f"target column {target!r} is not in {path!r}; columns: "
                         f"{', '.join(header)}")
    body = body.apply(lambda c: c.str.strip())
    y_text = body.pop(target)
    if y_text.str.lower().isin(_MISSING).any():
        raise UsageError(f"target column {target!r} has missing values")
    if body.shape[1] == 0:
        raise UsageError(f"{path!r} has no feature columns besides {target!r}")
    X, categorical = _features(body, encode)
    y, inferred = _target(y_text, target, task)
    return Data(os.path.basename(path), X, y, categorical, inferred)


def _features(body, encode):
    """Feature matrix from text columns; the indices of the text (categorical) ones."""
    import pandas as pd

    columns, categorical = [], []
    for j, name in enumerate(body.columns):
        col = body[name]
        if col.str.lower().isin(_MISSING).any():
            raise UsageError(f"feature column {name!r} has missing values; impute "
                             "them first")
        numbers = pd.to_numeric(col, errors="coerce")
        if numbers.notna().all():
            if np.isinf(numbers.to_numpy(float)).any():
                raise UsageError(f"feature column {name!r} has infinite values (inf); "
                                 "replace them first")
            columns.append(numbers.to_numpy(float))
        elif encode:
            columns.append(col.to_numpy(object))
            categorical.append(j)
        else:
            example = col[numbers.isna()].iloc[0]
            raise UsageError(f"feature column {name!r} is not numeric (e.g. "
                             f"{example!r}); pass --encode to one-hot encode text "
                             "columns")
    X = np.array(columns, dtype=object if categorical else float).T
    return X, categorical


def _target(values, name, task):
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        if task == "regression":
            example = values[numbers.isna()].iloc[0]
            raise UsageError(f"--task regression needs a numeric target; column "
                             f"{name!r} holds text (e.g. {example!r})")
        return values.to_numpy(str), "classification"
    y = numbers.to_numpy(float)
    if not np.isfinite(y).all():
        raise UsageError(f"target column {name!r} has infinite values")
    if np.all(y == np.round(y)) and len(np.unique(y)) <= MAX_CLASSES:
        return y.astype(int), "classification"
    return y, "regression"


def _check_classes(y, cv):
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        raise UsageError("the target has a single class: nothing to classify")
    needed = math.ceil(cv / (1 - TEST_SIZE)) + 1
    if counts.min() < needed:
        raise UsageError(f"the rarest class has {counts.min()} rows; --cv {cv} needs "
                         f"at least {needed} (use --task regression for a numeric "
                         "target)")
