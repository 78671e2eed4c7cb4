"""``report.html``: one self-contained page from a finished run's ``results.json``.

The figures are drawn again from the saved results with :mod:`skautosearch.plot`,
written next to it as PNG files and embedded in the page as base64, so the page
needs no other file and no network. ``skautosearch report FOLDER`` rebuilds it.
"""

import base64
import html
import io
import json
import os
import sys

import numpy as np

from ._common import UsageError, format_seconds

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0}th,td{padding:.3em .7em;
border-bottom:1px solid #e4e4e4;text-align:right}th:first-child,td:first-child
{text-align:left}th{background:#f4f4f4}tr.best td{font-weight:600}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.5em 0}
pre{background:#f6f6f6;padding:.7em;overflow-x:auto}.note{color:#555}
"""


# -------------------------------------------------------------------------- entry


def write_report(folder):
    """Draw the figures and write ``report.html`` from ``folder/results.json``.

    Parameters
    ----------
    folder : str
        A finished run's output folder.

    Returns
    -------
    written : list of str
        The files written into ``folder``: the figures, then ``report.html``.
    """
    results = read_results(folder)
    figures = _draw_figures(results)
    written = []
    for name, png in figures.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(png)
        written.append(name)
    with open(os.path.join(folder, "report.html"), "w", encoding="utf-8") as f:
        f.write(render(results, figures))
    return written + ["report.html"]


def read_results(folder):
    """The ``results.json`` of a finished run, or a UsageError saying what is wrong."""
    if not os.path.isdir(folder):
        raise UsageError(f"FOLDER {folder!r} is not a folder")
    path = os.path.join(folder, "results.json")
    if not os.path.isfile(path):
        raise UsageError(f"{folder!r} has no results.json: not the output folder of "
                         "a finished skautosearch run")
    try:
        with open(path, encoding="utf-8") as f:
            results = json.load(f)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path!r}: {exc}") from None
    if not isinstance(results, dict) or "searches" not in results and \
            "architecture" not in results:
        raise UsageError(f"{path!r} was not written by skautosearch 0.1 or later "
                         "(no search results in it)")
    return results


def run(args, command):
    """``skautosearch report FOLDER``: rebuild the figures and ``report.html``."""
    written = write_report(args.folder)
    print(f"wrote {', '.join(written)} to {os.path.abspath(args.folder)}")
    return 0


def add_parser(subparsers):
    """Add the ``report`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        "report", help="rebuild report.html (and the figures) from a finished run's "
                       "folder",
        description="Rebuild the figures and report.html of a finished run from its "
                    "results.json, e.g. after editing it or on another machine.")
    parser.add_argument("folder", metavar="FOLDER",
                        help="the output folder of a skautosearch run")
    from ._common import add_debug_option

    add_debug_option(parser)
    return parser


# ------------------------------------------------------------------------ figures


def _searches(results):
    if results.get("kind") == "workflow":
        return results["architecture"]["searches"]
    return results["searches"]


def _draw_figures(results):
    """PNG bytes of every figure the results allow, by file name."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no figures (pip install "
              "skautosearch[plot])", file=sys.stderr)
        return {}
    matplotlib.use("Agg")
    searches = _searches(results)
    draw = {"convergence.png": lambda: _convergence(searches)}
    if "GeneticSearchCV" in searches:
        draw["genetic.png"] = lambda: _generations(searches["GeneticSearchCV"])
    if "AnnealingSearchCV" in searches:
        draw["annealing.png"] = lambda: _annealing(searches["AnnealingSearchCV"])
    if results.get("kind") == "workflow":
        draw["training.png"] = lambda: _training(results["training"]["search"])
        if results.get("objectives"):
            draw["pareto.png"] = lambda: _pareto(searches, results["objectives"])
        if any("size_bytes" in r for r in results["compression"]):
            draw["compression.png"] = lambda: _compression(results)
    return {name: _png(make) for name, make in draw.items()}


def _png(make):
    import matplotlib.pyplot as plt

    fig = make()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _best(results_dict):
    scores = np.asarray(results_dict["mean_test_score"], dtype=float)
    return float(np.nanmax(scores)) if np.isfinite(scores).any() else np.nan


def _convergence(searches):
    from skautosearch import plot

    curves = {label: rec["cv_results"] for label, rec in searches.items()}
    grid = curves.get("GridSearchCV")
    ax = plot.plot_convergence(
        curves, reference=None if grid is None else _best(grid),
        reference_label="GridSearchCV best")
    ax.set_ylabel("best mean CV score so far")
    return ax.figure


def _generations(record):
    from skautosearch import plot

    ax = plot.plot_generations(record["cv_results"])
    ax.set_title("GeneticSearchCV: fitness by generation")
    ax.set_ylabel("mean CV score")
    return ax.figure


def _annealing(record):
    import matplotlib.pyplot as plt

    from skautosearch import plot

    fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True, layout="constrained",
                             gridspec_kw={"height_ratios": [2, 1]})
    plot.plot_annealing(record["cv_results"], axes=axes)
    axes[0].set_ylabel("mean CV score")
    fig.suptitle("AnnealingSearchCV: score and temperature by step")
    return fig


def _training(record):
    from skautosearch import plot

    axes = plot.plot_parameters(record["cv_results"])
    axes[0].figure.suptitle("Training hyper-parameters (BayesianSearchCV): score "
                            "against each")
    for ax in axes:
        ax.set_ylabel("mean CV score")
    return axes[0].figure


def _pooled(searches):
    """The candidates of every search that measured model sizes, as one table."""
    pooled = {}
    for rec in searches.values():
        res = rec["cv_results"]
        if "mean_size_bytes" not in res:
            continue
        for key in ("mean_test_score", "mean_size_bytes"):
            pooled.setdefault(key, []).extend(res[key])
        pooled.setdefault("params", []).extend(res["params"])
    return pooled


def _pareto(searches, objectives):
    from skautosearch import plot

    pooled = _pooled(searches)
    ax = plot.plot_pareto(pooled, x="size_bytes", y="score", objectives=objectives)
    ax.set_title("Architectures: accuracy against model size (genetic, annealing "
                 "and Bayesian searches pooled)")
    ax.set_ylabel("mean CV accuracy")
    return ax.figure


def _compression(results):
    import matplotlib.pyplot as plt

    rows = [r for r in results["compression"] if "size_bytes" in r]
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for i, row in enumerate(rows):
        on_front = row.get("pareto", False)
        ax.scatter(row["size_bytes"] / 1024, row["test_accuracy"], s=90 if on_front
                   else 50, marker="o", color=f"C{i}", edgecolor="black" if on_front
                   else "none", label=row["model"] + (" (Pareto front)" if on_front
                                                      else ""))
    ax.set_xscale("log")
    ax.set_xlabel("size of the .keras file (KiB, log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Compression of the final model: accuracy against size")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


# ---------------------------------------------------------------------------- HTML


def _esc(value):
    return html.escape(str(value))


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k.split('__')[-1]}={_cell(v)}" for k, v in value.items())
    return str(value)


def _table(rows, columns, best=None):
    """An HTML table of ``rows`` (dicts); ``columns`` maps keys to headings."""
    head = "".join(f"<th>{_esc(title)}</th>" for title in columns.values())
    body = []
    for i, row in enumerate(rows):
        cells = "".join(f"<td>{_esc(_cell(row.get(key)))}</td>" for key in columns)
        body.append(f'<tr{" class=best" if i == best else ""}>{cells}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _image(figures, name, alt):
    if name not in figures:
        return ""
    data = base64.b64encode(figures[name]).decode("ascii")
    return f'<p><img src="data:image/png;base64,{data}" alt="{_esc(alt)}"></p>'


def _params_table(params):
    rows = [{"parameter": k, "value": v} for k, v in params.items()]
    return _table(rows, {"parameter": "parameter", "value": "value"})


_SEARCH_COLUMNS = {"method": "search", "best_cv_score": "best CV score",
                   "test_score": "test score", "n_candidates": "candidates",
                   "n_fits": "fits", "fits_to_grid_best": "fits to grid best",
                   "wall_time_s": "time (s)", "best_params": "best parameters"}
_COMPRESSION_COLUMNS = {
    "model": "model", "test_accuracy": "test accuracy",
    "accuracy_change": "change", "size_bytes": ".keras bytes",
    "size_ratio": "size ratio", "n_params": "parameters",
    "n_nonzero_params": "non-zero", "batch_latency_ms": "latency (ms per 1,024 rows)",
    "speed_up": "speed-up", "pareto": "Pareto front", "note": "note"}


def _summary_table(summary):
    columns = {k: v for k, v in _SEARCH_COLUMNS.items()
               if any(k in row for row in summary)}
    best = int(np.argmax([r["best_cv_score"] for r in summary])) if summary else None
    return _table(summary, columns, best=best)


def _space_block(lines):
    """The lines of ``--space``/``--param``, as written."""
    return "</p><pre>" + _esc("\n".join(line.strip() for line in lines)) + "</pre><p>"


def _workflow_sections(results, figures):
    arch, training = results["architecture"], results["training"]
    winner = results["winner"]
    compression = results["compression"]
    columns = {k: v for k, v in _COMPRESSION_COLUMNS.items()
               if any(k in row for row in compression)}
    if arch.get("space_lines"):
        grid = (f"GridSearchCV as its {arch['grid_size']} architectures, "
                if "GridSearchCV" in arch["searches"] else "")
        spaces = (f"<p>Every search searched the space given on the command line "
                  f"({grid}the others drawing {arch['budget']} candidates each), with "
                  "the same folds:" + _space_block(arch["space_lines"]))
    else:
        spaces = (f"<p>GridSearchCV over the grid of {arch['grid_size']} "
                  f"architectures; the other searches drew {arch['budget']} candidates "
                  "each from the wider space, with the same folds.")
    return [
        ("1. Architecture search",
         f"{spaces} The best architecture came from "
         f"<b>{_esc(winner['search'])}</b> (CV accuracy {winner['cv_score']:.4f}).</p>"
         + _summary_table(arch["summary"])
         + _image(figures, "convergence.png", "convergence of the searches")
         + _image(figures, "genetic.png", "genetic search by generation")
         + _image(figures, "annealing.png", "annealing traces")
         + _image(figures, "pareto.png", "accuracy/size Pareto front")),
        ("2. Training hyper-parameters",
         f"<p>BayesianSearchCV over the training hyper-parameters of the best "
         f"architecture: best CV accuracy {training['best_cv_score']:.4f} "
         f"(architecture search: {winner['cv_score']:.4f}); the final model, refitted "
         f"on all training rows, scores <b>{training['test_score']:.4f}</b> on the "
         f"{results['data']['n_test']} test rows.</p>"
         + _image(figures, "training.png", "training hyper-parameters")),
        ("3. Compression of the final model",
         "<p>Sizes are of the inference-only <code>.keras</code> file; latency is "
         "the best of five <code>predict_on_batch</code> calls on 1,024 rows (a "
         "wall-clock figure: noisy on a busy machine).</p>"
         + _table(compression, columns)
         + _image(figures, "compression.png", "compression: accuracy against size")),
        ("Parameters of the final model", _params_table(training["final_params"])),
    ]


def _compare_sections(results, figures):
    config = results["config"]
    best = max(results["summary"], key=lambda r: r["best_cv_score"])
    return [
        ("Comparison",
         f"<p>{_esc(config.get('dataset'))}, estimator {_esc(config.get('estimator'))}, "
         f"{config.get('cv')}-fold CV, {config.get('n_iter')} candidates per "
         "non-grid search"
         + (", over the space given on the command line:"
            + _space_block(config["space_lines"]) if config.get("space_lines") else ".")
         + "</p>" + _summary_table(results["summary"])
         + _image(figures, "convergence.png", "convergence of the searches")
         + _image(figures, "genetic.png", "genetic search by generation")
         + _image(figures, "annealing.png", "annealing traces")),
        (f"Parameters of the best candidate ({best['method']})",
         _params_table(best["best_params"])),
    ]


def render(results, figures):
    """The HTML page of ``results`` with ``figures`` (PNG bytes by file name)."""
    workflow = results.get("kind") == "workflow"
    sections = (_workflow_sections if workflow else _compare_sections)(results, figures)
    title = ("skautosearch: architecture search, training, compression" if workflow
             else "skautosearch compare")
    intro = ""
    if workflow:
        intro = (f"<p class=note>Data: {_esc(results['data']['note'])}; "
                 f"{results['data']['n_train']} training and "
                 f"{results['data']['n_test']} test rows. Run time "
                 f"{format_seconds(results['wall_time_s'])}.</p>")
    parts = [f"<h1>{_esc(title)}</h1>", intro]
    parts += [f"<h2>{_esc(heading)}</h2>{body}" for heading, body in sections]
    parts.append("<h2>Reproduce</h2><pre>" + _esc(results.get("command", "")) +
                 "</pre><p class=note>Rebuild this page from the folder's files: "
                 "<code>skautosearch report FOLDER</code>.</p>")
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(parts) + "</body></html>\n")
