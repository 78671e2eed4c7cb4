"""A one-line-per-parameter text form of search spaces, for command lines and files.

Each line is ``name=DIMENSION``, optionally followed by ``if CONDITION`` (several
joined by ``and``), which makes the parameter a :class:`~skautosearch.Conditional`::

    n_blocks=[1, 2, 3]
    filters_1=[16, 32, 64] if n_blocks>=2
    filters_2=[16, 32, 64] if n_blocks>=3
    learning_rate=real(1e-4, 1e-1, log)
    kernel=[rbf, poly]
    degree=int(2, 5) if kernel==poly
    gamma=real(1e-4, 1, log) if kernel in [rbf, poly]

``DIMENSION`` is a list of choices ``[a, b, ...]`` (numbers, quoted or bare words,
``None``/``True``/``False``, tuples such as ``(1, 2)``), ``int(low, high)`` or
``real(low, high)``, with ``, log`` for a log-uniform prior. ``CONDITION`` is
``parent OP value`` with ``OP`` one of ``== != < <= > >=``, or ``parent in [a, b]``.
"""

import ast
import operator
import re

from .space import Conditional, Integer, Real

__all__ = ["parse_param", "parse_space"]

_OPERATORS = {
    "==": operator.eq, "!=": operator.ne, "<=": operator.le,
    ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PARAM = re.compile(rf"^\s*({_NAME})\s*=\s*(.+?)(?:\s+if\s+(.+))?\s*$")
_RANGE = re.compile(r"^(int|real)\s*\((.*)\)$")
_CONDITION = re.compile(rf"^\s*({_NAME})\s*(==|!=|<=|>=|<|>|\s+in\s+)\s*(.+?)\s*$")


class _Compare:
    """``value OP bound``, a picklable condition with a readable repr."""

    def __init__(self, op, bound):
        self.op, self.bound = op, bound

    def __call__(self, value):
        return _OPERATORS[self.op](value, self.bound)

    def __repr__(self):
        return f"<{self.op} {self.bound!r}>"


def parse_space(lines):
    """A ``param_distributions`` dict from lines of :mod:`skautosearch.space_text`.

    Parameters
    ----------
    lines : str or iterable of str
        One parameter a line (a string is split into lines); blank lines and
        lines starting with ``#`` are skipped.

    Returns
    -------
    dict
        Parameter name to dimension, in the order given.

    Examples
    --------
    >>> from skautosearch.space_text import parse_space
    >>> space = parse_space('''
    ...     n_blocks=[1, 2, 3]
    ...     filters_2=[16, 32] if n_blocks>=2
    ... ''')
    >>> space["filters_2"]
    Conditional([16, 32], when={'n_blocks': <>= 2>})
    """
    if isinstance(lines, str):
        lines = lines.splitlines()
    space = {}
    for line in lines:
        if not line.strip() or line.strip().startswith("#"):
            continue
        name, dimension = parse_param(line)
        if name in space:
            raise ValueError(f"{line.strip()!r}: parameter {name!r} is given twice.")
        space[name] = dimension
    return space


def parse_param(text):
    """``(name, dimension)`` of one line, e.g. ``"filters_3=[16,32,64] if n_blocks>=3"``.

    Parameters
    ----------
    text : str
        ``name=DIMENSION [if CONDITION [and CONDITION ...]]``, see the module
        documentation.

    Returns
    -------
    name : str
    dimension : list, Integer, Real or Conditional

    Raises
    ------
    ValueError
        Naming the text and what in it could not be read.
    """
    match = _PARAM.match(text)
    if match is None:
        raise ValueError(f"{text!r}: expected name=DIMENSION [if CONDITION], e.g. "
                         "'units=[16, 32]' or 'units_2=int(8, 64) if n_layers>=2'.")
    name, dimension, conditions = match.groups()
    dimension = _dimension(text, dimension.strip())
    if conditions is None:
        return name, dimension
    when = {}
    for condition in re.split(r"\s+and\s+", conditions.strip()):
        parent, test = _condition(text, condition)
        if parent in when:
            raise ValueError(f"{text!r}: two conditions on {parent!r}; join them in one.")
        when[parent] = test
    return name, Conditional(dimension, when=when)


def _dimension(text, spec):
    if spec.startswith("["):
        return _values(text, spec)
    match = _RANGE.match(spec)
    if match is None:
        raise ValueError(f"{text!r}: {spec!r} is not a dimension; expected [a, b, ...], "
                         "int(low, high) or real(low, high), optionally with ', log'.")
    kind, arguments = match.groups()
    parts = [part.strip() for part in arguments.split(",")]
    prior = "uniform"
    if len(parts) == 3 and parts[2] == "log":
        prior = "log-uniform"
        parts = parts[:2]
    if len(parts) != 2:
        raise ValueError(f"{text!r}: {kind}(...) takes low, high and optionally log; "
                         f"got {arguments!r}.")
    low, high = (_literal(text, part) for part in parts)
    cls, number = (Integer, int) if kind == "int" else (Real, float)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)):
        raise ValueError(f"{text!r}: the bounds of {kind}(...) must be numbers.")
    if kind == "int" and not all(float(v).is_integer() for v in (low, high)):
        raise ValueError(f"{text!r}: the bounds of int(...) must be whole numbers.")
    if not low < high:
        raise ValueError(f"{text!r}: low must be less than high, got {low!r} and {high!r}.")
    return cls(number(low), number(high), prior=prior)


def _values(text, spec):
    """A list of choices: Python literals, or bare words read as strings."""
    if not spec.endswith("]"):
        raise ValueError(f"{text!r}: {spec!r} lacks its closing ']'.")
    try:
        values = ast.literal_eval(spec)
    except (ValueError, SyntaxError):
        values = [_literal(text, part.strip()) for part in _split(spec[1:-1])]
    if not isinstance(values, list) or not values:
        raise ValueError(f"{text!r}: {spec!r} must list at least one value.")
    return values


def _split(inner):
    """Split on the commas that are not inside brackets or parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(inner):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return [part for part in parts if part.strip()]


def _literal(text, part):
    try:
        return ast.literal_eval(part)
    except (ValueError, SyntaxError):
        if re.fullmatch(r"[A-Za-z_][\w.\-]*", part):
            return part  # a bare word: a string, as in rbf or relu
        raise ValueError(f"{text!r}: cannot read the value {part!r}.") from None


def _condition(text, condition):
    match = _CONDITION.match(condition)
    if match is None:
        raise ValueError(f"{text!r}: cannot read the condition {condition!r}; expected "
                         "'parent OP value' (OP: == != < <= > >=) or 'parent in [a, b]'.")
    parent, op, value = match.groups()
    op = op.strip()
    if op == "in":
        return parent, _values(text, value)
    value = _literal(text, value)
    if op == "==":
        return parent, [value]
    return parent, _Compare(op, value)
