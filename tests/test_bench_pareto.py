"""benchmarks/bench_pareto.py without Keras: the target check, labels and --replot.

The benchmark itself fits hundreds of CNNs; these tests cover what turns its
saved results into the report and the figure, in about a second.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_pareto.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_pareto", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_describe_both_subspaces_and_the_grid(bench):
    quantized = {"clf": object(), "clf__dtype": "int8", "clf__estimator__model__n_blocks": 2,
                 "clf__estimator__model__filters_0": 24, "clf__estimator__model__filters_1": 57,
                 "clf__estimator__model__dense_units": 40}
    plain = {"clf": object(), "clf__model__n_blocks": 1, "clf__model__filters_0": 16,
             "clf__model__filters_1": 99, "clf__model__dense_units": 32}
    grid = {"model__n_blocks": 2, "model__filters": (64, 128), "model__dense_units": 128}
    assert bench.describe(quantized) == "int8 2x(24,57) d40"
    assert bench.describe(plain) == "float32 1x(16) d32"  # filters_1 unused with 1 block
    assert bench.describe(grid) == "float32 2x(64,128) d128"


def test_target_check(bench):
    scores = [0.985, 0.975, 0.979, 0.90, np.nan]
    sizes = [100_000, 20_000, 30_000, 5_000, 1_000]
    front = [0, 1, 2, 3, 4]
    met, rows = bench.target_check(0.985, 130_000, scores, sizes, front)
    # 0.975 is exactly 0.01 below: it counts, and it is the smallest within the gap.
    assert met and [r[0] for r in rows] == [1, 2, 0]
    assert rows[0][3] == pytest.approx(6.5)
    met, rows = bench.target_check(0.985, 70_000, scores, sizes, front)
    assert not met and rows[0][3] == pytest.approx(3.5)
    met, rows = bench.target_check(0.999, 130_000, scores, sizes, front)
    assert not met and rows == []


def _saved_run():
    grid = {
        "n_candidates": 3, "best_index": 2, "best_params": "float32 2x(64,128) d128",
        "best_score": 0.985, "best_std": 0.004, "best_size_bytes": 600_000.0,
        "best_n_params": 141_450.0, "mean_test_score": [0.93, 0.97, 0.985],
        "std_test_score": [0.01, 0.01, 0.004], "size_bytes": [60_000, 170_000, 600_000],
        "n_params": [8_000, 36_000, 141_450],
        "describe": ["float32 1x(16) d32", "float32 2x(32,64) d64", "float32 2x(64,128) d128"],
    }
    ga = {
        "seconds": 100.0, "n_candidates": 5, "n_batches": 1, "stop_reason": "n_iter",
        "best_index": 1, "front": [0, 1, 3],
        "front_n_params": {"0": 8_000, "1": 30_000, "3": 90_000},
        "mean_test_score": [0.92, 0.978, 0.95, 0.984, 0.2],
        "std_test_score": [0.01, 0.005, 0.01, 0.004, 0.1],
        "size_bytes": [30_000.0, 60_000.0, 90_000.0, 200_000.0, 40_000.0],
        "describe": ["int8 1x(16) d32", "int8 2x(30,60) d50", "float16 1x(20) d40",
                     "float16 2x(50,100) d100", "int8 1x(16) d32"],
        "failed": 0,
    }
    return {"args": {"cv": 3}, "grid": grid, "grid_seconds": 50.0,
            "searches": {"GeneticSearchCV": ga},
            "uptime_before": "load 1", "uptime_after": "load 2"}


def test_replot_writes_report_and_figure(bench, tmp_path, capsys):
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(_saved_run()))
    figure = tmp_path / "front.png"
    bench.main(["--replot", str(saved), "--out", str(figure)])
    printed = capsys.readouterr().out
    assert "**MET**" in printed and "candidate 1 (int8 2x(30,60) d50), 10.00x smaller" in printed
    assert "| 1 | int8 2x(30,60) d50 | 0.9780 |" in printed and "knee" in printed
    assert figure.stat().st_size > 10_000


def test_report_names_the_size_objective_and_the_target_ratio(bench):
    out = _saved_run()
    out["args"].update(target_ratio=15.0, size="gzip_bytes")
    text = bench.report(out)
    assert "| gzip_bytes |" in text and "bytes (gzip_bytes)" in text
    # the smallest qualifying front model (candidate 1, 10x smaller) is not 15x smaller
    assert "Target (>= 15x smaller" in text and "**NOT MET**" in text
    assert "candidate 1 (int8 2x(30,60) d50), 10.00x smaller" in text
