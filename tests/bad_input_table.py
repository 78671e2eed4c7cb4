"""Print the "Bad input" table of docs/user_guide/reliability.rst from tests/test_bad_input.py.

Runs every row of the test tables as its test does (outside pytest) and prints what
happened, as RST list tables: the input, the parameter named, the error raised (its
type and the first line of its message), whether it came before any fit and whether
every file of the user's is unchanged. Rows whose test is an expected failure show
what must change instead. Run from the repository's root::

    python tests/bad_input_table.py > /tmp/table.rst        # about a minute with Keras

and paste the output over the tables of the "Bad input" section.
"""

import contextlib
import io
import os
import pathlib
import re
import sys
import tempfile
import warnings

import pytest

_TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_TESTS, os.path.dirname(_TESTS)]  # this checkout's package, not an installed one
import test_bad_input as t  # noqa: E402

_WIDTH = 160  # characters of a message shown


def _run(setup, call_of):
    """Run one row in a fresh user folder: (exception, fitted, files unchanged)."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        folder = pathlib.Path(tmp)
        mp.chdir(folder)
        t.SpyClassifier.fits = t.SpyRegressor.fits = 0
        fitted = []
        made = setup(folder, mp, fitted)
        before = t._snapshot(folder)
        error = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                call_of(made)
            except BaseException as exc:  # noqa: BLE001 - reported in the table
                error = exc
        fitted = fitted or (t.SpyClassifier.fits + t.SpyRegressor.fits > 0)
        return error, bool(fitted), t._snapshot(folder) == before, tmp


def _literal(text):
    return "``" + text.replace("``", "'").replace("`", "'") + "``" if text else ""


def _escaped(text):
    """Plain RST text: no emphasis, substitution or reference markup by accident."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")


def _row(text, param, expected, match, marks, outcome):
    error, fitted, unchanged, folder = outcome
    reason = next((m.kwargs["reason"] for m in marks if m.name == "xfail"), None)
    if error is None:
        got = "none"
    else:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        first = first.replace(folder, "<folder>")
        if len(first) > _WIDTH:
            first = first[:_WIDTH].rsplit(" ", 1)[0] + " ..."
        got = f"``{type(error).__name__}``: {_literal(first)}"
    ok = (error is not None and isinstance(error, expected) and not fitted and unchanged
          and re.search(match, str(error)))
    if reason is not None:
        got = f"To do ({_escaped(reason)}). Today: {got}"
    elif not ok:
        got = f"UNEXPECTED: {got}"
    return [text, _literal(param), got, "no" if fitted else "yes",
            "yes" if unchanged else "no"]


def _plain(setup_call):
    def setup(folder, mp, fitted):
        return setup_call(folder, mp)
    return setup


def search_rows():
    out = []
    for param, value in t.SHARED.items():
        # One row for the three searches: the first message, "yes" only if all agree.
        results = [
            _row(f"``{param}={value!r}``, any search", param, ValueError,
                 rf"'{param}' parameter", (),
                 _run(_plain(lambda f, m, n=name, p=param, v=value: t.search(n, **{p: v})),
                      lambda s: s.fit(t.X, t.y)))
            for name in t.SEARCHES
        ]
        out.append(next((r for r in results if r[2].startswith("UNEXPECTED")), results[0]))
    rows = []
    for name, (cls, _) in t.SEARCHES.items():
        for param, value in t.OWN[name].items():
            rows.append((f"``{cls.__name__}({param}={value!r})``", param,
                         lambda f, m, name=name, p=param, v=value: t.search(name, **{p: v}),
                         ValueError, rf"'{param}' parameter", ()))
    for row in t.OUT_OF_RANGE:
        name, params, error, match = row[:4]
        text = ", ".join(f"{k}={v!r}" for k, v in params.items())
        rows.append((f"``{t.SEARCHES[name][0].__name__}({text})``", next(iter(params)),
                     lambda f, m, name=name, p=params: t.search(name, **p), error, match,
                     row[4:]))
    for params, error, match in t.OBJECTIVES:
        text = ", ".join(f"{k}={v!r}" for k, v in params.items())
        param = "objective_weights" if "objective_weights" in params else "objectives"
        rows.append((f"``{text}``", param, lambda f, m, p=params: t.search("genetic", **p),
                     error, match, ()))
    for text, space, error, match in t.SPACES:
        rows.append((f"``param_distributions``: {text}", "param_distributions",
                     lambda f, m, s=space: t.search("bayes", space=s), error, match, ()))
    for text, param, make, error, match, marks in rows:
        outcome = _run(_plain(make), lambda s: s.fit(t.X, t.y))
        out.append(_row(text, param, error, match, marks, outcome))
    return out


def data_rows():
    out = []
    for text, estimator, make_args, error, match, marks in t.DATA:
        (X_, y_), params = make_args()
        cv = t.GroupKFold(2) if "groups" in params else 2
        name = "C" if hasattr(estimator, "C") else "alpha"
        param = next(iter(params), "y" if "y" in text else "X")
        outcome = _run(
            _plain(lambda f, m, e=estimator, cv=cv, n=name:
                   t.search("genetic", e, {n: t.Real(0.1, 10.0)}, cv=cv)),
            lambda s, X_=X_, y_=y_, p=params: s.fit(X_, y_, **p))
        out.append(_row(text, param, error, match, marks, outcome))
    return out


def checkpoint_rows():
    out = []
    for text, make, error, match, marks in t.CHECKPOINTS:
        outcome = _run(_plain(make), lambda s: s.fit(t.X, t.y))
        out.append(_row(f"``checkpoint``: {text}", "checkpoint", error, match, marks,
                        outcome))
    return out


def cli_rows():
    out = []
    for text, argv, match, marks in t.CLI:
        def setup(folder, mp, fitted, argv=argv):
            from sklearn.pipeline import Pipeline

            def spy(self, *args, **kwargs):
                fitted.append(self)
                raise t._PipelineFitted("the command fitted a model")

            mp.setattr(Pipeline, "fit", spy)
            return argv(folder)

        def call(args):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = t.main(args + ["--quick", "--no-progress"])
            lines = err.getvalue().strip().splitlines()
            message = lines[0] if lines else ""
            if code != 2 or len(lines) != 1:
                raise RuntimeError(f"exit {code}: {message}")
            raise SystemExit(message)

        outcome = _run(setup, call)
        param = text.split()[0] if text.startswith("--") else "--dataset (CSV)"
        out.append(_row(f"``skautosearch {text}``" if text.startswith("--") else text,
                        param, SystemExit, match, marks, outcome))
    return out


def keras_rows():
    pytest.importorskip("keras")
    from skautosearch.keras import KerasClassifier, build_mlp

    def student():
        return KerasClassifier(build_mlp, model__hidden_units=(4,), epochs=1, verbose=0,
                               loss="sparse_categorical_crossentropy", random_state=0)

    out = []
    for text, make, data, error, match in t.COMPRESSION:
        outcome = _run(_keras_spy(lambda make=make: make(student())), lambda c, d=data: c.fit(*d))
        param = _compression_param(text, re.search(r"(\w+)=", text))
        out.append(_row(text, param, error, match, (), outcome))
    for text, params, error, match in t.KERAS_WRAPPERS:
        outcome = _run(_keras_spy(lambda p=params: student().set_params(**p)),
                       lambda e: e.fit(t.X_img, t.y))
        out.append(_row(f"``KerasClassifier({text})``", next(iter(params)), error, match,
                        (), outcome))
    return out


def _compression_param(text, found):
    for word in ("teacher", "student", "initial_sparsity", "sparsity"):
        if word in text:
            return word
    if "lengths" in text:
        return "X, y"
    if "NaN in X" in text:
        return "X"
    if "scikit-learn estimator" in text:
        return "estimator"
    return found.group(1) if found and found.group(1) else text.split()[1].split("=")[0]


def _keras_spy(make):
    def setup(folder, mp, fitted):
        import keras

        def spy(self, *args, **kwargs):
            fitted.append(self)
            raise AssertionError("a Keras model was fitted")

        mp.setattr(keras.Model, "fit", spy)
        return make()
    return setup


def _table(title, rows):
    lines = [title, "~" * len(title), "", ".. list-table::", "   :header-rows: 1",
             "   :widths: 30 14 40 8 8", "",
             "   * - Input", "     - Parameter", "     - Error", "     - Before any fit",
             "     - Files unchanged"]
    for row in rows:
        cells = [str(c).replace("\n", " ") for c in row]
        lines.append(f"   * - {cells[0]}")
        lines.extend(f"     - {c}" for c in cells[1:])
    return "\n".join(lines) + "\n"


def main():
    tables = [
        ("Search parameters, spaces and objectives", search_rows()),
        ("Data given to fit", data_rows()),
        ("Checkpoints", checkpoint_rows()),
        ("The command line", cli_rows()),
    ]
    try:
        tables.append(("Compression and Keras wrappers", keras_rows()))
    except pytest.skip.Exception:
        pass
    total = sum(len(rows) for _, rows in tables)
    print(f".. {total} bad inputs; generated by tests/bad_input_table.py\n")
    for title, rows in tables:
        print(_table(title, rows))


if __name__ == "__main__":
    main()
