"""``skautosearch`` (the workflow) and ``skautosearch report``, on a tiny budget."""

import base64
import io
import json
import os
import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.keras

pytest.importorskip("tensorflow")
pytest.importorskip("scikeras")
pytest.importorskip("matplotlib")

from skautosearch.cli import main  # noqa: E402

FIGURES = ["annealing.png", "compression.png", "convergence.png", "genetic.png",
           "pareto.png", "training.png"]
SEARCHES = ["GridSearchCV", "GeneticSearchCV", "AnnealingSearchCV", "BayesianSearchCV"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One tiny workflow run (with --objectives), its folder and its printed output."""
    out = tmp_path_factory.mktemp("workflow") / "out"
    argv = ["--quick", "--objectives", "--n-jobs", "1", "--no-progress", "--output",
            str(out)]
    capture = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(capture):
        code = main(argv)
    with open(out / "results.json") as f:
        results = json.load(f)
    return code, out, capture.getvalue(), results


def test_the_run_writes_results_figures_and_the_report(quick_run):
    code, out, _, _ = quick_run
    assert code == 0
    assert sorted(os.listdir(out)) == sorted(
        ["summary.csv", "cv_results.csv", "compression.csv", "results.json",
         "report.html"] + FIGURES)


def test_one_line_per_stage_with_the_time_left(quick_run):
    _, _, printed, _ = quick_run
    stages = [line for line in printed.splitlines() if re.match(r"\[\d/4\] ", line)]
    assert [line[:5] for line in stages] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert all("left)" in line for line in stages[:3])
    for name in SEARCHES:  # each search's best so far, and the run's time left
        assert re.search(rf"  {name}: best 0\.\d{{4}} .* left in the run", printed)
    assert "architecture search  best CV accuracy" in printed
    assert "pruning + int8 quantization" in printed


def test_the_architecture_searches_share_one_budget(quick_run):
    _, _, _, results = quick_run
    arch = results["architecture"]
    rows = arch["summary"]
    assert [r["method"] for r in rows] == SEARCHES
    # The grid's size is every search's budget: same candidates, same fits.
    assert {r["n_candidates"] for r in rows} == {arch["grid_size"]} == {arch["budget"]}
    assert {r["n_fits"] for r in rows} == {2 * arch["grid_size"]}
    best = max(rows, key=lambda r: r["best_cv_score"])
    assert results["winner"]["search"] == best["method"]
    assert results["winner"]["cv_score"] == pytest.approx(best["best_cv_score"])
    # --objectives: the three searches recorded the model size of every candidate.
    for name in SEARCHES[1:]:
        cv_results = arch["searches"][name]["cv_results"]
        assert len(cv_results["mean_size_bytes"]) == arch["budget"]
        assert min(cv_results["mean_size_bytes"]) > 0


def test_the_final_model_is_the_winner_with_tuned_training(quick_run):
    _, _, _, results = quick_run
    training = results["training"]
    final = training["final_params"]
    for name, value in results["winner"]["params"].items():
        assert final[name] == value
    assert {"model__n_blocks", "model__dense_units", "model__filters_0"} <= set(final)
    # The filters of a block the model lacks are neither searched nor reported.
    assert ("model__filters_1" in final) == (final["model__n_blocks"] >= 2)
    for name, value in training["best_params"].items():
        assert final[name] == value
    assert set(training["best_params"]) == {"optimizer__learning_rate", "batch_size"}
    assert 0 <= training["test_score"] <= 1


def test_compression_rows_compare_with_the_uncompressed_model(quick_run):
    _, _, _, results = quick_run
    rows = {r["model"]: r for r in results["compression"]}
    assert list(rows) == ["uncompressed", "structured pruning (50 %)",
                          "int8 quantization", "pruning + int8 quantization"]
    base = rows["uncompressed"]
    assert base["test_accuracy"] == pytest.approx(results["training"]["test_score"])
    pruned, int8, both = (rows["structured pruning (50 %)"], rows["int8 quantization"],
                          rows["pruning + int8 quantization"])
    assert pruned["n_params"] < base["n_params"]
    assert int8["n_params"] >= base["n_params"]  # the same weights, stored in int8
    assert int8["size_bytes"] < base["size_bytes"]
    assert both["size_bytes"] < pruned["size_bytes"]
    for row in rows.values():
        assert row["size_ratio"] == pytest.approx(row["size_bytes"] / base["size_bytes"])
        assert row["batch_latency_ms"] > 0 and 0 <= row["test_accuracy"] <= 1
    # --objectives: the accuracy/size front, brute force.
    for name, row in rows.items():
        dominated = any(o["test_accuracy"] >= row["test_accuracy"]
                        and o["size_bytes"] <= row["size_bytes"]
                        and (o["test_accuracy"], o["size_bytes"])
                        != (row["test_accuracy"], row["size_bytes"])
                        for o in rows.values())
        assert row["pareto"] is (not dominated), name


def _images(page):
    return re.findall(r'<img src="([^"]*)"', page)


def test_the_report_is_one_self_contained_page(quick_run):
    from PIL import Image

    _, out, _, results = quick_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(?!data:)', page)  # no file, no network
    assert "http://" not in page and "https://" not in page
    sources = _images(page)
    assert len(sources) == len(FIGURES)
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        image = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        image.load()  # decodes every pixel: raises on a truncated or corrupt PNG
        assert image.size[0] > 300 and image.size[1] > 200
    for heading in ["1. Architecture search", "2. Training hyper-parameters",
                    "3. Compression of the final model",
                    "Parameters of the final model", "Reproduce"]:
        assert f"<h2>{heading}</h2>" in page
    assert results["command"].startswith("skautosearch --quick --objectives --n-jobs 1")
    assert f"<pre>{results['command']}</pre>" in page
    for name in SEARCHES:
        assert f"<td>{name}</td>" in page


def test_report_rebuilds_the_page_from_the_folder(quick_run, tmp_path, capsys):
    _, out, _, _ = quick_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for name in FIGURES + ["report.html"]:
        os.remove(copy / name)
    assert main(["report", str(copy)]) == 0
    assert sorted(os.listdir(copy)) == sorted(os.listdir(out))
    assert (copy / "report.html").read_text() == (out / "report.html").read_text()


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chromium() is None,
                    reason="no Chromium here (apt-get install -y chromium; CI installs it)")
def test_the_report_opens_in_chromium_without_errors(quick_run, tmp_path):
    _, out, _, _ = quick_run
    url = (out / "report.html").as_uri()
    flags = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line or "Not allowed to load" in line
               or "net::ERR" in line]
    assert console == []
    page = (out / "report.html").read_text(encoding="utf-8")
    assert _images(dom.stdout) == _images(page)  # every figure is in the loaded DOM
    shot = tmp_path / "report.png"
    subprocess.run(flags + ["--hide-scrollbars", "--window-size=1200,4000",
                            f"--screenshot={shot}", url],
                   capture_output=True, text=True, timeout=120, check=True)
    from PIL import Image

    with Image.open(shot) as image:
        image.load()
        assert image.size == (1200, 4000)
        # Figures drawn: far more than the page's few text colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 1000


def test_lstm_data_falls_back_to_synthetic_sequences_offline(monkeypatch, tmp_path):
    from skautosearch.cli import recipes

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty cache: no imdb.npz
    recipe = recipes.RECIPES["lstm"](quick=True)
    X, X_test, y, y_test, note = recipes.load_data(recipe, seed=0)
    assert note.startswith("SYNTHETIC token sequences")
    assert X.shape == (recipe.n_train, 100) and X_test.shape == (recipe.n_train, 100)
    assert set(y) == set(y_test) == {0, 1}
    assert not os.listdir(tmp_path)  # nothing was downloaded


def test_budget_runs_the_architecture_searches_by_successive_halving(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["--quick", "--budget", "--strategies", "grid,genetic", "--n-jobs", "1",
                 "--no-progress", "--output", str(out)])
    assert code == 0
    with open(out / "results.json") as f:
        results = json.load(f)
    text = json.dumps(results)
    assert '"n_resources"' in text and '"resources_trained"' in text


ARCHITECTURE = ["n_blocks=[1, 2, 3]", "filters_0=[4]", "filters_1=[4, 8] if n_blocks>=2",
                "dense_units=[8]"]


def test_a_conditional_architecture_space_replaces_the_recipes(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "--quick", "--strategies", "grid,random,genetic", "--n-iter", "3",
            "--n-jobs", "1", "--no-progress", "--output", str(out)]
    for line in ARCHITECTURE:
        argv += ["--param", line]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    arch = results["architecture"]
    # One block: 1 network; two or three blocks: 2 filters for the second each.
    assert arch["grid_size"] == 1 + 2 * 2 and arch["space_lines"] == ARCHITECTURE
    for label, record in arch["searches"].items():
        candidates = record["cv_results"]["params"]
        for params in candidates:
            assert set(params) == {"model__n_blocks", "model__filters_0",
                                   "model__dense_units"} | (
                {"model__filters_1"} if params["model__n_blocks"] >= 2 else set()), label
        assert len({json.dumps(p, sort_keys=True) for p in candidates}) == len(candidates)
    assert len(arch["searches"]["GridSearchCV"]["cv_results"]["params"]) == 5
    final = results["training"]["final_params"]
    assert ("model__filters_1" in final) == (final["model__n_blocks"] >= 2)
    assert "model__kernel_size" not in results["winner"]["params"]


@pytest.mark.parametrize("lines, message", [
    (["n_blocks=[1, 2]", "dense_units=int(8, 32)"],
     "--param: 'dense_units=int(8, 32)': GridSearchCV needs a list of values for "
     "'model__dense_units'"),
    (["n_blocks=[1, 2]", "units=[8]"],
     "--param: 'units=[8]': 'units' is not a parameter of KerasClassifier"),
])
def test_bad_architecture_lines_exit_2_before_any_fit(capsys, tmp_path, lines, message):
    argv = ["--quick", "--output", str(tmp_path / "out")]
    for line in lines:
        argv += ["--param", line]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "out").exists()
