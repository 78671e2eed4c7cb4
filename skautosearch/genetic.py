"""Genetic search: a population evolved by selection, crossover and mutation."""

import numbers

import numpy as np

from ._base import BaseSequentialSearchCV
from ._screening import Screen
from ._sklearn_private import Interval

# Attempts at a child nobody has seen before a random immigrant takes its place.
_NOVELTY_TRIES = 10


def _fitness(scores):
    """``scores`` as selection ranks them: ``nan`` (failed, unscored) below everything."""
    return np.where(np.isnan(scores), -np.inf, scores)


def _best_first(scores):
    """Indices of ``scores`` from the best down (ties in order; ``nan`` last)."""
    return np.argsort(-_fitness(scores), kind="stable")


def _tournament(population, scores, size, rng):
    """Index of the best of ``size`` individuals drawn at random (ties: the first)."""
    entrants = rng.choice(len(population), size=min(size, len(population)), replace=False)
    return entrants[np.argmax(scores[entrants])]


class GeneticSearchCV(BaseSequentialSearchCV):
    """Hyper-parameter and architecture search by a genetic algorithm.

    Generation 0 is a Latin hypercube sample of the space. Each later generation keeps
    the ``elitism`` best candidates found so far and breeds the rest of the population
    from the current one: tournament selection, uniform crossover, then mutation that
    respects each dimension's type and prior (a Gaussian step in log space for a
    log-uniform ``Real``, rounded for an ``Integer``, in quantile space for a scipy
    distribution, resampling for a categorical). It breeds ``screening`` times more
    children than it evaluates, and a Gaussian process of the scores so far picks the
    most promising. A generation is evaluated in one
    ``evaluate_candidates`` call, so joblib runs its candidates x folds in parallel.
    A child that was already evaluated is mutated again; repeats are never refitted.
    With several ``objectives`` the generations follow NSGA-II (Deb et al., 2002):
    parents and children compete on non-dominated rank, then crowding distance.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune; cloned, never modified.
    param_distributions : dict or list of dicts
        The search space: lists (categorical), scipy.stats frozen distributions, or
        :class:`~skautosearch.Real`, :class:`~skautosearch.Integer`,
        :class:`~skautosearch.Categorical`, any of them wrapped in
        :class:`~skautosearch.Conditional` to exist only when other parameters take
        given values. A list of dicts gives alternative sub-spaces, as in
        :class:`~sklearn.model_selection.GridSearchCV`.
    n_iter : int, default=30
        Number of distinct candidates evaluated, as in
        :class:`~sklearn.model_selection.RandomizedSearchCV`.
    population_size : int, default=10
        Candidates per generation, hence per parallel batch. Match it to a multiple of
        your workers; results depend on it, never on ``n_jobs``. With budgets, a
        generation whose batch starts at a higher rung has fewer children (see
        ``n_brackets``).
    crossover_probability : float, default=0.8
        Probability that two parents are recombined (uniform crossover).
    mutation_probability : float, default=0.5
        Probability that each gene of a child is mutated; at least one gene always is.
    mutation_scale : float, default=0.1
        Standard deviation of a numeric mutation, as a fraction of the dimension's
        range in its prior's quantile space (e.g. decades for log-uniform).
    tournament_size : int, default=3
        Individuals compared to pick each parent.
    elitism : int, default=2
        Best candidates found so far carried unchanged into each generation (with
        several ``objectives``, NSGA-II's survival of parents and children replaces it).
    screening : int, default=8
        Children bred for each one evaluated. A Gaussian process of the scores so far
        ranks them by expected improvement and only the best are fitted
        (pre-screening; Emmerich, Giannakoglou & Naujoks, 2006). The operators still
        decide where to look, the model only which of their proposals costs a fit.
        ``1`` fits every child bred: a plain genetic algorithm. Not used with several
        ``objectives``.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`~sklearn.model_selection.GridSearchCV`. With several metrics the
        search maximises the ``refit`` metric (the first one if ``refit`` is callable).
        ``refit="knee"`` (with ``objectives``) refits the knee of the Pareto front;
        :func:`skautosearch.pareto.smallest_within_one_se` makes a ``refit`` callable
        for the smallest model within one standard error of the best score.
    random_state : int, RandomState instance or None, default=None
        Seeds the search's own ``numpy.random.Generator``; the global state is never
        read or changed.
    max_time : float, default=None
        Seconds; the search stops after the generation that crosses it.
    patience : int, default=None
        Stop after this many generations without a better best score (with several
        ``objectives``: without a new candidate on the Pareto front).
    callbacks : callable or list of callables, default=None
        Each is called as ``callback(search, results)`` after every generation with
        the ``cv_results_`` so far; returning True stops the search.
    checkpoint : str or path-like, default=None
        A file journaling every finished fit (JSON lines, never pickle), flushed as
        each fit ends. Fitting again with the same file (after a crash, a kill, or
        with a larger ``n_iter``) answers every journaled fit without refitting; with
        the same ``random_state`` the search replays the same candidates and ends with
        the same ``cv_results_``. A truncated last record is skipped with a warning; a
        journal written for another estimator, other data, other folds or another
        scoring is refused with an error. See :doc:`/user_guide/reliability`.
    candidate_timeout : float, default=None
        Seconds one fit may take; a longer one is interrupted and recorded as failed
        (``error_score``, ``failure_reason`` "timed out ..."). A fit stuck in a long C
        call is stopped by killing its worker process (process-based backends).
    objectives : dict of str to {"max", "min"}, default=None
        Several objectives, e.g. ``{"accuracy": "max", "size_bytes": "min"}``: scorer
        names (``"score"``, the ``scoring`` string, the estimator's default scorer
        name, or the keys of a multi-metric ``scoring``) and cost measures of the
        fold models: ``"n_params"``, ``"n_nonzero"``, ``"size_bytes"``, ``"latency"``
        (see :mod:`skautosearch.costs`), recorded as ``mean_<name>`` and
        ``std_<name>`` columns. The search then looks for the Pareto front
        (``pareto_front_``); with ``refit="knee"`` it refits the front's knee.
    objective_weights : dict of str to float, default=None
        Weights of the ``objectives`` in the scalarisation that guides annealing and
        Bayesian optimisation; by default fresh random weights for each batch
        (ParEGO), which spreads the candidates along the front.

    resource : str, default=None
        What a budget is counted in: ``None`` trains every candidate fully (no
        budgets); ``"n_samples"`` (training rows of each fold); or the name of an
        integer parameter of the estimator, e.g. ``"epochs"``, ``"model__epochs"``,
        ``"n_estimators"``, ``"max_iter"``. Candidates are then evaluated by successive
        halving inside each batch: at ``min_resources`` first, and only the best
        ``1 / factor`` go on to ``factor`` times the budget, up to ``max_resources``.
        A promoted candidate **continues**: Keras models train only the extra epochs
        from their weights and optimizer state, estimators with ``warm_start`` grow in
        place, others are refitted. A batch's top rung runs beside the next batch's
        first rung, and the last batch's when the search stops (after ``max_time`` too),
        so that its few long fits do not leave workers idle. See the user guide's
        budgets page.
    min_resources, max_resources : int, default=None
        The smallest and largest budgets. ``max_resources=None`` is the estimator's
        own value of ``resource`` (all training rows for ``"n_samples"``);
        ``min_resources=None`` is ``max_resources // factor**2`` (at least 1).
    factor : int, default=3
        η of successive halving: the budget grows and the candidates shrink by this
        factor from rung to rung.
    n_brackets : int, default=None
        The batches' new candidates start at the lowest rung in the first batch, one
        rung higher in the next, and so on over this many Hyperband brackets, so that a
        ``min_resources`` too small to rank candidates is hedged; ``None`` uses every
        bracket, ``1`` is plain successive halving. As in Hyperband, a batch that starts
        higher has fewer new candidates, so that each bracket costs about the same:
        with rungs 1, 3, 9, 27, a full batch from the lowest rung, about 4/9 of it from
        the second, 2/9 from the third, 4/27 from the top (at least one). A generation
        with fewer children keeps the best of the previous population in its places;
        an annealing step with fewer places moves the chains in turn; a Bayesian
        batch asks fewer points.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in ``GridSearchCV``, one row per distinct candidate in evaluation order, plus
        ``generation`` (when it was first evaluated), ``batch``, ``failure_reason``
        (why a candidate's fit failed or got ``error_score``; "" if it did not) and,
        with ``objectives``, ``mean_<cost>``/``std_<cost>`` for each cost measure.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    n_batches_ : int
        Number of ``evaluate_candidates`` calls.
    stop_reason_ : str
        Why the search stopped: "n_iter", "max_time", "patience", "callback",
        "exhausted" (every candidate of a finite space was evaluated) or "stalled" (the
        strategy proposed no new candidate for 10 batches in a row).
    n_resources_, n_candidates_ : list of int
        With ``resource`` only: the budget of each rung, and how many candidates were
        evaluated at it (as in ``HalvingRandomSearchCV``). ``cv_results_`` then has a row
        per candidate and budget, with ``iter`` (the rung), ``n_resources``, ``bracket``
        (the rung its batch started at) and ``resources_trained`` (units trained for
        that row, over its folds: fewer than the budget when a model continued).
    n_replayed_fits_ : int
        Fits answered from the ``checkpoint`` journal instead of being run.
    pareto_front_ : Bunch
        With ``objectives`` only: ``index``, the rows of ``cv_results_`` on the Pareto
        front (sorted by the first objective), and ``table``, a dict of their
        ``params`` and objective values (``pandas.DataFrame(search.pareto_front_.table)``).

    See Also
    --------
    AnnealingSearchCV : Simulated annealing over the same space.
    BayesianSearchCV : Bayesian optimisation over the same space.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skautosearch import GeneticSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GeneticSearchCV(
    ...     SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf", "linear"]},
    ...     n_iter=8, population_size=4, cv=3, random_state=0,
    ... ).fit(X, y)
    >>> len(search.cv_results_["params"])
    8
    >>> sorted(set(search.cv_results_["generation"].tolist()))
    [0, 1, 2]
    """

    _parameter_constraints: dict = {
        **BaseSequentialSearchCV._parameter_constraints,
        "population_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "crossover_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "mutation_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "mutation_scale": [Interval(numbers.Real, 0, None, closed="neither")],
        "tournament_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "elitism": [Interval(numbers.Integral, 0, None, closed="left")],
        "screening": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_iter=30,
        population_size=10,
        crossover_probability=0.8,
        mutation_probability=0.5,
        mutation_scale=0.1,
        tournament_size=3,
        elitism=2,
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
        self.population_size = population_size
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.mutation_scale = mutation_scale
        self.tournament_size = tournament_size
        self.elitism = elitism
        self.screening = screening

    # Operator settings the search-efficiency benchmark chose (benchmarks/RESULTS.md:
    # with screening, a blend crossover and all-numeric-gene mutation reached the grid's
    # best in more seeds on three tasks of five but in 3/10 seeds instead of 7/10 on the
    # integer-heavy forest, so they are not the default).
    _blend = 0.0  # BLX-alpha of the crossover's numeric genes (0: swap only)
    _numeric_mutation = "some"  # "all": every numeric gene of a child moves; "some": each
    # Which scores a budgeted search's parents are selected by: "population", the
    # population's, each at the highest rung its candidate reached; or "entry", as DEHB
    # selects within a budget (Awad et al., 2021), the best candidates at the rung the
    # children start at (see _parents). benchmarks/bench_budget_model.py --switch
    # genetic_parents: "entry" helped on one task of three, so it is off (RESULTS.md).
    _parent_rung = "population"

    def _check_strategy_params(self):
        several_objectives = self.objectives is not None and len(self.objectives) > 1
        if self.elitism >= self.population_size and not several_objectives:
            raise ValueError(
                f"elitism={self.elitism} must be smaller than "
                f"population_size={self.population_size}: no room left for children."
            )

    def _search(self, ev, rng):
        if len(ev.objectives) > 1:
            return self._search_pareto(ev, rng)
        population = ev.space.sample(self.population_size, rng)
        scores = ev.evaluate(population, {"generation": [0] * len(population)})
        screen = Screen(ev.space)
        generation = 0
        while not ev.done:
            generation += 1
            n_children = ev.batch_size(self.population_size - self.elitism)
            parents, parent_scores = self._parents(ev, population, scores)
            children = self._breed(ev, parents, parent_scores, rng,
                                   n_children * self.screening)
            children = screen.pick(ev.model_scores, children, n_children)
            child_scores = ev.evaluate(children, {"generation": [generation] * len(children)})
            # The previous generation's deferred top rung ran beside the children: read
            # the population's scores again.
            population, scores = self._next_population(ev, population,
                                                       ev.scores_of(population), children,
                                                       child_scores)

    def _search_pareto(self, ev, rng):
        """NSGA-II (Deb et al., 2002): parents and children compete for the next population.

        Selection ranks by non-dominated front, then by crowding distance within a
        front, so the population spreads along the front; ``elitism`` is implicit.
        """
        population = ev.space.sample(self.population_size, rng)
        ev.evaluate(population, {"generation": [0] * len(population)})
        generation = 0
        while not ev.done:
            generation += 1
            ranked = ev.nsga_order(population)
            population = ranked
            # Tournaments compare positions in that order: lower is better.
            fitness = -np.arange(len(ranked), dtype=float)
            children = self._breed(ev, ranked, fitness, rng,
                                   ev.batch_size(self.population_size))
            ev.evaluate(children, {"generation": [generation] * len(children)})
            population = ev.nsga_order(population + children)[: self.population_size]

    def _next_population(self, ev, population, scores, children, child_scores):
        """The next population: the elites, the old population's best, the children.

        A full generation (``population_size - elitism`` children) replaces everyone but
        the elites. A budgeted search's batches that start at a higher rung have fewer
        children (Hyperband's shares, :meth:`Evaluator.batch_size`): the old
        population's best then keep their places, a steady-state step. A child that is
        already one of the elites takes one place, not two: its place goes to the old
        population's best.
        """
        elites = self._elites(ev)
        newcomers = [i for i, child in enumerate(children) if child not in elites]
        n_kept = self.population_size - len(elites) - len(newcomers)
        kept = [i for i in _best_first(scores) if population[i] not in elites][: max(n_kept, 0)]
        return (elites + [population[i] for i in kept] + [children[i] for i in newcomers],
                np.concatenate([[ev.scores[g] for g in elites], scores[kept],
                                child_scores[newcomers]]))

    def _parents(self, ev, population, scores):
        """Who the next children are bred from, with the fitness selection compares.

        The population and its scores, unless the search is budgeted and
        :attr:`_parent_rung` is ``"entry"``: then, as DEHB selects within a budget, the
        candidates trained to the rung this batch's children start at, best first by
        their scores there, padded with the population's best to ``population_size``
        (DEHB pads a small sub-population from its global one); the fitness is their
        rank in that order.
        """
        if ev.schedule is None or self._parent_rung != "entry":
            return population, scores
        at_rung = ev.scores_at(ev.schedule.entry_rung(ev.n_batches))
        pool = list(at_rung)
        ranked = [pool[i] for i in _best_first(np.array(list(at_rung.values())))]
        padding = [population[i] for i in _best_first(scores) if population[i] not in at_rung]
        parents = (ranked + padding)[: self.population_size]
        return parents, -np.arange(len(parents), dtype=float)

    def _elites(self, ev):
        ranked = sorted(ev.scores, key=ev.scores.get, reverse=True)
        return ranked[: self.elitism]

    def _breed(self, ev, population, scores, rng, n_children):
        scores = _fitness(scores)
        children = []
        while len(children) < n_children:
            first = population[_tournament(population, scores, self.tournament_size, rng)]
            second = population[_tournament(population, scores, self.tournament_size, rng)]
            if rng.random() < self.crossover_probability:
                first, second = ev.space.crossover(first, second, rng, blend=self._blend)
            for child in (first, second)[: n_children - len(children)]:
                children.append(self._novel(ev, child, children, rng))
        return children

    def _novel(self, ev, child, siblings, rng):
        """Mutate ``child`` until it is new to the search, else a random immigrant."""
        for _ in range(_NOVELTY_TRIES):
            child = ev.space.mutate(
                child, rng, probability=self.mutation_probability, scale=self.mutation_scale,
                numeric=self._numeric_mutation,
            )
            if child not in ev.scores and child not in siblings:
                return child
        return ev.space.sample(1, rng)[0]
