"""What a strategy sees: genomes in, scores out, with memory, a budget and stopping rules.

A strategy's ``_search(ev, rng)`` proposes batches of genomes (see
:mod:`skautosearch.space`) to :meth:`Evaluator.evaluate`. Genomes seen before are
answered from memory and never refitted; new ones, up to ``n_iter`` distinct, are
decoded and fitted as one batch by :class:`skautosearch._trials.Trials`. After each
batch the stopping rules decide whether ``ev.done``.
"""

from dataclasses import dataclass

import joblib
import numpy as np

from ._budget import Step, promoted
from ._objectives import mean_score


@dataclass(frozen=True)
class _RungJob:
    """The candidates of one batch at one rung, with their ``cv_results_`` columns."""

    genomes: list
    keys: list  # the ModelStore keys of their fold models
    rung: int
    columns: dict
    continued: bool  # their models of the rung below are in the store


class Evaluator:
    """Memory, budget and stopping around the fits of each batch.

    Parameters
    ----------
    space : SearchSpace
        The search space; ``space.decode(genome)`` gives a candidate's parameters.
    trials : Trials
        Runs and records the fits.
    stopping : Stopping
        The stopping rules.
    n_iter : int
        Distinct candidates to evaluate at most.
    metric : str or None
        The scorer the strategy maximises (None: the only one).
    objectives : Objectives or None
        With several objectives, what guides the strategy instead of ``metric``.
    schedule : Schedule or None
        A budgeted search's rungs (see :mod:`skautosearch._budget`).
    store : ModelStore or None
        Where a budgeted search keeps fold models between rungs.
    """

    def __init__(self, space, trials, stopping, n_iter, metric=None, objectives=None,
                 schedule=None, store=None):
        self.space = space
        self.trials = trials
        self.stopping = stopping
        self.n_iter = n_iter
        self.metric = metric
        self._objectives = objectives
        self.schedule = schedule
        self.store = store
        self.scores = {}  # genome -> the score that guides the strategy
        self.rung_scores = {}  # genome -> {rung: score}, in a budgeted search
        self.genomes = []  # evaluated genomes, in the order of cv_results_ rows
        self.n_batches = 0
        self.best = -np.inf
        self._pending = None  # a batch's top rung, run with the next batch's first

    @property
    def objectives(self):
        """The ``(name, sign)`` objectives; empty for a single-metric search."""
        return [] if self._objectives is None else self._objectives.objectives

    # What a budgeted search's model of the space learns from: "reached", each
    # candidate's score at the highest rung it reached; or "highest", BOHB's rule (see
    # model_scores). benchmarks/bench_budget_model.py chose "reached": "highest" helped
    # no strategy on all three tasks (benchmarks/RESULTS.md).
    model_rung = "reached"

    @property
    def model_scores(self):
        """The scores a strategy's model of the space learns from (its surrogate, its screen).

        :attr:`scores`, unless the search is budgeted with one objective and
        :attr:`model_rung` is ``"highest"``: then, as BOHB does (Falkner et al., 2018),
        the scores at the highest rung that more candidates reached than the space has
        parameters, so that the model compares candidates trained alike. Before any rung
        has that many, :attr:`scores`.

        The models rank scores (a Gaussian copula), and scores rise with the budget, so
        :attr:`scores` already rank the candidates as successive halving did: those it
        promoted above those it stopped, the promoted ones by their larger budgets' scores.
        BOHB's rule drops the higher rungs until enough candidates reach them.
        """
        if self.schedule is None or self._objectives is not None or self.model_rung != "highest":
            return self.scores
        min_points = max(len(params) for params in self.space.subspaces) + 1
        for rung in reversed(range(len(self.schedule.rungs))):
            at_rung = self.scores_at(rung)
            if sum(np.isfinite(s) for s in at_rung.values()) >= min_points:
                return at_rung
        return self.scores

    def scores_at(self, rung):
        """The scores at ``rung`` of the candidates trained to it, in a budgeted search."""
        return {g: r[rung] for g, r in self.rung_scores.items() if rung in r}

    # Whether a budgeted batch's top rung waits to run beside the next batch's first rung
    # (see _successive_halving). benchmarks/bench_budget_parallel.py measures it.
    defer_top_rung = True

    # Whether a batch that starts at a higher rung has fewer candidates, as in Hyperband
    # ("hyperband", see batch_size), or the strategy's full batch in every bracket
    # ("equal"). benchmarks/bench_budget_model.py --switch bracket_sizes measures it.
    bracket_sizes = "hyperband"

    def batch_size(self, n):
        """How many new candidates the next batch should have; ``n`` is the strategy's
        full batch (its population's children, ``n_chains``, ``n_points``).

        ``n`` without budgets; in a budgeted search, the share of the next batch's
        Hyperband bracket (:meth:`skautosearch._budget.Schedule.batch_size`): fewer for
        a batch that starts at a higher rung, so that every bracket costs about the
        same.
        """
        if self.schedule is None or self.bracket_sizes == "equal":
            return n
        return self.schedule.batch_size(self.n_batches, n)

    @property
    def remaining(self):
        return self.n_iter - len(self.scores)

    @property
    def done(self):
        return self.stopping.reason is not None

    def nsga_order(self, genomes):
        """``genomes`` best first by non-dominated rank, then crowding distance."""
        return self._objectives.nsga_order(genomes)

    def evaluate(self, genomes, more_results):
        """Scores of ``genomes`` (``-inf`` for failures), fitting only the new ones.

        ``more_results`` maps column names to one value per genome. Genomes beyond the
        budget are not evaluated and get ``nan``.
        """
        # Genomes differing only in inactive parameters are one candidate.
        genomes = [self.space.canonical(genome) for genome in genomes]
        new = []
        for i, genome in enumerate(genomes):
            if genome not in self.scores and all(genomes[j] != genome for j in new):
                new.append(i)
        new = new[: max(self.remaining, 0)]
        improved = False
        if new:
            improved = self._run_batch(new, genomes, more_results)
        results = self.trials.results() if new and self.stopping.callbacks else None
        self.stopping.after_batch(len(self.scores), bool(new), improved, results)
        return self.scores_of(genomes)

    def scores_of(self, genomes):
        """The guiding scores in memory of ``genomes`` (``nan`` for those never evaluated).

        In a budgeted search a batch's deferred top rung runs during the next batch, so
        the scores :meth:`evaluate` returned for its candidates (those of the rung below)
        go stale then: a strategy that keeps scores from batch to batch reads them here
        again.
        """
        return np.array([self.scores.get(self.space.canonical(g), np.nan) for g in genomes])

    def _run_batch(self, rows, genomes, more_results):
        """Fit the genomes at ``rows``; return whether the search improved."""
        batch = [genomes[i] for i in rows]
        more = {key: [values[i] for i in rows] for key, values in more_results.items()}
        more["batch"] = [self.n_batches] * len(batch)
        self._front_grew = False  # with objectives: whether this batch widened the front
        if self.schedule is None:
            outs = self.trials.run([self.space.decode(g) for g in batch], more)
            self.genomes.extend(batch)
        else:
            outs = self._successive_halving(batch, more)
        self.n_batches += 1
        self._record_scores(batch, outs)
        if self._objectives is not None:
            # Scalarised scores move with the weights: progress is a wider front.
            return self._front_grew
        best = max(self.scores.values(), default=-np.inf)
        improved, self.best = best > self.best, max(best, self.best)
        return improved

    def _successive_halving(self, batch, more):
        """Run ``batch`` up the rungs, promoting the best ``1 / factor`` at each.

        Returns each genome's outputs at the highest rung it reached so far.

        The top rung's fits are the longest and the fewest (one candidate's folds, say),
        so run alone they would leave workers idle. With :attr:`defer_top_rung`, a
        batch's top rung therefore waits and runs in one dispatch with the next batch's
        first rung (or in :meth:`finish`); its candidates' scores are those of the rung
        below until then, and become the top rung's when it has run. What runs together
        depends only on the schedule, never on ``n_jobs``, so results do not either.
        """
        schedule, rungs = self.schedule, self.schedule.rungs
        entry = schedule.entry_rung(self.n_batches)
        keys = [joblib.hash(genome) for genome in batch]
        alive, top, continued = list(range(len(batch))), [None] * len(batch), False
        try:
            for rung in range(entry, len(rungs)):
                columns = {key: [values[i] for i in alive] for key, values in more.items()}
                columns.update(iter=[rung] * len(alive), n_resources=[rungs[rung]] * len(alive),
                               bracket=[entry] * len(alive))
                job = _RungJob([batch[i] for i in alive], [keys[i] for i in alive], rung,
                               columns, continued)
                last = rung == len(rungs) - 1
                if last and rung > entry and self.defer_top_rung:
                    self._pending, alive = job, []  # its models stay for it
                    break
                outs = self._run_rungs(job)
                for i, candidate_outs in zip(alive, outs):
                    top[i] = candidate_outs
                if last:
                    break  # nothing to promote to; the models go in ``finally``
                scores = [mean_score(o, self.metric) for o in outs]
                kept = set(promoted(scores, schedule.n_promoted(len(alive))))
                for j, i in enumerate(alive):
                    if j not in kept:
                        self.store.discard(keys[i])  # eliminated: its models go
                alive = [i for j, i in enumerate(alive) if j in kept]
                continued = True
                if not alive:  # every one failed: none to promote
                    break
        finally:
            for i in alive:
                self.store.discard(keys[i])
        return top

    def _run_rungs(self, job=None):
        """Fit ``job``'s rung, in one dispatch with the deferred top rung if one waits.

        Returns ``job``'s outputs; the deferred candidates' scores are updated to
        their top rung's.
        """
        jobs = [j for j in (self._pending, job) if j is not None]
        pending, self._pending = self._pending, None
        rungs = self.schedule.rungs
        params, columns, steps = [], {}, []
        for j in jobs:
            budget, last = rungs[j.rung], j.rung == len(rungs) - 1
            params += [self._at_budget(self.space.decode(g), budget) for g in j.genomes]
            steps += [Step(self.schedule.resource, budget, key, self.store, j.continued,
                           keep=not last) for key in j.keys]
            for key, values in j.columns.items():
                columns.setdefault(key, []).extend(values)
        outs = self.trials.run(params, columns, steps)
        job_outs, start = [], 0
        for j in jobs:
            job_outs.append(outs[start : start + len(j.genomes)])
            start += len(j.genomes)
            self.genomes.extend(j.genomes)
            for genome, candidate_outs in zip(j.genomes, job_outs[-1]):
                self.rung_scores.setdefault(genome, {})[j.rung] = mean_score(candidate_outs,
                                                                            self.metric)
        if pending is not None:
            for key in pending.keys:
                self.store.discard(key)  # the top rung: nothing to promote to
            self._record_scores(pending.genomes, job_outs[0])
        return job_outs[-1] if job is not None else []

    def _record_scores(self, genomes, outs):
        """Set the guiding scores of ``genomes`` from their outputs."""
        self.scores.update(zip(genomes, (mean_score(o, self.metric) for o in outs)))
        if self._objectives is not None:
            self.scores.update(self._objectives.record(genomes, outs))
            self._front_grew = self._front_grew or self._objectives.front_grew

    def finish(self):
        """Run the deferred top rung, if one waits; called when the strategy is done.

        The stopping rules have had their say; the callbacks (the progress bar among
        them) see the final results.
        """
        if self._pending is None:
            return
        self._run_rungs()
        if self.stopping.callbacks:
            self.stopping.after_finish(self.trials.results())

    def _at_budget(self, params, budget):
        if self.schedule.resource == "n_samples":
            return params
        return {**params, self.schedule.resource: budget}

    def pareto_front(self, results):
        """``pareto_front_`` of the search, as rows of ``results`` (its ``cv_results_``)."""
        rows = {genome: i for i, genome in enumerate(self.genomes)}
        return self._objectives.pareto_front(rows, results["params"])
