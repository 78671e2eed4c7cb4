"""Best-so-far score against candidates evaluated, median over seeds, one panel per task.

Reads the traces written by ``bench_search.py``::

    python benchmarks/plot_search.py [benchmarks/out/bench_search_traces.json] [out.png]
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
OURS = ("GeneticSearchCV", "AnnealingSearchCV", "BayesianSearchCV")
STYLE = {  # ours solid and thick, peers dashed
    "RandomizedSearchCV": dict(color="0.45", ls="--"),
    "BayesSearchCV": dict(color="tab:blue", ls="--"),
    "OptunaSearchCV": dict(color="tab:purple", ls="--"),
    "GASearchCV": dict(color="tab:brown", ls="--"),
    "GeneticSearchCV": dict(color="tab:green", ls="-", lw=2.4),
    "AnnealingSearchCV": dict(color="tab:orange", ls="-", lw=2.4),
    "BayesianSearchCV": dict(color="tab:red", ls="-", lw=2.4),
}


def best_so_far(scores, budget):
    s = np.nan_to_num(np.asarray(scores[:budget], dtype=float), nan=-np.inf)
    s = np.maximum.accumulate(s)
    return np.pad(s, (0, budget - len(s)), mode="edge") if len(s) < budget else s


def _panel(ax, task, info, runs, budget, tol):
    gb = info["grid_best"]
    tops = [gb]
    for method, style in STYLE.items():
        rs = [r for r in runs if r["task"] == task and r["method"] == method]
        if not rs:
            continue
        curves = np.array([best_so_far(r["scores"], budget) for r in rs])
        med = np.median(curves, axis=0)
        reached = sum(r["needed"] is not None for r in rs)
        ax.plot(
            np.arange(1, budget + 1),
            med,
            label=f"{method} ({reached}/{len(rs)})",
            **{"lw": 1.6, **style},
        )
        tops.append(med[-1])
    ax.axhline(
        gb, color="k", lw=1, label=f"grid best {gb:.4f} ({info['n_grid']} cand.)"
    )
    ax.axhspan(gb - tol, gb, color="k", alpha=0.08, label=f"target band (−{tol})")
    # Zoom on the last few points below the grid best: that is where methods differ;
    # curves enter from below once they get there.
    ax.set_ylim(gb - 0.025, max(tops) + 0.003)
    ax.set_xlim(1, budget)
    ax.set_title(task)
    ax.set_xlabel("candidates evaluated")
    ax.grid(alpha=0.3)
    ax.legend(
        fontsize=7.5,
        loc="lower right",
        title="method (seeds reached)",
        title_fontsize=7.5,
    )


def plot_convergence(traces_path, out_path):
    data = json.loads(Path(traces_path).read_text())
    meta, tasks, runs = data["meta"], data["tasks"], data["runs"]
    budget, tol = meta["budget"], meta["tol"]
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(6 * len(tasks), 5.2), squeeze=False
    )
    for ax, (task, info) in zip(axes[0], tasks.items()):
        _panel(ax, task, info, runs, budget, tol)
    axes[0][0].set_ylabel("best mean_test_score so far (median over seeds)")
    fig.suptitle(
        f"Best score so far vs candidates (median over seeds; seeds per method in "
        f"the legend): cv={meta['cv']}, budget {budget}, n_jobs={meta['n_jobs']}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    src = (
        sys.argv[1] if len(sys.argv) > 1 else HERE / "out" / "bench_search_traces.json"
    )
    dst = sys.argv[2] if len(sys.argv) > 2 else HERE / "search_convergence.png"
    plot_convergence(src, dst)
