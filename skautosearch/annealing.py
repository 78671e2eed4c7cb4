"""Simulated annealing: chains that accept worse candidates less and less often."""

import math
import numbers

import numpy as np

from ._base import BaseSequentialSearchCV
from ._screening import Screen
from ._sklearn_private import Interval, StrOptions

_NOVELTY_TRIES = 10
# The neighbourhood never shrinks below this fraction of its initial size.
_MIN_STEP_FRACTION = 0.1
# The exponential and linear schedules never cool below this fraction of the initial
# temperature: ``rate**step`` underflows to 0.0 after a few thousand steps, and a
# colder chain would accept nothing worse anyway.
_MIN_TEMPERATURE_FRACTION = 1e-3


def _temperature(schedule, initial, rate, step):
    """Temperature at ``step`` (0-based) of a cooling schedule."""
    if callable(schedule):
        return float(schedule(step))
    floor = initial * _MIN_TEMPERATURE_FRACTION
    if schedule == "exponential":
        return max(initial * rate**step, floor)
    if schedule == "linear":
        return max(initial * (1.0 - (1.0 - rate) * step), floor)
    return initial / (1.0 + math.log1p(step))  # "logarithmic"


def _resample(scores, temperature, rng):
    """Population annealing's resampling: the chain each chain continues from.

    Each chain's expected number of copies is proportional to its Boltzmann weight
    ``exp(score / temperature)`` (Hukushima & Iba, 2003; Machta, 2010), drawn by
    systematic resampling (one uniform draw, so the counts are within one of their
    expectation). A chain with at least one copy keeps its own state; the extra copies
    replace the chains that drew none. Chains with a non-finite score (failed, or a
    restart not evaluated yet) are replaced unless every chain's is non-finite.
    """
    scores = np.asarray(scores, dtype=float)
    n, finite = len(scores), np.isfinite(scores)
    if not finite.any():
        return np.arange(n)
    weights = np.zeros(n)
    weights[finite] = np.exp((scores[finite] - scores[finite].max()) / temperature)
    edges = np.cumsum(weights / weights.sum())
    drawn = np.searchsorted(edges, (rng.random() + np.arange(n)) / n, side="right")
    counts = np.bincount(np.minimum(drawn, n - 1), minlength=n)
    parents = np.arange(n)
    spare = np.flatnonzero(counts == 0)
    extra = np.repeat(np.arange(n), np.maximum(counts - 1, 0))
    parents[spare] = extra
    return parents


class AnnealingSearchCV(BaseSequentialSearchCV):
    """Hyper-parameter and architecture search by simulated annealing.

    A Latin hypercube sample of ``n_initial_points`` candidates is evaluated first and
    the ``n_chains`` best of them start the chains, which advance together: at each
    step every chain proposes a neighbour of its current candidate, the proposals are
    evaluated in one ``evaluate_candidates`` call, and each chain accepts its proposal by
    the Metropolis rule: always if it scores at least as well, otherwise with
    probability ``exp(delta / (T * s))`` where ``delta`` is the (negative) score
    difference, ``T`` the temperature and ``s`` the standard deviation of the scores seen
    so far — so the temperature is unitless and the same defaults work for accuracy
    and for a negative mean squared error. Each chain adapts its step to the landscape:
    wider after a gain or a tie, narrower after a loss. A chain that has not improved
    its own best for ``restart_after`` steps restarts from a fresh random candidate.
    Each proposal is the most promising of ``screening`` neighbours by a Gaussian
    process of the scores so far.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune; cloned, never modified.
    param_distributions : dict or list of dicts
        The search space, as in :class:`~skautosearch.GeneticSearchCV`.
    n_iter : int, default=30
        Number of distinct candidates evaluated.
    n_chains : int, default=2
        Chains advanced together; one step of all chains is one parallel batch. With
        budgets, a step whose batch starts at a higher rung moves fewer chains, in
        turn (see ``n_brackets`` in :class:`~skautosearch.GeneticSearchCV`).
    n_initial_points : int, default=6
        Size of the first batch, a Latin hypercube sample whose best candidates start
        the chains (at least ``n_chains`` are drawn). Starting from the best of a
        spread-out sample, rather than from ``n_chains`` random points, is what lets a
        short search reach the good region.
    initial_temperature : float, default=1.0
        Starting temperature, in units of the score's standard deviation; finite, > 0.
    cooling : {"exponential", "linear", "logarithmic"} or callable, default="exponential"
        Schedule ``T(step)``: ``T0 * rate**step``, ``T0 * (1 - (1 - rate) * step)``
        (both floored at ``T0 / 1000``), ``T0 / (1 + log(1 + step))``, or a callable
        ``step -> T`` returning finite positive values.
    cooling_rate : float, default=0.85
        The ``rate`` of the exponential and linear schedules, in (0, 1).
    step_scale : float, default=0.25
        Length of a chain's first move, as a fraction of the space's range in its
        priors' quantile space: every numeric coordinate moves, each by a Gaussian step
        of ``step_scale / sqrt(number of numeric dimensions)``; a categorical gene is
        resampled with probability 1/2. Each chain then adapts its own step, within
        [step_scale / 10, 2 * step_scale]: x1.3 after a proposal that scores at least
        as well (a gain, or a tie on a plateau), x0.8 after a worse one.
    restart_after : int or None, default=4
        Steps without improving a chain's own best before it restarts from a fresh
        random candidate; None never restarts.
    screening : int, default=8
        Neighbours drawn per chain and step. A Gaussian process of the scores so far
        ranks them by expected improvement and only the best is fitted
        (pre-screening; Emmerich, Giannakoglou & Naujoks, 2006). ``1`` fits every
        neighbour drawn: plain annealing.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    random_state, max_time, patience, callbacks, checkpoint, candidate_timeout, \
objectives, objective_weights, resource, min_resources, max_resources, factor, \
n_brackets
        As in :class:`~skautosearch.GeneticSearchCV` (``patience`` counts steps).

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in ``GridSearchCV``, plus ``step``, ``chain``, ``temperature`` (when and by
        which chain a candidate was first proposed; chain -1 is the initial sample)
        and ``batch``.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    n_batches_ : int
        Number of ``evaluate_candidates`` calls.
    stop_reason_ : str
        Why the search stopped (see :class:`~skautosearch.GeneticSearchCV`).
    n_resources_, n_candidates_ : list of int
        As in :class:`~skautosearch.GeneticSearchCV` (with ``resource`` only).
    n_replayed_fits_ : int
        Fits answered from the ``checkpoint`` journal instead of being run.
    pareto_front_ : Bunch
        With ``objectives`` only: ``index``, the rows of ``cv_results_`` on the Pareto
        front (sorted by the first objective), and ``table``, a dict of their
        ``params`` and objective values (``pandas.DataFrame(search.pareto_front_.table)``).

    See Also
    --------
    GeneticSearchCV : A genetic algorithm over the same space.
    BayesianSearchCV : Bayesian optimisation over the same space.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skautosearch import AnnealingSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = AnnealingSearchCV(
    ...     SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...     n_iter=8, n_chains=2, n_initial_points=4, cv=3, random_state=0,
    ... ).fit(X, y)
    >>> sorted(set(search.cv_results_["chain"].tolist()))
    [-1, 0, 1]
    """

    _parameter_constraints: dict = {
        **BaseSequentialSearchCV._parameter_constraints,
        "n_chains": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_initial_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "initial_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "cooling": [StrOptions({"exponential", "linear", "logarithmic"}), callable],
        "cooling_rate": [Interval(numbers.Real, 0, 1, closed="neither")],
        "step_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "restart_after": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "screening": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_iter=30,
        n_chains=2,
        n_initial_points=6,
        initial_temperature=1.0,
        cooling="exponential",
        cooling_rate=0.85,
        step_scale=0.25,
        restart_after=4,
        screening=8,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        max_time=None,
        patience=None,
        callbacks=None,
        checkpoint=None,
        candidate_timeout=None,
        objectives=None,
        objective_weights=None,
        resource=None,
        min_resources=None,
        max_resources=None,
        factor=3,
        n_brackets=None,
    ):
        super().__init__(
            estimator,
            param_distributions,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            max_time=max_time,
            patience=patience,
            callbacks=callbacks,
            checkpoint=checkpoint,
            candidate_timeout=candidate_timeout,
            objectives=objectives,
            objective_weights=objective_weights,
            resource=resource,
            min_resources=min_resources,
            max_resources=max_resources,
            factor=factor,
            n_brackets=n_brackets,
        )
        self.n_chains = n_chains
        self.n_initial_points = n_initial_points
        self.initial_temperature = initial_temperature
        self.cooling = cooling
        self.cooling_rate = cooling_rate
        self.step_scale = step_scale
        self.restart_after = restart_after
        self.screening = screening

    def _check_strategy_params(self):
        if callable(self.cooling):
            try:
                first = self.cooling(0)
            except TypeError as exc:
                raise TypeError(
                    "cooling must be a callable taking the step number: cooling(0) "
                    f"raised {exc}"
                ) from exc
            if (isinstance(first, bool) or not isinstance(first, numbers.Real)
                    or not (math.isfinite(first) and first > 0)):
                raise ValueError(
                    f"cooling(0) must return a finite positive temperature, got {first!r}."
                )

    def _temperature(self, step):
        t = _temperature(self.cooling, self.initial_temperature, self.cooling_rate, step)
        if not (math.isfinite(t) and t > 0):
            raise ValueError(f"cooling({step}) gave the temperature {t!r}; need finite > 0.")
        return t

    # Operator settings the search-efficiency benchmark chose (benchmarks/RESULTS.md).
    _numeric_mutation = "all"  # "all": every numeric coordinate moves; "some": each with p
    _adaptive_step = True  # per-chain step: grows on ties and gains, shrinks on losses
    _restart_from = "fresh"  # "best": the best so far; "fresh": a new random candidate
    # Whether the chains are resampled by their scores after each batch, as in
    # population annealing (``_resample``): "budgeted" (only in a budgeted search, where
    # most chains would otherwise sit on candidates the halving stopped), "always" or
    # "never". Off: on the digits CNN (6 seeds) and three scikit-learn tasks (8 seeds)
    # it won as often as it lost (benchmarks/RESULTS.md, session 8).
    _resampling = "never"

    def _search(self, ev, rng):
        chains = list(range(self.n_chains))
        temperature = self._temperature(0)
        initial = ev.space.sample(max(self.n_initial_points, self.n_chains), rng)
        initial_scores = ev.evaluate(
            initial, self._columns(0, [-1] * len(initial), temperature)
        )
        order = np.argsort(-np.nan_to_num(initial_scores, nan=-np.inf), kind="stable")
        current = [initial[i] for i in order[: self.n_chains]]
        current_scores = initial_scores[order[: self.n_chains]]
        chain_best = current_scores.copy()
        stale = np.zeros(self.n_chains, dtype=int)
        scales = np.full(self.n_chains, float(self.step_scale))
        resample = self._resampling == "always" or (
            self._resampling == "budgeted" and ev.schedule is not None)

        def resample_chains(spread):
            """Population annealing's step: every chain takes its drawn parent's state."""
            parents = _resample(current_scores, temperature * spread, rng)
            current[:] = [current[p] for p in parents]
            for array in (current_scores, chain_best, stale, scales):
                array[:] = array[parents]

        if resample:
            resample_chains(self._score_spread(ev))
        screen = Screen(ev.space)
        step, turn = 0, 0
        while not ev.done:
            step += 1
            temperature = self._temperature(step)
            # Every chain steps, unless a budgeted batch has fewer places (Hyperband's
            # shares, Evaluator.batch_size): then the chains take turns.
            n_moving = ev.batch_size(self.n_chains)
            moving = [(turn + i) % self.n_chains for i in range(n_moving)]
            turn = (turn + n_moving) % self.n_chains
            if self._adaptive_step:
                steps = scales[moving]
            else:
                steps = [self.step_scale * max(temperature / self._temperature(0),
                                               _MIN_STEP_FRACTION)] * n_moving
            proposals = self._propose(ev, [current[c] for c in moving], steps, rng, screen)
            scores = ev.evaluate(proposals, self._columns(step, moving, temperature))
            # A multi-objective search re-scalarises every score after each batch.
            current_scores = np.array([ev.scores.get(g, -np.inf) for g in current])
            spread = self._score_spread(ev)
            for c, proposal, score in zip(moving, proposals, scores):
                scales[c] = self._adapt(scales[c], current_scores[c], score)
                if self._accept(current_scores[c], score, temperature * spread, rng):
                    current[c], current_scores[c] = proposal, score
                improved = current_scores[c] > chain_best[c]
                chain_best[c] = max(chain_best[c], current_scores[c])
                stale[c] = 0 if improved else stale[c] + 1
            if resample:
                resample_chains(spread)
            for c in chains:
                if self.restart_after is not None and stale[c] >= self.restart_after:
                    current[c], current_scores[c] = self._restart(ev, rng)
                    if self._restart_from == "fresh":
                        chain_best[c] = -np.inf  # a new chain, with a best of its own
                    scales[c] = self.step_scale
                    stale[c] = 0

    def _adapt(self, scale, current, proposed):
        """The chain's next step size: a 1/5th-success-style rule (Rechenberg, 1973).

        A gain or a tie (a plateau) widens the step, a loss narrows it, within
        [step_scale / 10, 2 * step_scale]: the step follows the landscape rather than
        the clock.
        """
        if not np.isfinite(proposed) or proposed < current:
            scale *= 0.8
        else:
            scale *= 1.3
        return float(np.clip(scale, self.step_scale * _MIN_STEP_FRACTION,
                             2 * self.step_scale))

    def _restart(self, ev, rng):
        """Where a stale chain starts again, and that candidate's score (-inf if new)."""
        if self._restart_from == "best":
            genome = max(ev.scores, key=ev.scores.get)
            return genome, ev.scores[genome]
        for _ in range(_NOVELTY_TRIES):
            genome = ev.space.sample(1, rng)[0]
            if genome not in ev.scores:
                break
        # Not evaluated yet: the chain's next proposal is compared with -inf, so it
        # is accepted, and the restart point itself is never spent as a candidate.
        return genome, -np.inf

    @staticmethod
    def _columns(step, chains, temperature):
        n = len(chains)
        return {"step": [step] * n, "chain": list(chains), "temperature": [temperature] * n}

    def _propose(self, ev, current, scales, rng, screen):
        """One new neighbour per chain: the most promising of ``screening`` tries."""
        proposals = []
        told = ev.model_scores  # what the screen learns from, the same for every chain
        for genome, scale in zip(current, scales):
            tries = []
            for _ in range(_NOVELTY_TRIES * self.screening):
                proposal = ev.space.mutate(genome, rng, probability=0.5, scale=scale,
                                           numeric=self._numeric_mutation)
                if proposal not in ev.scores and proposal not in proposals + tries:
                    tries.append(proposal)
                    if len(tries) == self.screening:
                        break
            # Every try repeats a candidate (a tiny finite space): the repeat is
            # answered from memory, never refitted.
            proposals.append(screen.pick(told, tries, 1)[0] if tries else proposal)
        return proposals

    @staticmethod
    def _score_spread(ev):
        """Standard deviation of the better half of the scores seen.

        The worse half is left out: a few hopeless candidates (accuracy at chance)
        would otherwise inflate the scale and make every move look small.
        """
        finite = np.sort([s for s in ev.scores.values() if math.isfinite(s)])
        spread = float(np.std(finite[len(finite) // 2:])) if len(finite) > 3 else 0.0
        return spread if spread > 0 else 1.0

    @staticmethod
    def _accept(current, proposed, temperature, rng):
        """Metropolis rule; an unevaluated proposal (budget spent) is never accepted."""
        if np.isnan(proposed):
            return False
        if proposed >= current:
            return True
        if not math.isfinite(proposed):
            return False
        return rng.random() < math.exp((proposed - current) / temperature)
