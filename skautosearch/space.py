"""One search-space language for every strategy.

A search space is what ``RandomizedSearchCV`` takes as ``param_distributions``: a dict
mapping parameter names to values, or a list of such dicts (alternative sub-spaces).
A value may be

* a list (or 1-d array) of choices — categorical;
* a :mod:`scipy.stats` frozen distribution (anything with ``rvs``, ``cdf`` and ``ppf``);
* a :mod:`skopt.space` dimension: :class:`Real`, :class:`Integer` or :class:`Categorical`
  (``prior="log-uniform"`` works), or skopt's tuple shorthand ``(low, high)`` /
  ``(low, high, "log-uniform")``.

Every value is seen through its *unit coordinate*: the cumulative distribution of its
prior, in ``[0, 1]``. Uniform sampling of the unit coordinate samples the prior; a
Gaussian step in it is a mutation that respects the prior (a log-uniform ``Real`` moves
in log space, an ``Integer`` rounds, a scipy distribution moves in quantile space, so an
unbounded one such as ``norm`` works too). Categorical values are resampled, never moved.
The Bayesian strategy hands skopt the skopt dimensions themselves; a scipy distribution
is given to skopt as its unit coordinate ``Real(0, 1)`` and mapped back with ``ppf``.

A :class:`Conditional` value exists only when other parameters take given values
(``Conditional(Integer(16, 128), when={"n_layers": [2, 3]})``); see
:mod:`skautosearch._conditional`.

Internally a candidate is a *genome* ``(k, codes)``: the index ``k`` of its sub-space and
one code per parameter (the value itself for numbers, the category's index for
categories, ``None`` for an inactive conditional parameter), which makes candidates
hashable even when a value is an estimator. Every genome this module hands out is
canonical: two candidates that differ only in inactive parameters are one genome.
"""

import math
import numbers

import numpy as np
from scipy.stats import qmc
from skopt.space import Categorical, Dimension, Integer, Real, check_dimension

from ._conditional import INACTIVE, Conditional, _Structure, unwrap

__all__ = ["Categorical", "Conditional", "Integer", "Real", "SearchSpace", "to_param_grid"]

# A unit coordinate is kept this far from 0 and 1 so that ppf stays finite.
_EPS = 1e-9


def _reflect(u):
    """Fold ``u`` back into [0, 1] as a mirror does (keeps steps near a bound symmetric)."""
    u = math.fmod(abs(u), 2.0)
    return 2.0 - u if u > 1.0 else u


def _python_scalar(value):
    """numpy scalars to Python ones, so that params print and compare plainly."""
    return value.item() if isinstance(value, np.generic) else value


class _Param:
    """A named search dimension seen through its unit coordinate."""

    is_categorical = False

    def __init__(self, name):
        self.name = name

    def perturb(self, code, scale, rng, force=True):
        """Gaussian step of standard deviation ``scale`` in the unit coordinate.

        ``force``: a discrete value the step rounds back to moves to a neighbour.
        """
        u = _reflect(self.to_unit(code) + rng.normal(0.0, scale))
        return self.from_unit(min(max(u, _EPS), 1.0 - _EPS))

    def decode(self, code):
        return code

    def n_values(self):
        return math.inf


class _SkoptNumeric(_Param):
    """A skopt ``Real`` or ``Integer``: unit coordinate = skopt's "normalize" transform."""

    def __init__(self, name, dimension):
        super().__init__(name)
        # skopt's transformers live on the dimension: work on our own copy.
        cls = type(dimension)
        self.dimension = cls(
            dimension.low, dimension.high, prior=dimension.prior,
            base=dimension.base, name=name,
        )
        self._unit = cls(
            dimension.low, dimension.high, prior=dimension.prior,
            base=dimension.base, transform="normalize",
        )
        self.is_integer = isinstance(dimension, Integer)

    def to_unit(self, code):
        return float(self._unit.transform([code])[0])

    def from_unit(self, u):
        return _python_scalar(self._unit.inverse_transform([u])[0])

    def perturb(self, code, scale, rng, force=True):
        new = super().perturb(code, scale, rng)
        if force and self.is_integer and new == code:
            # A small step rounds back to the same integer; move to a neighbour instead.
            step = 1 if rng.random() < 0.5 else -1
            if not self.dimension.low <= code + step <= self.dimension.high:
                step = -step
            new = code + step
        return new

    def n_values(self):
        if self.is_integer:
            return self.dimension.high - self.dimension.low + 1
        return math.inf

    def codes(self):
        return range(self.dimension.low, self.dimension.high + 1)

    def skopt_dimension(self):
        return self.dimension

    def to_skopt(self, code):
        return code

    def from_skopt(self, x):
        return _python_scalar(x)


class _Choice(_Param):
    """A categorical parameter: a list, or a skopt ``Categorical`` (with its prior)."""

    is_categorical = True

    def __init__(self, name, categories, prior=None):
        super().__init__(name)
        self.categories = list(categories)
        k = len(self.categories)
        self.prior = np.full(k, 1.0 / k) if prior is None else np.asarray(prior, float)
        self._cdf = np.cumsum(self.prior)

    def to_unit(self, code):
        return float(self._cdf[code] - self.prior[code] / 2)

    def from_unit(self, u):
        return int(min(np.searchsorted(self._cdf, u, side="right"), len(self._cdf) - 1))

    def perturb(self, code, scale, rng, force=True):
        """Resample among the *other* categories, in proportion to the prior."""
        if len(self.categories) == 1:
            return code
        weights = self.prior.copy()
        weights[code] = 0.0
        if weights.sum() == 0:
            weights = np.ones_like(weights)
            weights[code] = 0.0
        return int(rng.choice(len(weights), p=weights / weights.sum()))

    def decode(self, code):
        return self.categories[code]

    def n_values(self):
        return len(self.categories)

    def codes(self):
        return range(len(self.categories))

    def skopt_dimension(self):
        return Categorical(list(range(len(self.categories))), prior=self.prior, name=self.name)

    def to_skopt(self, code):
        return code

    def from_skopt(self, x):
        return int(x)


class _Distribution(_Param):
    """A scipy.stats frozen distribution: unit coordinate = its CDF."""

    def __init__(self, name, dist):
        super().__init__(name)
        self.dist = dist
        self.is_discrete = hasattr(dist, "pmf")

    def to_unit(self, code):
        if self.is_discrete:
            return float(self.dist.cdf(code) - self.dist.pmf(code) / 2)
        return float(self.dist.cdf(code))

    def from_unit(self, u):
        value = self.dist.ppf(min(max(u, _EPS), 1.0 - _EPS))
        return int(value) if self.is_discrete else float(value)

    def perturb(self, code, scale, rng, force=True):
        new = super().perturb(code, scale, rng)
        if force and self.is_discrete and new == code:
            for candidate in (code + 1, code - 1) if rng.random() < 0.5 else (code - 1, code + 1):
                if self.dist.pmf(candidate) > 0:
                    return candidate
        return new

    def n_values(self):
        if self.is_discrete:
            low, high = self.dist.support()
            return high - low + 1
        return math.inf

    def codes(self):
        low, high = self.dist.support()
        return range(int(low), int(high) + 1)

    def skopt_dimension(self):
        return Real(_EPS, 1.0 - _EPS, name=self.name)

    def to_skopt(self, code):
        return min(max(self.to_unit(code), _EPS), 1.0 - _EPS)

    def from_skopt(self, x):
        return self.from_unit(float(x))


def _make_param(name, value, where):
    """Turn one user value into a _Param, or raise naming the parameter."""
    if isinstance(value, Categorical):
        if not value.categories:
            raise ValueError(f"{where}[{name!r}] is an empty Categorical.")
        return _Choice(name, value.categories, value.prior)
    if isinstance(value, (Real, Integer)):
        _check_finite_bounds(value.low, value.high, f"{where}[{name!r}] = {value!r}")
        return _SkoptNumeric(name, value)
    if isinstance(value, Dimension):
        raise TypeError(f"{where}[{name!r}]: unsupported skopt dimension {value!r}.")
    if all(hasattr(value, attr) for attr in ("rvs", "cdf", "ppf")):
        _check_distribution(value, f"{where}[{name!r}]")
        return _Distribution(name, value)
    if isinstance(value, tuple) and _is_range_shorthand(value):
        return _make_param(name, _tuple_dimension(name, value, where), where)
    # A list is categorical whatever it holds (tuples such as hidden_layer_sizes
    # included), as in GridSearchCV; so is any other tuple, as in RandomizedSearchCV
    # (``((1, 1), (1, 2))`` for an ngram_range); an array must be 1-d.
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        if len(value) == 0:
            raise ValueError(
                f"{where}[{name!r}] is an empty {type(value).__name__}: give at least one value."
            )
        return _Choice(name, value)
    raise TypeError(
        f"{where}[{name!r}] is {value!r} of type {type(value).__name__}; expected a list "
        "of choices, a scipy.stats frozen distribution, or a skopt Real/Integer/"
        "Categorical (or its (low, high[, prior]) tuple)."
    )


def _is_range_shorthand(value):
    """skopt's ``(low, high[, prior[, base]])``: two numbers first, then strings or a base."""
    bounds, rest = value[:2], value[2:]
    return (
        2 <= len(value) <= 4
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in bounds)
        and (not rest or isinstance(rest[0], str))
    )


def _check_finite_bounds(low, high, label):
    # skopt takes NaN and infinite bounds, then samples NaN or fails deep inside a fit.
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(
            f"{label}: bounds must be finite numbers, got low={low!r} and high={high!r}."
        )


def _check_distribution(dist, label):
    """A frozen scipy distribution with invalid parameters has NaN quantiles."""
    with np.errstate(invalid="ignore"):
        quantiles = np.asarray(dist.ppf([_EPS, 0.5, 1.0 - _EPS]), dtype=float)
    if not np.isfinite(quantiles).all():
        kind = getattr(getattr(dist, "dist", None), "name", type(dist).__name__)
        given = [repr(a) for a in getattr(dist, "args", ())]
        given += [f"{k}={v!r}" for k, v in getattr(dist, "kwds", {}).items()]
        raise ValueError(
            f"{label} is a {kind}({', '.join(given)}) distribution with invalid "
            f"parameters: its quantiles are {quantiles.tolist()!r}."
        )


def _tuple_dimension(name, value, where):
    """skopt's shorthand ``(low, high[, prior])``, checked with a clear message."""
    if len(value) >= 2 and all(isinstance(v, numbers.Real) for v in value[:2]):
        low, high = value[:2]
        _check_finite_bounds(low, high, f"{where}[{name!r}] = {value!r}")
        if not low < high:
            raise ValueError(
                f"{where}[{name!r}] = {value!r}: low must be less than high, "
                f"got low={low!r} and high={high!r}."
            )
    try:
        return check_dimension(value)
    except ValueError as exc:
        raise ValueError(f"{where}[{name!r}] = {value!r}: {exc}") from None


class SearchSpace:
    """A parsed ``param_distributions``: sampling, perturbation and crossover of candidates.

    Parameters
    ----------
    param_distributions : dict or list of dicts
        See the module docstring for the values accepted.

    Attributes
    ----------
    subspaces : list of list of _Param
        One list of parameters per dict.
    structures : list of _Structure
        The conditions of each sub-space (see :class:`Conditional`).

    Examples
    --------
    >>> import numpy as np
    >>> from skautosearch.space import SearchSpace, Real
    >>> space = SearchSpace({"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf"]})
    >>> genome = space.sample(1, np.random.default_rng(0))[0]
    >>> sorted(space.decode(genome))
    ['C', 'kernel']
    """

    def __init__(self, param_distributions):
        where = "param_distributions"
        if isinstance(param_distributions, dict):
            param_distributions = [param_distributions]
        if not isinstance(param_distributions, (list, tuple)) or not param_distributions:
            raise ValueError(
                f"{where} must be a non-empty dict or a non-empty list of dicts, "
                f"got {param_distributions!r}."
            )
        self.subspaces = []
        self.structures = []
        for i, sub in enumerate(param_distributions):
            label = where if len(param_distributions) == 1 else f"{where}[{i}]"
            if not isinstance(sub, dict) or not sub:
                raise ValueError(f"{label} must be a non-empty dict, got {sub!r}.")
            params, whens = [], {}
            for j, (name, value) in enumerate(sub.items()):
                value, when = unwrap(name, value, label)
                if when is not None:
                    whens[j] = when
                params.append(_make_param(name, value, label))
            self.subspaces.append(params)
            self.structures.append(_Structure(params, whens, label))

    def size(self):
        """Number of distinct candidates (``math.inf`` if any dimension is continuous).

        Candidates differing only in inactive parameters count once; beyond 10,000
        combinations of the values conditions depend on, an upper bound.
        """
        return sum(structure.count() for structure in self.structures)

    def decode(self, genome):
        """The ``{name: value}`` dict of a genome, as ``set_params`` takes it.

        Inactive parameters (code ``None``) are left out: the estimator keeps its own.
        """
        k, codes = genome
        return {
            p.name: p.decode(c) for p, c in zip(self.subspaces[k], codes) if c is not INACTIVE
        }

    def canonical(self, genome):
        """``genome`` with every inactive parameter's code replaced by ``None``.

        Genomes that differ only in inactive parameters have the same canonical
        form. Raises ValueError if an active parameter has no code.
        """
        k, codes = genome
        return (k, self.structures[k].complete(codes))

    def active(self, genome):
        """One bool per parameter of the genome's sub-space: is it active?"""
        k, codes = genome
        return self.structures[k].active(codes)

    def sample(self, n, rng):
        """``n`` genomes: a Latin hypercube in unit coordinates, sub-spaces in turn.

        Stratifying each coordinate covers the space better than independent draws
        at the same budget, with the same marginal distribution (the prior).
        """
        ks = rng.permutation(np.arange(n) % len(self.subspaces))
        genomes = [None] * n
        for k, sub in enumerate(self.subspaces):
            rows = np.flatnonzero(ks == k)
            if len(rows) == 0:
                continue
            units = qmc.LatinHypercube(d=len(sub), rng=rng).random(len(rows))
            structure = self.structures[k]
            for row, u in zip(rows, units):
                codes = tuple(p.from_unit(x) for p, x in zip(sub, u))
                genomes[row] = (k, structure.complete(codes))
        return genomes

    def mutate(self, genome, rng, *, probability, scale, numeric="some"):
        """Perturb the active genes of ``genome``; at least one always changes.

        With ``numeric="some"`` each active gene is perturbed with ``probability`` and a
        step of ``scale``. With ``numeric="all"`` every active numeric gene moves, by a
        step of ``scale / sqrt(number of active numeric genes)`` (so the length of the
        whole move stays about ``scale``), and only categorical genes are left to
        ``probability``: one-coordinate moves cannot follow a diagonal ridge, and an
        integer gene may then stay where the step rounds it. A parameter the mutation
        activates takes a value drawn from its prior; one it deactivates loses its
        value.
        """
        k, codes = genome
        sub = self.subspaces[k]
        active = np.array([c is not INACTIVE for c in codes])
        is_numeric = np.array([not p.is_categorical for p in sub])
        if numeric == "all":
            moving = is_numeric & active
            mask = moving | ((rng.random(len(sub)) < probability) & active)
            steps = scale / math.sqrt(max(int(moving.sum()), 1))
        else:
            mask = (rng.random(len(sub)) < probability) & active
            steps = scale
        if not mask.any():
            candidates = np.flatnonzero(active)
            mask[candidates[rng.integers(len(candidates))]] = True
        force = numeric != "all" or not (mask & is_numeric).any()
        codes = tuple(p.perturb(c, steps, rng, force=force) if m else c
                      for p, c, m in zip(sub, codes, mask))
        return (k, self.structures[k].complete(codes, rng))

    def crossover(self, first, second, rng, *, blend=0.0):
        """Uniform crossover; parents from different sub-spaces are returned unchanged.

        Where the parents differ in a value a conditional gene depends on, the gene
        goes with that value, so that each child inherits a whole active sub-tree
        from one parent (the filters of block 3 travel with ``n_blocks=3``); where
        they agree, it is exchanged on its own. A gene the child activates that
        neither parent has is drawn from its prior.

        ``blend > 0`` makes it a blend crossover (BLX-α, Eshelman & Schaffer 1993) on
        the numeric genes that both parents have active, under the same values of
        what they depend on, and that no condition reads: each child
        draws such a gene uniformly, in unit coordinates, from the parents' interval
        widened by ``blend`` times its length on each side. Swapping alone only
        recombines values already tried; blending proposes new ones between and
        around them.
        """
        (k1, a), (k2, b) = first, second
        if k1 != k2 or (len(a) < 2 and not blend):
            return first, second
        swap = rng.random(len(a)) < 0.5
        structure = self.structures[k1]
        for i in structure.order:  # parents first: their swap is decided when read
            parent = structure.first_parent(i)
            if parent is not None and a[parent] != b[parent]:
                swap[i] = swap[parent]
        child1 = [y if s else x for x, y, s in zip(a, b, swap)]
        child2 = [x if s else y for x, y, s in zip(a, b, swap)]
        if blend:
            read = set(structure.parents)
            for i, param in enumerate(self.subspaces[k1]):
                parent = structure.first_parent(i)
                if (param.is_categorical or i in read or a[i] is INACTIVE
                        or b[i] is INACTIVE or a[i] == b[i]
                        or (parent is not None and a[parent] != b[parent])):
                    continue  # a sub-tree from one parent stays whole
                ua, ub = param.to_unit(a[i]), param.to_unit(b[i])
                low, high = min(ua, ub), max(ua, ub)
                width = blend * (high - low)
                for child in (child1, child2):
                    u = _reflect(rng.uniform(low - width, high + width))
                    child[i] = param.from_unit(min(max(u, _EPS), 1.0 - _EPS))
        child1, child2 = tuple(child1), tuple(child2)
        return (
            (k1, structure.complete(child1, rng, spare=child2)),
            (k1, structure.complete(child2, rng, spare=child1)),
        )


def to_param_grid(param_distributions):
    """The candidates of a finite space, as ``GridSearchCV``'s ``param_grid``.

    A :class:`Conditional` parameter is listed only in the grids where it is
    active: one grid per combination of the values the conditions read, so
    ``GridSearchCV`` evaluates each distinct candidate once, and masks inactive
    parameters in ``cv_results_`` as the other searches do.

    Parameters
    ----------
    param_distributions : dict or list of dicts
        A search space (see the module documentation) whose every dimension has a
        finite number of values: lists, ``Categorical``, ``Integer`` (every
        integer in its range) or discrete scipy distributions.

    Returns
    -------
    list of dict
        Parameter name to list of values; as many candidates in all as
        :meth:`SearchSpace.size` counts.

    Raises
    ------
    ValueError
        Naming a continuous parameter (``Real``, a continuous distribution).

    Examples
    --------
    >>> from skautosearch.space import Conditional, to_param_grid
    >>> to_param_grid({
    ...     "n_blocks": [1, 2, 3],
    ...     "filters_0": [16, 32],
    ...     "filters_1": Conditional([16, 32], when={"n_blocks": [2, 3]}),
    ... })
    [{'n_blocks': [1], 'filters_0': [16, 32]}, \
{'n_blocks': [2, 3], 'filters_0': [16, 32], 'filters_1': [16, 32]}]
    """
    space = SearchSpace(param_distributions)
    return [grid for structure in space.structures for grid in structure.grids()]
