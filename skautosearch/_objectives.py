"""Several objectives: each candidate's objective vector, the front, and one score to guide.

A search with ``objectives`` keeps, for each genome, a vector of objective values to
*minimise* (``sign * value``), the Pareto front of everything seen so far, and the
score a single-objective strategy climbs: with one objective, that objective itself;
with several, an augmented Chebyshev scalarisation (ParEGO) of rank-normalised
objectives.
"""

import numpy as np
from sklearn.utils import Bunch

from .costs import COST_MEASURES
from .pareto import crowding_distance, non_dominated_sort, pareto_front


def mean_score(outs, metric):
    """The mean test score of one candidate, as ``cv_results_`` will have it; -inf if failed.

    ``metric`` picks one score of a multimetric search (None: the first by name).
    """
    scores = []
    for out in outs:
        score = out["test_scores"]
        if isinstance(score, dict):
            score = score.get(metric if metric is not None else min(score), np.nan)
        scores.append(float(score))
    mean = float(np.average(scores))
    return mean if np.isfinite(mean) else -np.inf


class Objectives:
    """Objective vectors, the Pareto front so far, and the scores that guide a strategy.

    Parameters
    ----------
    objectives : list of (name, sign)
        From :func:`skautosearch.pareto.parse_objectives`; ``sign * value`` is minimised.
    weights : dict or None
        The user's ``objective_weights``; None draws Dirichlet weights for each batch.
    weights_seed : int or None
        Seed of those draws.
    """

    def __init__(self, objectives, weights=None, weights_seed=None):
        self.objectives = objectives
        self.weights = weights
        self.F = {}  # genome -> objective vector to minimise
        self.front = []  # genomes on the Pareto front so far
        self.front_grew = False
        self._weights_rng = np.random.default_rng(weights_seed) if weights is None else None

    def record(self, genomes, outs):
        """Store the batch's objective vectors; return every genome's guiding score.

        A genome recorded before (a budgeted candidate whose deferred top rung has
        run) gets its new vector, and the front is recomputed from every genome.
        """
        seen = any(genome in self.F for genome in genomes)
        for genome, candidate_outs in zip(genomes, outs):
            vector = []
            for name, sign in self.objectives:
                if name in COST_MEASURES:
                    value = np.mean([out["costs"][name] for out in candidate_outs])
                else:
                    value = mean_score(candidate_outs, name)
                vector.append(sign * value if np.isfinite(value) else np.nan)
            self.F[genome] = np.array(vector, dtype=float)
        # The front of everything seen is the front of the old front and the batch.
        candidates = (list(self.F) if seen
                      else self.front + [g for g in genomes if g not in self.front])
        kept = pareto_front(np.array([self.F[g] for g in candidates]))
        self.front = [candidates[i] for i in kept]
        self.front_grew = any(g in genomes for g in self.front)
        if len(self.objectives) == 1:
            return {g: -f[0] if np.isfinite(f[0]) else -np.inf for g, f in self.F.items()}
        return self._scalarised(list(self.F))

    def _scalarised(self, genomes):
        """Augmented Chebyshev scalarisation (ParEGO) of the objectives, to maximise.

        Each objective is normalised to [0, 1] by its rank among the finite candidates,
        so that no unit (bytes, seconds, accuracy) dominates; the weights are the
        user's ``objective_weights`` or drawn afresh for each batch.
        """
        F = np.array([self.F[g] for g in genomes])
        ok = np.isfinite(F).all(axis=1)
        scores = np.full(len(genomes), -np.inf)
        if ok.sum() == 0:
            return dict(zip(genomes, scores))
        ranks = np.argsort(np.argsort(F[ok], axis=0, kind="stable"), axis=0, kind="stable")
        normalised = ranks / max(ok.sum() - 1, 1)
        if self._weights_rng is not None:
            weights = self._weights_rng.dirichlet(np.ones(len(self.objectives)))
        else:
            weights = np.array([self.weights[name] for name, _ in self.objectives], dtype=float)
            weights = weights / weights.sum()
        weighted = normalised * weights
        scores[ok] = -(weighted.max(axis=1) + 0.05 * weighted.sum(axis=1))
        return dict(zip(genomes, scores))

    def nsga_order(self, genomes):
        """``genomes`` best first by NSGA-II: non-dominated rank, then crowding distance.

        Genomes not evaluated (the budget ran out) come last.
        """
        inf = np.full(len(self.objectives), np.inf)
        F = np.array([self.F.get(g, inf) for g in genomes])
        order = []
        for front in non_dominated_sort(F):
            crowding = crowding_distance(F[front])
            order.extend(front[np.argsort(-crowding, kind="stable")])
        return [genomes[i] for i in order]

    def pareto_front(self, rows, params):
        """``pareto_front_``: the front's rows of ``cv_results_`` and a table of them.

        ``rows`` maps a genome to its row of ``cv_results_``; ``params`` is
        ``cv_results_["params"]``.
        """
        front = np.array([rows[g] for g in self.front], dtype=int)
        F = np.array([self.F[g] for g in self.front]).reshape(len(front), -1)
        order = np.lexsort(F.T[::-1])
        front, F = front[order], F[order]
        table = {"params": [params[i] for i in front]}
        for j, (name, sign) in enumerate(self.objectives):
            table[name] = sign * F[:, j]
        return Bunch(index=front, table=table)
