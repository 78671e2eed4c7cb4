import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, StratifiedKFold
from sklearn.svm import SVC

from skautosearch.cli import ESTIMATORS, main
from skautosearch.cli._searches import ChunkedGridSearchCV, ChunkedRandomizedSearchCV

# A tiny comparison: iris, 2 folds, 4 candidates per search, grid of 16 (--quick).
TINY = ["compare", "--dataset", "iris", "--quick", "--cv", "2", "--n-iter", "4", "--no-progress"]


def _error_line(capsys, argv):
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("skautosearch: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


@pytest.fixture
def csv_file(tmp_path):
    def write(rows, name="data.csv"):
        path = tmp_path / name
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows(rows)
        return str(path)

    return write


def _table(n=40, colour=False):
    rng = np.random.default_rng(0)
    header = ["x1", "x2"] + (["colour"] if colour else []) + ["label"]
    rows = [header]
    for i in range(n):
        row = [f"{rng.normal():.3f}", f"{rng.normal() + i % 2:.3f}"]
        row += [["red", "blue"][i % 2]] if colour else []
        rows.append(row + [["yes", "no"][i % 2]])
    return rows


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "no-such-data"], "unknown dataset 'no-such-data'"),
        (["--estimator", "xgboost"], "argument --estimator: invalid choice: 'xgboost'"),
        (["--strategies", "grid,hill-climbing"], "unknown strategy hill-climbing"),
        (["--cv", "1"], "argument --cv: 1 is below 2"),
        (["--n-iter", "many"], "argument --n-iter: 'many' is not an integer"),
        (["--n-jobs", "0"], "argument --n-jobs: 0 jobs"),
        (["--dataset", "missing.csv"], "no such file: 'missing.csv'"),
        (["--dataset", "iris", "--target", "y"], "--target is only for CSV files"),
        (["--dataset", "iris", "--estimator", "keras-cnn"],
         "--estimator keras-cnn needs 8x8 images"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    assert message in _error_line(capsys, ["compare"] + argv)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--cv", "1"], "argument --cv: 1 is below 2"),
        (["--model", "gru"], "argument --model: invalid choice: 'gru'"),
        (["--strategies", "grid,hill-climbing"], "unknown strategy hill-climbing"),
        (["--n-iter", "0"], "argument --n-iter: 0 is below 1"),
        (["--seed", "-1"], "argument --seed: -1 is not in [0, 4294967295]"),
        (["run", "--n-jobs", "0"], "argument --n-jobs: 0 jobs"),
        (["report"], "the following arguments are required: FOLDER"),
        (["compare", "--model", "cnn"], "unrecognized arguments: --model cnn"),
    ],
)
def test_bad_workflow_arguments_exit_2_with_one_line(capsys, argv, message):
    assert message in _error_line(capsys, argv)


def test_compare_options_without_a_sub_command_run_compare(capsys):
    # The command's options before sub-commands existed keep their meaning.
    line = _error_line(capsys, ["compare", "--dataset", "no-such-data", "--quick"])
    assert "unknown dataset 'no-such-data'" in line


def test_output_that_is_a_file_is_refused_before_anything_runs(capsys, tmp_path):
    path = tmp_path / "results"
    path.write_text("my notes\n")
    for argv in (["--quick"], TINY):
        line = _error_line(capsys, argv + ["--output", str(path)])
        assert "--output" in line and "is a file" in line
    assert path.read_text() == "my notes\n"


def test_report_of_a_folder_without_results_exits_2(capsys, tmp_path):
    assert "has no results.json" in _error_line(capsys, ["report", str(tmp_path)])
    missing = str(tmp_path / "nowhere")
    assert "is not a folder" in _error_line(capsys, ["report", missing])
    (tmp_path / "results.json").write_text("{not json")
    assert "cannot read" in _error_line(capsys, ["report", str(tmp_path)])


def test_workflow_without_the_keras_extra_exits_2(capsys, monkeypatch, tmp_path):
    import skautosearch

    monkeypatch.delattr(skautosearch, "keras", raising=False)
    monkeypatch.setitem(sys.modules, "skautosearch.keras", None)
    line = _error_line(capsys, ["--quick", "--output", str(tmp_path / "out")])
    assert "pip install 'skautosearch[keras]'" in line


def test_a_failure_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch,
                                                            tmp_path):
    from skautosearch.cli import compare

    def broken(*args, **kwargs):
        raise RuntimeError("the searches broke\nsecond line")

    monkeypatch.setattr(compare, "_fit_all", broken)
    argv = TINY + ["--output", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["skautosearch: failed: RuntimeError: the searches broke "
                   "(--debug for the traceback)"]
    assert main(argv + ["--debug"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in broken" in err
    assert err.strip().splitlines()[-1] == (
        "skautosearch: failed: RuntimeError: the searches broke")


def test_csv_errors_exit_2_with_one_line(capsys, csv_file, tmp_path):
    path = csv_file(_table())
    assert "--target is required" in _error_line(capsys, ["compare", "--dataset", path])
    line = _error_line(capsys, ["compare", "--dataset", path, "--target", "species"])
    assert "target column 'species' is not in" in line and "x1, x2, label" in line
    text = csv_file(_table(colour=True), "colour.csv")
    line = _error_line(capsys, ["compare", "--dataset", text, "--target", "label"])
    assert "feature column 'colour' is not numeric" in line and "--encode" in line
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 50)
    assert "not a readable CSV" in _error_line(capsys, ["compare", "--dataset", str(binary)])
    assert "is a folder" in _error_line(capsys, ["compare", "--dataset", str(tmp_path)])
    rows = _table()
    rows[3][0] = ""
    holes = csv_file(rows, "holes.csv")
    assert "'x1' has missing values" in _error_line(
        capsys, ["compare", "--dataset", holes, "--target", "label"])
    rows = _table()
    rows[5][1] = "NA"
    assert "'x2' has missing values" in _error_line(
        capsys, ["compare", "--dataset", csv_file(rows, "na.csv"), "--target", "label"])
    assert "header has 4" in _error_line(
        capsys, ["compare", "--dataset", csv_file([["a", "b", "c", "d"], ["1", "2"]], "short.csv"),
                 "--target", "d"])


def test_keras_estimator_without_the_extra_exits_2(capsys, monkeypatch):
    import skautosearch

    monkeypatch.delattr(skautosearch, "keras", raising=False)
    monkeypatch.setitem(sys.modules, "skautosearch.keras", None)
    line = _error_line(capsys, ["compare", "--estimator", "keras-mlp", "--dataset",
                                "iris"])
    assert "pip install skautosearch[keras]" in line


def test_help_explains_every_option(capsys):
    assert main(["compare", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ["--dataset", "--target", "--estimator", "--strategies", "--n-iter",
                   "--cv", "--n-jobs", "--seed", "--output", "--quick", "--encode",
                   "--checkpoint", "--debug", "--space", "--param"]:
        assert option in text
    for name in ESTIMATORS:
        assert name in text
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for option in ["--model", "--strategies", "--n-iter", "--cv", "--objectives",
                   "--quick", "--n-jobs", "--seed", "--output", "--no-progress",
                   "--debug", "run", "compare", "report", "--space", "--param",
                   "filters_1=[16, 32] if n_blocks>=2"]:
        assert option in text
    assert main(["report", "--help"]) == 0
    assert "FOLDER" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("skautosearch 0.")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    code = main(TINY + ["--output", str(out)])
    return code, out


def test_run_writes_summary_results_and_plots(tiny_run, capsys):
    code, out = tiny_run
    assert code == 0
    assert sorted(os.listdir(out)) == [
        "annealing.png", "convergence.png", "cv_results.csv", "genetic.png",
        "report.html", "results.json", "summary.csv"]
    with open(out / "summary.csv") as f:
        summary = list(csv.DictReader(f))
    assert [r["method"] for r in summary] == [
        "GridSearchCV", "RandomizedSearchCV", "GeneticSearchCV", "AnnealingSearchCV",
        "BayesianSearchCV"]
    grid = summary[0]
    assert (grid["n_candidates"], grid["n_fits"]) == ("16", "32")
    assert int(grid["fits_to_grid_best"]) <= 32
    for row in summary[1:]:
        assert row["n_fits"] == "8"  # 4 candidates x 2 folds
        assert 0 <= float(row["test_score"]) <= 1
        reached = row["fits_to_grid_best"]
        assert reached == "" or int(reached) <= 8
        if float(row["best_cv_score"]) >= float(grid["best_cv_score"]):
            assert reached != ""
    assert json.loads(grid["best_params"]).keys() == {"model__C", "model__gamma"}


def test_results_json_has_config_summary_and_every_candidate(tiny_run):
    _, out = tiny_run
    with open(out / "results.json") as f:
        results = json.load(f)
    assert results["config"]["dataset"] == "iris"
    assert results["config"]["n_iter"] == 4 and results["config"]["cv"] == 2
    assert len(results["summary"]) == 5
    rows = results["cv_results"]
    assert len(rows) == 16 + 4 * 4
    by_method = {}
    for row in rows:
        by_method.setdefault(row["method"], []).append(row)
    for method, method_rows in by_method.items():
        best = [r["best_so_far"] for r in method_rows]
        assert best == sorted(best), method
        summary = next(s for s in results["summary"] if s["method"] == method)
        assert best[-1] == pytest.approx(summary["best_cv_score"])
        assert [r["n_fits"] for r in method_rows] == [
            2 * (i + 1) for i in range(len(method_rows))]
    assert {r["generation"] for r in by_method["GeneticSearchCV"]} >= {0}
    assert "temperature" in by_method["AnnealingSearchCV"][0]
    with open(out / "cv_results.csv") as f:
        assert len(list(csv.DictReader(f))) == len(rows)


def test_report_of_a_comparison_is_rebuilt_from_its_folder(tiny_run, tmp_path):
    import re
    import shutil

    _, out = tiny_run
    page = (out / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,[^"]+"', page)
    assert len(images) == 3  # convergence, generations, annealing
    assert "<pre>skautosearch compare --dataset iris --quick" in page
    for method in ["GridSearchCV", "RandomizedSearchCV", "GeneticSearchCV",
                   "AnnealingSearchCV", "BayesianSearchCV"]:
        assert f"<td>{method}</td>" in page
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for name in ["report.html", "convergence.png", "genetic.png", "annealing.png"]:
        os.remove(copy / name)
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.html").read_text(encoding="utf-8") == page


def test_run_prints_the_comparison_table(tmp_path, capsys):
    code = main(TINY + ["--strategies", "random", "--output", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("method"))
    assert header.split("  ")[0] == "method"
    for column in ["best CV score", "test score", "fits", "fits to grid best",
                   "time (s)"]:
        assert column in header
    assert "n/a (no grid)" in out
    assert sorted(os.listdir(tmp_path)) == [
        "convergence.png", "cv_results.csv", "report.html", "results.json",
        "summary.csv"]


def test_csv_with_text_features_runs_with_encode(tmp_path, csv_file, capsys):
    path = csv_file(_table(n=60, colour=True))
    argv = ["compare", "--dataset", path, "--target", "label", "--encode", "--strategies",
            "grid,random", "--estimator", "knn", "--quick", "--cv", "2",
            "--n-iter", "3", "--no-progress", "--output", str(tmp_path)]
    assert main(argv) == 0
    assert "data.csv: 60 rows, 3 features, classification" in capsys.readouterr().out


def test_csv_numeric_target_is_a_regression(tmp_path, csv_file, capsys):
    rows = [["a", "b", "price"]] + [
        [str(i), str(i % 7), f"{i * 1.5 + 0.25:.2f}"] for i in range(40)]
    argv = ["compare", "--dataset", csv_file(rows), "--target", "price", "--estimator", "linear",
            "--strategies", "random", "--quick", "--cv", "2", "--n-iter", "3",
            "--no-progress", "--output", str(tmp_path)]
    assert main(argv) == 0
    assert "regression; estimator linear" in capsys.readouterr().out
    with open(tmp_path / "summary.csv") as f:
        row = next(csv.DictReader(f))
    assert json.loads(row["best_params"]).keys() == {"model__alpha"}


def test_module_entry_point_runs_without_tensorflow(tmp_path):
    code = (
        "import sys; from skautosearch.cli import main; "
        f"rc = main({TINY + ['--strategies', 'genetic', '--output', str(tmp_path)]!r});"
        " print('TF' if 'tensorflow' in sys.modules else 'no TF'); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("no TF")
    proc = subprocess.run([sys.executable, "-m", "skautosearch", "--dataset", "nope"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown dataset 'nope'" in proc.stderr


def test_repeated_warnings_are_counted_on_one_line(tmp_path, capsys):
    argv = ["compare", "--dataset", "iris", "--estimator", "mlp", "--strategies", "random",
            "--quick", "--cv", "2", "--n-iter", "3", "--no-progress",
            "--output", str(tmp_path)]
    assert main(argv) == 0
    lines = [line for line in capsys.readouterr().err.splitlines()
             if "ConvergenceWarning" in line]
    assert len(lines) == 1
    assert lines[0].startswith("RandomizedSearchCV: ")
    assert 1 <= int(lines[0].split(": ")[1].split(" x ")[0]) <= 6


@pytest.mark.parametrize("chunked_name", ["grid", "random"])
def test_chunked_searches_match_scikit_learn(chunked_name):
    # The command evaluates GridSearchCV's and RandomizedSearchCV's candidates in
    # chunks to draw progress; the results must be scikit-learn's own.
    X, y = load_iris(return_X_y=True)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    if chunked_name == "grid":
        args = (SVC(), {"C": [0.01, 0.1, 1, 10, 100], "gamma": [0.01, 0.1]})
        kwargs = dict(cv=cv)
        ours, theirs = ChunkedGridSearchCV, GridSearchCV
        expected_calls = [4, 8, 10]
    else:
        args = (SVC(), {"C": loguniform(1e-2, 1e2), "gamma": [0.01, 0.1]})
        kwargs = dict(cv=cv, n_iter=9, random_state=0)
        ours, theirs = ChunkedRandomizedSearchCV, RandomizedSearchCV
        expected_calls = [4, 8, 9]
    calls = []
    chunked = ours(*args, **kwargs)
    chunked.progress = lambda search, results: calls.append(len(results["params"]))
    chunked.fit(X, y)
    reference = theirs(*args, **kwargs).fit(X, y)
    assert calls == expected_calls  # one progress update per chunk of 4
    assert chunked.cv_results_["params"] == reference.cv_results_["params"]
    for key in ["mean_test_score", "rank_test_score", "split1_test_score"]:
        np.testing.assert_array_equal(chunked.cv_results_[key],
                                      reference.cv_results_[key])
    assert chunked.best_params_ == reference.best_params_


def test_docstring_examples_run():
    import doctest

    from skautosearch import cli as module

    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_checkpoint_resumes_a_rerun_without_refitting(tmp_path, capsys):
    argv = TINY + ["--strategies", "genetic,bayes", "--checkpoint", "--output", str(tmp_path)]
    assert main(argv) == 0
    journals = sorted(os.listdir(tmp_path / "checkpoints"))
    assert journals == ["bayes.jsonl", "genetic.jsonl"]
    first = json.loads((tmp_path / "results.json").read_text())
    sizes = {name: (tmp_path / "checkpoints" / name).stat().st_size for name in journals}
    assert main(argv) == 0
    again = json.loads((tmp_path / "results.json").read_text())
    # Nothing new was fitted, so the journals did not grow, and the results are the same.
    assert sizes == {name: (tmp_path / "checkpoints" / name).stat().st_size
                     for name in journals}
    assert [r["best_cv_score"] for r in first["summary"]] == \
        [r["best_cv_score"] for r in again["summary"]]


def test_progress_bars_survive_parallel_workers(tmp_path, capsys):
    # scikit-learn pickles the search (its progress bar included) for each worker.
    argv = [a for a in TINY if a != "--no-progress"] + [
        "--strategies", "grid,genetic", "--n-jobs", "2", "--output", str(tmp_path)]
    assert main(argv) == 0
    with open(tmp_path / "summary.csv") as f:
        assert [r["n_fits"] for r in csv.DictReader(f)] == ["32", "8"]
    assert "32/32" in capsys.readouterr().err  # the grid's bar reached its end


# -------------------------------------------------------- --space and --param

SVM_SPACE = [
    "kernel=[linear, poly, rbf]",
    "C=real(1e-2, 1e2, log)",
    "degree=[2, 3] if kernel==poly",
    "gamma=[0.01, 0.1, 1] if kernel!=linear",
]


def _fitted_searches(monkeypatch):
    """Keep the fitted searches of the next compare run."""
    from skautosearch.cli import compare

    kept = {}
    fit_all = compare._fit_all

    def keep(*args, **kwargs):
        kept.update(fit_all(*args, **kwargs))
        return kept

    monkeypatch.setattr(compare, "_fit_all", keep)
    return kept


def test_a_conditional_param_space_in_every_strategy_of_compare(tmp_path, monkeypatch):
    fitted = _fitted_searches(monkeypatch)
    argv = TINY + ["--n-iter", "6", "--output", str(tmp_path)]
    for line in SVM_SPACE:
        argv += ["--param", line]
    assert main(argv) == 0
    assert list(fitted) == ["grid", "random", "genetic", "annealing", "bayes"]
    for name, search in fitted.items():
        res = search.cv_results_
        kernels = list(res["param_model__kernel"])
        for param, active in (("degree", lambda k: k == "poly"),
                              ("gamma", lambda k: k != "linear")):
            column = res[f"param_model__{param}"]
            # inactive: masked in cv_results_ and never passed to the estimator
            assert list(np.ma.getmaskarray(column)) == [not active(k) for k in kernels], name
            for params in res["params"]:
                assert (f"model__{param}" in params) == active(params["model__kernel"])
        candidates = [tuple(sorted(p.items())) for p in res["params"]]
        assert len(candidates) == len(set(candidates)), name  # none refitted
    # The grid: 2 points of C; linear 2, poly 2 x 2 degrees x 3 gammas, rbf 2 x 3.
    assert len(fitted["grid"].cv_results_["params"]) == 2 + 12 + 6
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"]["space_lines"] == SVM_SPACE
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "degree=[2, 3] if kernel==poly" in page


def test_a_space_file_or_standard_input_replaces_the_estimators_space(
        tmp_path, monkeypatch):
    import io

    path = tmp_path / "space.txt"
    path.write_text("# a linear or polynomial SVM\n\n" + "\n".join(SVM_SPACE[:3]) + "\n")
    argv = TINY + ["--strategies", "grid,random", "--output", str(tmp_path / "out")]
    for space in (str(path), "-"):
        monkeypatch.setattr(sys, "stdin", io.StringIO(path.read_text()))
        fitted = _fitted_searches(monkeypatch)
        assert main(argv + ["--space", space]) == 0
        for search in fitted.values():
            for params in search.cv_results_["params"]:
                assert set(params) == {"model__kernel", "model__C"} | (
                    {"model__degree"} if params["model__kernel"] == "poly" else set())


@pytest.mark.parametrize("lines, message", [
    (["C=real(1, 0)"], "--param: 'C=real(1, 0)': low must be less than high"),
    (["C=[1, 2", "gamma=[1]"], "--param: 'C=[1, 2': '[1, 2' lacks its closing ']'"),
    (["Cc=[1, 10]"], "--param: 'Cc=[1, 10]': 'Cc' is not a parameter of SVC; did you "
                     "mean C?"),
    (["C=[1]", "degree=[2, 3] if kernal==poly"],
     "'kernal' is not a parameter of SVC; did you mean kernel?"),
    (["C=[1]", "degree=[2, 3] if kernel==poly"],
     "--param: 'degree=[2, 3] if kernel==poly': the condition reads 'kernel', which "
     "the space does not search"),
    (["C=[1]", "C=[2]"], "--param: 'C=[2]' gives 'C' again (first in --param: 'C=[1]')"),
])
def test_bad_param_lines_exit_2_naming_the_line(capsys, monkeypatch, lines, message):
    from skautosearch.cli import compare

    monkeypatch.setattr(compare, "_fit_all", None)  # nothing may be fitted
    argv = ["compare", "--dataset", "iris"]
    for line in lines:
        argv += ["--param", line]
    assert message in _error_line(capsys, argv)


def test_a_bad_space_file_exits_2_naming_the_file_and_line(capsys, tmp_path):
    path = tmp_path / "space.txt"
    path.write_text("# my space\nC=real(1e-2, 1e2, log)\ngamma=log(1e-3, 1)\n")
    line = _error_line(capsys, ["compare", "--dataset", "iris", "--space", str(path)])
    assert f"{path} line 3: 'gamma=log(1e-3, 1)'" in line and "is not a dimension" in line
    line = _error_line(capsys, ["compare", "--space", str(tmp_path / "none.txt")])
    assert "--space: no such file" in line
    # The workflow reads its lines before TensorFlow or the data are loaded.
    line = _error_line(capsys, ["--quick", "--param", "n_blocks=[1, 2"])
    assert "--param: 'n_blocks=[1, 2'" in line and "lacks its closing ']'" in line


def test_chunked_random_search_draws_a_conditional_space_without_repeats():
    from skautosearch import Conditional, Integer

    X, y = load_iris(return_X_y=True)
    space = {"kernel": ["linear", "poly"],
             "degree": Conditional(Integer(2, 3), when={"kernel": "poly"})}
    search = ChunkedRandomizedSearchCV(SVC(), space, n_iter=10, cv=2, random_state=0)
    params = search.fit(X, y).cv_results_["params"]
    # three distinct candidates in all: linear, poly of degree 2, poly of degree 3
    assert sorted(map(str, params)) == sorted(map(str, [
        {"kernel": "linear"}, {"kernel": "poly", "degree": 2},
        {"kernel": "poly", "degree": 3}]))
    space = {"C": Integer(1, 1000, prior="log-uniform")}  # no scipy.stats twin
    search = ChunkedRandomizedSearchCV(SVC(), space, n_iter=4, cv=2, random_state=0)
    values = [p["C"] for p in search.fit(X, y).cv_results_["params"]]
    assert len(set(values)) == 4 and all(isinstance(v, int) for v in values)
