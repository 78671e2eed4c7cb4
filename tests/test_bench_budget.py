"""benchmarks/bench_budget.py: method lists, the ratio tables, and a --quick run.

The benchmark itself trains hundreds of CNNs; the Keras test runs one budgeted
search of its --quick setting (2 epochs, 3 candidates) and checks that the epochs
its callback counts are the epochs the search says it trained.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_budget.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_budget", PATH)
    module = importlib.util.module_from_spec(spec)
    # Registered so that the fold models a budgeted search saves, whose epoch-counting
    # callback pickles as bench_budget.epoch_counter, can be pickled.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_method_groups_expand_in_run_order(bench):
    assert bench.expand_methods("eqtime,bayes_full,random") == [
        "random", "bayes_full", "genetic_budget_eqtime", "annealing_budget_eqtime",
        "bayes_budget_eqtime"]
    with pytest.raises(SystemExit, match="unknown method 'randm'"):
        bench.expand_methods("randm")


def _record(method, seed, epochs, wall, acc):
    return {"method": method, "seed": seed, "epochs": epochs, "wall": wall,
            "val_score": acc, "test_acc": acc, "params": {"model__kernel_size": 3}}


def test_ratios_are_per_seed_then_median(bench, capsys):
    table = bench._by_method({"results": [
        _record("random", 0, 324, 80.0, 0.98), _record("random", 1, 324, 100.0, 0.97),
        _record("genetic_budget", 0, 117, 20.0, 0.985),
        _record("genetic_budget", 1, 108, 50.0, 0.95)]})
    bench.print_ratios(table)
    out = capsys.readouterr().out
    # epochs 117/324 = 0.36 and 108/324 = 0.33, median 0.35; wall 0.25 and 0.50.
    assert "| genetic_budget / random | epochs ratio | 0.35 (0.36, 0.33) |" in out
    assert "| genetic_budget / random | wall ratio | 0.38 (0.25, 0.50) |" in out
    assert "| genetic_budget - random | test_acc difference (points) | -0.8 (+0.5, -2.0) |" in out
    assert "halving" not in out  # not run: no row


@pytest.mark.keras
def test_quick_run_counts_the_epochs_the_search_trained_and_appends(bench, tmp_path):
    pytest.importorskip("tensorflow")
    out = tmp_path / "results.json"
    out.write_text(json.dumps([{"id": "earlier", "results": []}]))
    bench.main(["--quick", "--methods", "genetic_budget", "--out", str(out)])
    runs = json.loads(out.read_text())
    assert [r["id"] for r in runs][0] == "earlier" and len(runs) == 2
    (record,) = runs[1]["results"]
    # Rungs 1 and 2 epochs: 3 candidates x 1 epoch, then the best continues 1 more.
    assert record["n_resources"] == [1, 2]
    assert record["epochs"] == record["resources_trained"] == 3 * 1 + 1
    assert set(record["params"]) == set(bench.Digits.SPACE)
    assert len(record["test_accs"]) == 1 and 0.0 <= record["test_acc"] <= 1.0


def test_the_table_prints_the_median_of_counts(bench, capsys):
    # Three seeds of integer counts: the median is a float (a crash once lost the table).
    rows = [_record("random", seed, 324, 90.0 + seed, 0.98) for seed in range(3)]
    run = {"results": rows, "settings": {"task": "digits", "max_epochs": 27, "retrains": 3},
           "command": "bench", "host": "h", "cpus": 2, "tensorflow": "t", "keras": "k",
           "sklearn": "s", "keras_tuner": None, "loadavg_start": 0.1, "loadavg_end": 0.2}
    for r in rows:
        r.update(params={"model__units": 8}, val_score=0.9, n_candidates=12)
    bench.print_tables(run)
    assert "| random | 12 (12, 12, 12) | 324 (324, 324, 324) |" in capsys.readouterr().out
