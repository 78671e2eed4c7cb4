import sys

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.svm import SVC

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import skautosearch  # noqa: E402
from skautosearch import plot  # noqa: E402

X, y = load_iris(return_X_y=True)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def grid():
    space = {"C": [0.01, 0.1, 1.0, 10.0, 100.0], "kernel": ["rbf", "linear"]}
    return GridSearchCV(SVC(), space, cv=2).fit(X, y)


@pytest.fixture(scope="module")
def randomized():
    space = {"C": loguniform(1e-2, 1e2), "gamma": [0.1, 0.2, 0.3],
             "shrinking": [True, False]}
    return RandomizedSearchCV(SVC(), space, n_iter=6, cv=2, random_state=0).fit(X, y)


class _Fitted:
    """A fitted search with a strategy's extra cv_results_ columns."""

    refit = True
    scoring = None
    n_splits_ = 2
    estimator = SVC()

    def __init__(self, **columns):
        n = len(columns["mean_test_score"])
        self.cv_results_ = {"params": [{"C": float(i + 1)} for i in range(n)],
                            **columns}


def test_convergence_has_title_labels_and_one_legend_entry_per_search(grid, randomized):
    ax = plot.plot_convergence({"grid": grid, "random": randomized},
                               reference=grid.best_score_, reference_label="grid best")
    assert ax.get_title() == "Convergence: best score against number of fits"
    assert ax.get_xlabel() == "number of fits"
    assert ax.get_ylabel() == "best mean CV score (accuracy) so far"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == f"grid: {grid.best_score_:.4f} after 20 fits"
    assert labels[1].startswith("random: ") and labels[1].endswith("after 12 fits")
    assert labels[2] == "grid best"
    low, high = ax.get_ylim()
    assert low < min(grid.best_score_, randomized.best_score_)
    assert high > grid.best_score_


def test_convergence_lines_are_the_best_so_far(grid):
    ax = plot.plot_convergence([grid])
    x, y_line = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(1, 11) * 2)
    np.testing.assert_array_equal(
        y_line, np.maximum.accumulate(grid.cv_results_["mean_test_score"]))
    assert [t.get_text() for t in ax.get_legend().get_texts()][0].startswith(
        "GridSearchCV: ")


def test_convergence_draws_into_a_given_axes_and_rejects_nothing(grid):
    _, ax = plt.subplots()
    assert plot.plot_convergence(grid, ax=ax) is ax
    with pytest.raises(ValueError, match="empty"):
        plot.plot_convergence({})


def test_parameters_uses_log_axes_for_log_uniform_and_wide_lists(grid, randomized):
    axes = plot.plot_parameters(randomized)
    scales = {ax.get_xlabel(): ax.get_xscale() for ax in axes}
    assert scales == {"C": "log", "gamma": "linear", "shrinking": "linear"}
    # the panels share their y axis: one label on the left
    assert [ax.get_ylabel() for ax in axes] == ["mean CV score (accuracy)", "", ""]
    assert axes[0].figure.get_suptitle() == (
        "RandomizedSearchCV: score against each parameter")
    # a list spanning four decades reads as log; categories get their names as ticks
    c_ax, kernel_ax = plot.plot_parameters(grid)
    assert c_ax.get_xscale() == "log"
    assert [t.get_text() for t in kernel_ax.get_xticklabels()] == ["rbf", "linear"]


def test_parameters_marks_the_best_candidate(grid):
    (c_ax,) = plot.plot_parameters(grid, params=["C"])
    best = c_ax.collections[1].get_offsets()[0]
    assert best[1] == grid.best_score_
    assert best[0] == grid.best_params_["C"]


def test_parameters_rejects_unknown_or_constant_parameters(grid):
    with pytest.raises(ValueError, match="Unknown parameter"):
        plot.plot_parameters(grid, params=["gamma"])
    constant = GridSearchCV(SVC(), {"C": [1.0]}, cv=2).fit(X, y)
    with pytest.raises(ValueError, match="No parameter varies"):
        plot.plot_parameters(constant)


def test_generations_plots_best_mean_worst_per_generation():
    search = _Fitted(mean_test_score=[0.2, 0.6, 0.4, 0.9, np.nan, 0.5],
                     generation=[0, 0, 0, 1, 1, 1])
    ax = plot.plot_generations(search)
    assert ax.get_xlabel() == "generation"
    assert ax.get_ylabel() == "mean CV score (accuracy)"
    assert ax.get_title() == "_Fitted: fitness by generation"
    lines = {line.get_label(): line.get_ydata().tolist() for line in ax.lines}
    assert lines["best"] == [0.6, 0.9]
    assert lines["worst"] == [0.2, 0.5]
    assert lines["mean"] == pytest.approx([0.4, 0.7])


def test_annealing_plots_the_initial_sample_each_chain_and_the_temperature():
    search = _Fitted(mean_test_score=[0.3, 0.4, 0.35, 0.5, 0.45, 0.6, 0.2],
                     step=[0, 0, 0, 1, 1, 2, 2], chain=[-1, -1, -1, 0, 1, 0, 1],
                     temperature=[1.0, 1.0, 1.0, 0.1, 0.1, 0.001, 0.001])
    score_ax, temp_ax = plot.plot_annealing(search)
    legend = [t.get_text() for t in score_ax.get_legend().get_texts()]
    assert legend == ["initial sample", "chain 0", "chain 1", "best"]
    assert [line.get_label() for line in score_ax.lines] == ["chain 0", "chain 1"]
    assert score_ax.lines[1].get_ydata().tolist() == [0.45, 0.2]
    initial = score_ax.collections[0].get_offsets()
    assert initial[:, 1].tolist() == [0.3, 0.4, 0.35]
    assert temp_ax.lines[0].get_ydata().tolist() == [1.0, 0.1, 0.001]
    assert temp_ax.get_ylabel() == "temperature" and temp_ax.get_xlabel() == "step"
    assert temp_ax.get_yscale() == "log"  # three decades


def test_strategy_plots_name_the_missing_columns(grid):
    with pytest.raises(ValueError, match=r"\['generation'\].*GridSearchCV"):
        plot.plot_generations(grid)
    with pytest.raises(ValueError, match="step"):
        plot.plot_annealing(grid)


def test_core_searches_plot():
    space = {"C": loguniform(1e-2, 1e2), "gamma": loguniform(1e-3, 1e1)}
    kw = dict(n_iter=6, cv=2, random_state=0)
    genetic = skautosearch.GeneticSearchCV(SVC(), space, population_size=3, **kw)
    annealing = skautosearch.AnnealingSearchCV(SVC(), space, **kw)
    ax = plot.plot_generations(genetic.fit(X, y))
    generations = sorted(set(genetic.cv_results_["generation"]))
    assert len(generations) > 1
    assert ax.lines[0].get_xdata().tolist() == generations
    annealing.set_params(n_initial_points=3)
    score_ax, _ = plot.plot_annealing(annealing.fit(X, y))
    assert len(score_ax.lines) == annealing.n_chains
    axes = plot.plot_parameters(genetic)
    assert [ax.get_xscale() for ax in axes] == ["log", "log"]


class _MultiObjective(_Fitted):
    """A fitted multi-objective search: scores, costs, the chosen candidate."""

    def __init__(self, best_index=None, **columns):
        columns = {
            "mean_test_score": [0.80, 0.90, 0.93, 0.85, 0.88, np.nan, 0.70],
            "mean_size_bytes": [1e3, 4e3, 2e5, 3e4, 4e3, 50.0, 200.0],
            "mean_n_params": [10.0, 50.0, 900.0, 90.0, 60.0, 1.0, 8.0],
            **columns,
        }
        super().__init__(**columns)
        if best_index is not None:
            self.best_index_ = best_index


def _front_points(ax):
    return ax.collections[1].get_offsets().data.tolist()


def test_pareto_highlights_the_front_as_a_step_line_and_marks_the_choice():
    search = _MultiObjective(best_index=1)
    ax = plot.plot_pareto(search)
    assert ax.get_xlabel() == "model size (bytes)"
    assert ax.get_ylabel() == "mean CV score (accuracy)"
    assert ax.get_xscale() == "log"  # 50 B to 200 kB
    everyone, front, chosen = ax.collections
    assert len(everyone.get_offsets()) == 7
    # rows 6, 0, 1 and 2 by size; not 3 (row 1 is smaller and better), 4 (row 1's
    # size with a lower score) nor 5 (failed)
    assert _front_points(ax) == [[200.0, 0.70], [1e3, 0.80], [4e3, 0.90], [2e5, 0.93]]
    step = ax.lines[0]
    assert step.get_drawstyle() == "steps-post"
    assert step.get_xdata().tolist() == [200.0, 1e3, 4e3, 2e5]
    assert chosen.get_offsets().data.tolist() == [[4e3, 0.90]]
    assert chosen.get_paths() != front.get_paths()  # a star, not a dot
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["candidate", "Pareto front (4)", "chosen (candidate 1)"]


def test_pareto_follows_the_objectives_and_the_searchs_front():
    search = _MultiObjective(mean_test_f1=[0.5, 0.6, 0.7, 0.8, 0.1, 0.2, 0.3])
    search.objectives = {"f1": "max", "n_params": "min", "size_bytes": "min"}
    ax = plot.plot_pareto(search, x="n_params")
    assert ax.get_ylabel() == "mean CV f1"  # the first maximised objective
    assert ax.get_xlabel() == "number of parameters"
    assert sorted(_front_points(ax)) == [[1.0, 0.2], [8.0, 0.3], [10.0, 0.5],
                                         [50.0, 0.6], [90.0, 0.8]]
    assert len(ax.collections) == 2  # no best_index_: nothing marked as chosen
    search.pareto_front_ = {"index": np.array([2, 3])}  # the search's own front wins
    ax = plot.plot_pareto(search, x="n_params")
    assert sorted(_front_points(ax)) == [[90.0, 0.8], [900.0, 0.7]]
    # a maximised cost flips the staircase; a narrow range keeps a linear axis
    search.cv_results_["mean_fit_time"] = np.linspace(1.0, 2.0, 7)
    ax = plot.plot_pareto(search, x="fit_time", y="score", objectives={"fit_time": "max"})
    assert ax.lines[0].get_drawstyle() == "steps-pre"
    assert ax.get_xscale() == "linear"
    assert ax.get_xlabel() == "fit time (s)"


def test_pareto_draws_into_a_given_axes():
    _, ax = plt.subplots()
    assert plot.plot_pareto(_MultiObjective(), ax=ax) is ax
    assert ax.get_title() == "_MultiObjective: Pareto front of score and size_bytes"


def test_pareto_names_missing_columns_and_bad_directions():
    search = _MultiObjective()
    with pytest.raises(ValueError, match=r"objective 'latency'.*Available: "
                                         r"\['mean_n_params', 'mean_size_bytes', "):
        plot.plot_pareto(search, x="latency")
    with pytest.raises(ValueError, match=r"objectives\['size_bytes'\] must be 'max' or"):
        plot.plot_pareto(search, objectives={"score": "max", "size_bytes": "minimise"})
    with pytest.raises(ValueError, match="same objective"):
        plot.plot_pareto(search, x="score")


def test_without_matplotlib_the_error_names_the_extra(grid, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install skautosearch\[plot\]"):
        plot.plot_convergence(grid)


def test_docstring_examples_run():
    import doctest

    from skautosearch import plot as module

    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
