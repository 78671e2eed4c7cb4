"""The ``skautosearch`` command.

``skautosearch`` (or ``python -m skautosearch``, or ``skautosearch run``) runs the
package's main job, the whole workflow on a Keras model: architecture search
(``GridSearchCV`` against the genetic, annealing and Bayesian searches, same
budget), then the training hyper-parameters of the best architecture, then
compression of the final model, with an HTML report (:mod:`.workflow`).

``skautosearch compare`` puts the searches side by side on a tabular data set or
a CSV file (:mod:`.compare`); ``skautosearch report FOLDER`` rebuilds a finished
run's ``report.html`` (:mod:`.report`).

Every module of this package is one job: :mod:`.workflow`, :mod:`.recipes` (the
workflow's models and data), :mod:`.compare`, :mod:`.data` (bundled sets and CSV
files), :mod:`.estimators` (the estimators and spaces of ``compare``),
:mod:`.spaces` (``--space`` and ``--param``, a space of the user's),
:mod:`.report`. Importing it imports neither scikit-learn's searches nor
TensorFlow, so ``--help`` is instant.
"""

import argparse
import shlex
import sys
import textwrap
import traceback

from ._common import Parser, UsageError

__all__ = ["main", "build_parser"]

_COMMANDS = ("run", "compare", "report")
# Options only ``compare`` has: without a sub-command they mean ``compare``, as
# they did when ``skautosearch`` was the comparison alone.
_COMPARE_ONLY = ("--dataset", "--target", "--task", "--encode", "--estimator")


def __getattr__(name):
    if name == "ESTIMATORS":  # the estimators of ``compare``, for scripts and tests
        from .estimators import ESTIMATORS

        return ESTIMATORS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_parser():
    """The argument parser of the ``skautosearch`` command.

    Returns
    -------
    argparse.ArgumentParser
        With the sub-commands ``run`` (the default), ``compare`` and ``report``.

    Examples
    --------
    >>> from skautosearch.cli import build_parser
    >>> args = build_parser().parse_args(["compare", "--quick", "--strategies",
    ...                                   "grid,bayes"])
    >>> args.command, args.dataset, args.strategies, args.quick
    ('compare', 'digits', ['grid', 'bayes'], True)
    """
    from . import compare, report, workflow

    parser = Parser(
        prog="skautosearch",
        description=textwrap.fill(
            "Architecture search on a Keras model (GridSearchCV against the genetic, "
            "annealing and Bayesian searches, same fits budget), then the training "
            "hyper-parameters of the best architecture, then compression of the "
            "final model (structured pruning, int8 quantization), with a printed "
            "summary and an HTML report. Without a sub-command, runs that "
            "workflow ('run') with the options below.", 79),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  skautosearch                     the workflow: a CNN on digits "
               "as 8x8x1 images\n"
               "  skautosearch --objectives        ... trading accuracy against "
               "model size\n"
               "  skautosearch --model lstm        an LSTM on IMDB (offline: "
               "synthetic sequences)\n"
               "  skautosearch --param 'n_blocks=[1, 2, 3]' --param 'filters_0=[16, 32]' "
               "\\\n"
               "      --param 'filters_1=[16, 32] if n_blocks>=2' \\\n"
               "      --param 'filters_2=[16, 32] if n_blocks>=3'\n"
               "                                   ... your own architecture space: "
               "block i's\n"
               "                                   filters only when the block exists\n"
               "  skautosearch compare --dataset data.csv --target label\n"
               "  skautosearch report skautosearch-output\n\n"
               "Compare's own options (--dataset, --target, --task, --encode, "
               "--estimator)\ngiven without a sub-command run 'compare', as before.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {_version()}")
    workflow.add_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="{run,compare,report}",
                                parser_class=Parser)
    workflow.add_parser(sub)
    compare.add_parser(sub)
    report.add_parser(sub)
    return parser


def _version():
    from skautosearch import __version__

    return __version__


def _with_command(argv):
    """``argv`` with its sub-command made explicit."""
    if argv and argv[0] in _COMMANDS:
        return argv
    if any(arg.split("=")[0] in _COMPARE_ONLY for arg in argv):
        return ["compare"] + argv
    if any(arg in ("-h", "--help", "--version") for arg in argv):
        return argv  # the top-level help lists the sub-commands
    return ["run"] + argv


def main(argv=None):
    """Run the ``skautosearch`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a bad argument (one line on stderr),
        1 if a run fails, 130 if interrupted. ``--debug`` prints the traceback.

    Examples
    --------
    >>> from skautosearch.cli import main
    >>> main(["compare", "--dataset", "no-such-data"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(_with_command(argv))
    except SystemExit as exc:  # --help, or an argparse error already printed
        return exc.code if isinstance(exc.code, int) else 2
    command = shlex.join(["skautosearch"] + argv)
    try:
        return _dispatch(args, command)
    except UsageError as exc:
        _print_error("error", exc, args)
        return 2
    except KeyboardInterrupt:
        print("skautosearch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, or the traceback with --debug
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        _print_error("failed", f"{type(exc).__name__}: {first}", args)
        return 1


def _dispatch(args, command):
    if args.command == "compare":
        from . import compare

        return compare.run(args, command)
    if args.command == "report":
        from . import report

        return report.run(args, command)
    from . import workflow

    return workflow.run(args, command)


def _print_error(kind, message, args):
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(f"skautosearch: {kind}: {message}"
          + ("" if getattr(args, "debug", False) else " (--debug for the traceback)"
             if kind == "failed" else ""), file=sys.stderr)
