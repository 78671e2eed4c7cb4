"""Pre-screening: a cheap model of the scores picks which proposals get fitted.

The genetic and annealing searches breed or propose several times more candidates
than they evaluate; a Gaussian process fitted to the scores so far ranks them by
expected improvement and only the best go to cross-validation. This is the
metamodel-assisted evolutionary algorithm of Emmerich, Giannakoglou & Naujoks (2006,
"Single- and multiobjective evolutionary optimization assisted by Gaussian random
field metamodels"): the operators still decide *where* to look (near the parents, a
step from the chain), the model only decides *which* of those proposals to spend a
fit on. It costs a GP fit on at most 200 points per batch (the best ones, in a longer
search), milliseconds next to a cross-validated fit.

The GP models the scores' normal quantiles by rank (a Gaussian copula) rather than the
scores: a cliff from 0.99 to chance accuracy would otherwise set its scale.
"""

import math

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, cholesky, solve_triangular
from scipy.stats import norm, rankdata

from ._conditional import INACTIVE

# The value every input column of an inactive parameter takes, in the screen's model
# and in BayesianSearchCV's surrogate: outside the unit range of every active value.
INACTIVE_INPUT = -1.0
# The model is fitted once a sub-space has this many scored candidates.
_MIN_POINTS = 4
# Expected improvement over the best, in units of the copula's standard normal.
_XI = 0.01
# Beyond this many scored candidates the GP sees the best ones only (a Cholesky
# factorisation is cubic in the points).
_MAX_POINTS = 200
# The kernels tried, in unit coordinates and in units of the scores' variance.
_LENGTH_SCALES = (0.05, 0.1, 0.2, 0.4, 0.8)
_NOISE_LEVELS = (0.01, 0.1, 0.5)


def copula(scores):
    """Normal quantiles of ``scores`` by rank (ties share one); non-finite = the worst."""
    values = np.asarray(scores, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(len(values))
    values = np.where(finite, values, values[finite].min())
    return norm.ppf((rankdata(values) - 0.5) / len(values))


class Screen:
    """Ranks unevaluated genomes of a :class:`~skautosearch.space.SearchSpace`.

    Parameters
    ----------
    space : SearchSpace
        The search's space; genomes are encoded in its unit coordinates (categories
        one-hot, an inactive parameter as ``INACTIVE_INPUT`` in all its columns).
    """

    def __init__(self, space):
        self.space = space
        self._cache = None  # (told, (gp, best)) of the last fit
        self._codes = {}  # genome -> its row of unit coordinates

    def _encode(self, genome):
        if genome not in self._codes:
            self._codes[genome] = self._encode_new(genome)
        return self._codes[genome]

    def _encode_new(self, genome):
        k, codes = genome
        row = []
        for param, code in zip(self.space.subspaces[k], codes):
            if param.is_categorical:
                width = param.n_values()
                row.extend([INACTIVE_INPUT] * width if code is INACTIVE
                           else np.eye(width)[code].tolist())
            else:
                row.append(INACTIVE_INPUT if code is INACTIVE else param.to_unit(code))
        return row

    def pick(self, scores, proposals, n):
        """The ``n`` proposals of highest expected improvement, best first.

        ``scores`` maps evaluated genomes to their scores. Proposals of a sub-space
        with fewer than a few scored candidates keep their order; the others are
        ranked by the sub-space's own model.
        """
        if len(proposals) <= n:
            return list(proposals)
        value = np.zeros(len(proposals))  # unranked proposals: EI 0, order kept
        for k in {g[0] for g in proposals}:
            told = [(g, s) for g, s in scores.items() if g[0] == k]
            if len(told) < _MIN_POINTS:
                continue
            mine = [i for i, g in enumerate(proposals) if g[0] == k]
            gp, best = self._model(told)
            mu, sigma = gp.predict(np.array([self._encode(proposals[i]) for i in mine]))
            value[mine] = _expected_improvement(mu, sigma, best)
        order = np.argsort(-value, kind="stable")
        return [proposals[i] for i in order[:n]]

    def _model(self, told):
        """The GP of ``told`` (genome, score) pairs, and the best transformed score.

        Refitted only when the scores changed: an annealing batch asks once per chain.
        """
        key = tuple(told)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if len(told) > _MAX_POINTS:
            # A long search: model the region that matters, at a bounded cost.
            told = sorted(told, key=lambda t: -t[1] if np.isfinite(t[1]) else np.inf)
            told = told[:_MAX_POINTS]
        X = np.array([self._encode(g) for g, _ in told])
        y = copula([s for _, s in told])
        fitted = (_GP().fit(X, y), float(y.max()))
        self._cache = (key, fitted)
        return fitted


def _distances(A, B):
    """Euclidean distances between the rows of ``A`` and ``B``."""
    squared = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2.0 * A @ B.T
    return np.sqrt(np.maximum(squared, 0.0))


def _matern52(distances, length_scale):
    r = math.sqrt(5.0) * distances / length_scale
    return (1.0 + r + r**2 / 3.0) * np.exp(-r)


class _GP:
    """A zero-mean Matérn-5/2 GP on standardised targets, its kernel chosen by likelihood.

    From a small grid of length scales and noise levels rather than by gradient
    steps: ranking proposals needs no more, and each candidate kernel is one Cholesky
    factorisation of a few dozen points. (scikit-learn's ``GaussianProcessRegressor``
    spent 0.1-1 s a batch here, mostly in its parameter machinery.)
    """

    def fit(self, X, y):
        self.X = X
        self.mean, self.scale = y.mean(), y.std() or 1.0
        t = (y - self.mean) / self.scale
        best = -np.inf
        distances = _distances(X, X)
        for length_scale in _LENGTH_SCALES:
            K0 = _matern52(distances, length_scale)
            for noise in _NOISE_LEVELS:
                try:
                    L = cholesky(K0 + noise * np.eye(len(X)), lower=True)
                except LinAlgError:
                    continue
                alpha = cho_solve((L, True), t)
                lml = -0.5 * t @ alpha - np.log(np.diag(L)).sum()
                if lml > best:
                    best = lml
                    self.length_scale, self.L, self.alpha = length_scale, L, alpha
        return self

    def predict(self, X):
        Ks = _matern52(_distances(X, self.X), self.length_scale)
        mu = Ks @ self.alpha
        v = solve_triangular(self.L, Ks.T, lower=True)
        sigma = np.sqrt(np.maximum(1.0 - (v**2).sum(0), 1e-12))
        return mu * self.scale + self.mean, sigma * self.scale


def _expected_improvement(mu, sigma, best):
    sigma = np.maximum(sigma, 1e-9)
    z = (mu - best - _XI) / sigma
    return (mu - best - _XI) * norm.cdf(z) + sigma * norm.pdf(z)
