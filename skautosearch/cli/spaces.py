"""``--space FILE`` and ``--param LINE``: a search space given on the command line.

Lines are in the text form of :mod:`skautosearch.space_text`, one parameter a line,
``name=DIMENSION [if CONDITION]``. A name is a parameter of the estimator as
``get_params()`` lists it, or a model-builder argument without its ``model__``
prefix (``n_blocks`` for ``model__n_blocks``). Every line is read and checked
before anything is fitted; a bad one is a :class:`UsageError` that names it.
"""

import difflib
import sys

from ._common import UsageError

__all__ = ["add_options", "for_estimator", "grid", "parse", "prefixed", "read"]

_EXAMPLE = "'n_blocks=[1, 2, 3]' or 'filters_1=[8, 16] if n_blocks>=2'"


def add_options(parser, replaces):
    """Add ``--space`` and ``--param`` to ``parser``; ``replaces`` says what they replace."""
    parser.add_argument(
        "--space", metavar="FILE",
        help=f"a search space file replacing {replaces}: one 'name=DIMENSION "
             "[if CONDITION]' a line, e.g. 'units=[16, 32]', 'lr=real(1e-4, 1e-1, "
             "log)', 'filters_1=[8, 16] if n_blocks>=2' (see the user guide); - reads "
             "standard input")
    parser.add_argument(
        "--param", action="append", default=[], metavar="LINE",
        help=f"one line of such a space, e.g. {_EXAMPLE}; repeat it for each "
             "parameter (with --space, adds to the file's lines)")


def read(args):
    """The ``(source, text)`` lines of ``--space`` and ``--param``, in order.

    ``source`` names the line in messages (``space.txt line 3``, ``--param``).
    Blank lines and ``#`` comments are left out.
    """
    lines = []
    if args.space is not None:
        name = "standard input" if args.space == "-" else args.space
        for number, text in enumerate(_file_text(args.space).splitlines(), 1):
            lines.append((f"{name} line {number}", text))
    lines += [("--param", text) for text in args.param]
    return [(source, text) for source, text in lines
            if text.strip() and not text.strip().startswith("#")]


def _file_text(path):
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise UsageError(f"--space: no such file: {path!r}") from None
    except IsADirectoryError:
        raise UsageError(f"--space: {path!r} is a folder, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--space: cannot read {path!r}: {exc}") from None


def parse(lines):
    """Each line read: ``(source, text, name, dimension)``, before any estimator exists.

    Raises
    ------
    UsageError
        Naming the first line that cannot be read, and what in it.
    """
    from skautosearch.space_text import parse_param

    entries = []
    for source, text in lines:
        try:
            entries.append((source, text, *parse_param(text)))
        except ValueError as exc:
            raise UsageError(f"{source}: {exc}") from None
    return entries


def for_estimator(entries, estimator):
    """The search space of parsed lines, their names resolved against ``estimator``.

    Parameters
    ----------
    entries : list
        From :func:`parse`.
    estimator : estimator
        The estimator the space is for; its ``get_params()`` are the valid names.

    Returns
    -------
    space : dict
        Parameter name (as ``set_params`` takes it) to dimension, in order.
    sources : dict
        Parameter name to its ``(source, text)`` line, for later messages.
    """
    from skautosearch import Conditional
    from skautosearch.space import SearchSpace

    known, owner = estimator.get_params(), type(estimator).__name__
    space, sources = {}, {}
    for source, text, name, dimension in entries:
        name = _resolve(name, known, owner, source, text)
        if isinstance(dimension, Conditional):
            when = {_resolve(parent, known, owner, source, text): test
                    for parent, test in dimension.when.items()}
            dimension = Conditional(dimension.dimension, when=when)
        if name in space:
            raise UsageError(f"{source}: {text.strip()!r} gives {name!r} again "
                             f"(first in {sources[name][0]}: {sources[name][1].strip()!r})")
        space[name], sources[name] = dimension, (source, text)
    _check_conditions(space, sources)
    try:
        SearchSpace(space)  # cycles, a callable condition failing on its parent
    except (TypeError, ValueError) as exc:
        raise UsageError(f"the search space: {exc}") from None
    return space, sources


def _resolve(name, known, owner, source, text):
    """``name`` as the estimator knows it: as given, or with ``model__`` before it."""
    if name in known:
        return name
    if f"model__{name}" in known:
        return f"model__{name}"
    short = [n.removeprefix("model__") for n in known]  # n_blocks for model__n_blocks
    close = difflib.get_close_matches(name, list(dict.fromkeys(short)), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else (
        f"; its parameters are {', '.join(sorted(known))}")
    raise UsageError(f"{source}: {text.strip()!r}: {name!r} is not a parameter of "
                     f"{owner}{hint}")


def _check_conditions(space, sources):
    """A condition must name a parameter of the space itself."""
    from skautosearch import Conditional

    for name, dimension in space.items():
        if not isinstance(dimension, Conditional):
            continue
        for parent in dimension.when:
            if parent not in space:
                source, text = sources[name]
                raise UsageError(
                    f"{source}: {text.strip()!r}: the condition reads {parent!r}, which "
                    "the space does not search; add a line for it")


def grid(space, sources):
    """``GridSearchCV``'s grids over ``space``, whose dimensions must all be lists.

    An ``int(...)`` or ``real(...)`` range has no grid of its own: rather than pick
    points the user did not ask for, refuse it, naming the line.
    """
    from skautosearch import Conditional
    from skautosearch.space import to_param_grid

    for name, dimension in space.items():
        inner = dimension.dimension if isinstance(dimension, Conditional) else dimension
        if not isinstance(inner, list):
            source, text = sources[name]
            raise UsageError(
                f"{source}: {text.strip()!r}: GridSearchCV needs a list of values for "
                f"{name!r}, e.g. [8, 16, 32]; list them, or leave grid out of "
                "--strategies")
    return to_param_grid(space)


def prefixed(space, prefix):
    """``space`` with ``prefix`` before every name, those its conditions read included."""
    from skautosearch import Conditional

    def rename(dimension):
        if not isinstance(dimension, Conditional):
            return dimension
        when = {prefix + parent: test for parent, test in dimension.when.items()}
        return Conditional(dimension.dimension, when=when)

    return {prefix + name: rename(dimension) for name, dimension in space.items()}
