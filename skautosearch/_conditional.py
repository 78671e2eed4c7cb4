"""Conditional dimensions: parameters that exist only when others take some values.

``Conditional(dimension, when={"n_layers": [2, 3]})`` in a search space is *active*
only when every parameter named in ``when`` is active and takes one of the listed
values (or makes the given callable return True). An inactive parameter has no value:
its code in a genome is :data:`INACTIVE`, it is not passed to the estimator, and two
candidates that differ only in inactive parameters are one genome, hence one
candidate. Every genome a :class:`~skautosearch.space.SearchSpace` hands out is in
that canonical form; :class:`_Structure` keeps it so.
"""

import math

import numpy as np

__all__ = ["Conditional"]

#: The code of an inactive parameter in a genome (never a real code: those are
#: numbers, or indices of categories).
INACTIVE = None

# Beyond this many combinations of parent values, size() gives an upper bound
# (the product of every dimension's size) instead of counting.
_MAX_ENUMERATED = 10_000


class Conditional:
    """A search dimension that exists only when other parameters take given values.

    Parameters
    ----------
    dimension : list, tuple, scipy.stats distribution or skopt dimension
        The values the parameter takes when it is active: anything a
        ``param_distributions`` value may be.
    when : dict of str to list or callable
        Conditions on other parameters of the same (sub-)space, all of which must
        hold: ``{"n_layers": [2, 3]}`` (the parameter takes one of these values;
        a single value stands for a list of one) or ``{"n_layers": lambda n: n >= 2}``
        (a callable of the parameter's value). A parameter named here may itself be
        conditional: then this one is active only when that one is too.

    Notes
    -----
    While inactive, the parameter is not passed to the estimator (which keeps its
    own default), its ``param_<name>`` column in ``cv_results_`` is masked, as
    scikit-learn masks parameters absent from a sub-space, and candidates differing
    only in inactive parameters are one candidate, fitted once. A condition that
    names an unknown parameter, or conditions that form a cycle, raise a
    ``ValueError`` when the search starts, before any fit.

    Examples
    --------
    >>> from skautosearch import Conditional, Integer
    >>> space = {
    ...     "n_blocks": [1, 2, 3],
    ...     "filters_0": [16, 32, 64],
    ...     "filters_1": Conditional([16, 32, 64], when={"n_blocks": [2, 3]}),
    ...     "filters_2": Conditional([16, 32, 64], when={"n_blocks": lambda n: n >= 3}),
    ... }
    >>> from skautosearch.space import SearchSpace
    >>> SearchSpace(space).size()  # 3 + 3 * 3 + 3 * 3 * 3 distinct networks
    39
    """

    def __init__(self, dimension, when):
        self.dimension = dimension
        self.when = when

    def __repr__(self):
        return f"Conditional({self.dimension!r}, when={self.when!r})"


def unwrap(name, value, where):
    """``(dimension, when)`` of a space value; ``when`` is None if unconditional."""
    if not isinstance(value, Conditional):
        return value, None
    if isinstance(value.dimension, Conditional):
        raise ValueError(
            f"{where}[{name!r}] is a Conditional of a Conditional; give all the "
            "conditions in one when dict (they must all hold)."
        )
    return value.dimension, value.when


class _Condition:
    """``params[index]`` is active and takes a value that ``test`` accepts."""

    def __init__(self, child, parent, index, test, where):
        self.child, self.parent, self.index = child, parent, index
        self.where = where
        self._test = test if callable(test) else None
        self._values = None if callable(test) else _listed_values(child, parent, test, where)

    def holds(self, value):
        if self._values is not None:
            return value in self._values
        try:
            return bool(self._test(value))
        except Exception as exc:
            raise ValueError(
                f"{self.where}[{self.child!r}]: the condition on {self.parent!r} raised "
                f"{type(exc).__name__}: {exc} for {self.parent}={value!r}."
            ) from exc


def _listed_values(child, parent, test, where):
    if isinstance(test, (list, tuple, set, frozenset, range, np.ndarray)):
        if len(test) == 0:
            raise ValueError(
                f"{where}[{child!r}]: when[{parent!r}] is empty, so the parameter "
                "could never be active; list the values that activate it."
            )
        return list(test)
    return [test]  # one value


class _Structure:
    """The conditions of one sub-space: who depends on whom, and what that implies.

    Parameters
    ----------
    params : list of _Param
        The sub-space's parameters, in the user's order (the genome's order).
    whens : dict of int to dict
        The ``when`` of each conditional parameter, by position.
    where : str
        How error messages name the sub-space.
    """

    def __init__(self, params, whens, where):
        self.params = params
        self.where = where
        index = {p.name: i for i, p in enumerate(params)}
        self.conditions = [()] * len(params)
        for i, when in whens.items():
            self.conditions[i] = tuple(_conditions(params[i].name, when, index, where))
        self.order = _parents_first(params, self.conditions, where)
        self.parents = sorted({c.index for conds in self.conditions for c in conds})
        self.is_conditional = bool(whens)
        for conds in self.conditions:
            for condition in conds:
                _try(condition, params[condition.index])

    def complete(self, codes, rng=None, spare=None):
        """The canonical genome codes: inactive ones INACTIVE, active ones filled.

        An active parameter without a code takes ``spare``'s code if it has one
        (the other parent, in a crossover), else a draw from its prior with ``rng``.
        """
        if not self.is_conditional:
            return tuple(codes)
        codes = list(codes)
        for i in self.order:  # parents first: their codes are final when read
            if not self._holds(i, codes):
                codes[i] = INACTIVE
            elif codes[i] is INACTIVE:
                codes[i] = self._fill(i, rng, spare)
        return tuple(codes)

    def active(self, codes):
        """Which parameters are active, given a code for each (or a canonical genome)."""
        return [c is not INACTIVE for c in self.complete(codes)]

    def first_parent(self, i):
        """Position of the first parameter ``params[i]`` depends on; None if none."""
        return self.conditions[i][0].index if self.conditions[i] else None

    def count(self):
        """Number of distinct canonical genomes (an upper bound if too many to count)."""
        sizes = [self.params[j].n_values() for j in self.parents]
        if not all(math.isfinite(n) for n in sizes) or math.prod(sizes) > _MAX_ENUMERATED:
            return math.prod(p.n_values() for p in self.params)
        return self._count(0, [INACTIVE] * len(self.params), set(self.parents))

    def _count(self, position, codes, parents):
        if position == len(self.order):
            return 1
        i = self.order[position]
        if not self._holds(i, codes):
            return self._count(position + 1, codes, parents)
        if i not in parents:
            return self.params[i].n_values() * self._count(position + 1, codes, parents)
        total = 0
        for code in self.params[i].codes():
            codes[i] = code
            total += self._count(position + 1, codes, parents)
        codes[i] = INACTIVE
        return total

    def grids(self):
        """The sub-space as ``GridSearchCV`` grids: one per combination of parent values.

        Each grid fixes the values of the parameters conditions read and lists the
        active others whole, so grids never share a candidate and no grid names an
        inactive parameter. Raises ValueError naming a parameter without a finite
        list of values.
        """
        for p in self.params:
            if not math.isfinite(p.n_values()):
                raise ValueError(
                    f"{self.where}[{p.name!r}] is continuous; a grid needs a finite "
                    "list of values."
                )
        grids = []
        self._grids(0, [INACTIVE] * len(self.params), set(self.parents), [], grids)
        return _merged(grids)

    def _grids(self, position, codes, parents, active, grids):
        if position == len(self.order):
            grids.append({self.params[i].name: self._grid_values(i, codes)
                          for i in sorted(active)})  # the user's order
            return
        i = self.order[position]
        if not self._holds(i, codes):
            self._grids(position + 1, codes, parents, active, grids)
            return
        if i not in parents:
            self._grids(position + 1, codes, parents, active + [i], grids)
            return
        for code in self.params[i].codes():
            codes[i] = code
            self._grids(position + 1, codes, parents, active + [i], grids)
        codes[i] = INACTIVE

    def _grid_values(self, i, codes):
        param = self.params[i]
        if codes[i] is not INACTIVE:  # a parent: fixed in this grid
            return [param.decode(codes[i])]
        return [param.decode(code) for code in param.codes()]

    def _holds(self, i, codes):
        return all(
            codes[c.index] is not INACTIVE
            and c.holds(self.params[c.index].decode(codes[c.index]))
            for c in self.conditions[i]
        )

    def _fill(self, i, rng, spare):
        if spare is not None and spare[i] is not INACTIVE:
            return spare[i]
        if rng is None:
            raise ValueError(
                f"The genome has no value for {self.params[i].name!r}, which its other "
                "values make active."
            )
        return self.params[i].from_unit(rng.random())


def _merged(grids):
    """``grids`` with neighbours that differ in one parameter's values joined.

    ``{"n": [2], "f": [8]}`` and ``{"n": [3], "f": [8]}`` hold the same candidates
    as ``{"n": [2, 3], "f": [8]}``, which reads better.
    """
    out = []
    for grid in grids:
        last = out[-1] if out else None
        differ = [] if last is None or last.keys() != grid.keys() else [
            name for name in grid if last[name] != grid[name]]
        if len(differ) == 1:
            last[differ[0]] = last[differ[0]] + grid[differ[0]]
        else:
            out.append(grid)
    return out


def _conditions(name, when, index, where):
    """The ``_Condition`` objects of one ``when`` dict, checked against the sub-space."""
    if not isinstance(when, dict) or not when:
        raise ValueError(
            f"{where}[{name!r}]: a Conditional's when must be a non-empty dict "
            f"{{parameter name: values or callable}}, got {when!r}."
        )
    for parent, test in when.items():
        if parent == name:
            raise ValueError(f"{where}[{name!r}]: a parameter cannot be conditional on itself.")
        if parent not in index:
            raise ValueError(
                f"{where}[{name!r}]: the condition names {parent!r}, which is not a "
                f"parameter of {where}; its parameters are {sorted(index)}."
            )
        yield _Condition(name, parent, index[parent], test, where)


def _parents_first(params, conditions, where):
    """Positions ordered so that every parameter comes after those it depends on."""
    waiting = {i: {c.index for c in conds} for i, conds in enumerate(conditions)}
    order = []
    while waiting:
        ready = [i for i, deps in waiting.items() if deps.issubset(order)]
        if not ready:
            cycle = ", ".join(
                f"{params[i].name!r} when {sorted(params[j].name for j in deps)}"
                for i, deps in waiting.items()
            )
            raise ValueError(f"{where}: the conditions form a cycle: {cycle}.")
        order.extend(ready)
        for i in ready:
            del waiting[i]
    return order


def _try(condition, parent):
    """Run a callable condition on some of the parent's values now, not mid-search."""
    if condition._test is None:
        return
    codes = parent.codes() if parent.n_values() <= 100 else [parent.from_unit(0.5)]
    for code in codes:
        condition.holds(parent.decode(code))
