import pickle

import numpy as np
import pytest

from skautosearch.pareto import (
    crowding_distance,
    knee_point,
    non_dominated_sort,
    objective_matrix,
    pareto_front,
    parse_objectives,
    smallest_within_one_se,
)

NAN, INF = np.nan, np.inf


def _brute_force_front(F):
    def dominates(a, b):
        return np.all(a <= b) and np.any(a < b)

    return [i for i in range(len(F))
            if np.isfinite(F[i]).all()
            and not any(dominates(F[j], F[i]) for j in range(len(F))
                        if np.isfinite(F[j]).all())]


def _fronts(F):
    return [front.tolist() for front in non_dominated_sort(F)]


# --------------------------------------------------------------------------- sorting


def test_sort_peels_fronts_in_order():
    F = [[1, 5], [2, 3], [4, 1],   # front 0
         [2, 6], [3, 4], [5, 2],   # front 1: each dominated by one of front 0
         [6, 6]]                   # front 2
    assert _fronts(F) == [[0, 1, 2], [3, 4, 5], [6]]


def test_equal_points_share_a_front_and_a_weak_improvement_dominates():
    F = [[1, 1], [1, 1], [1, 2], [2, 1], [0, 3]]
    # [1, 2] is no worse than [1, 1] on x and worse on y: dominated
    assert _fronts(F) == [[0, 1, 4], [2, 3]]


def test_failed_rows_go_last_in_a_front_of_their_own():
    F = [[NAN, 0], [3, 3], [1, 1], [INF, 0], [0, -INF]]
    assert _fronts(F) == [[2], [1], [0, 3, 4]]
    assert pareto_front(F).tolist() == [2]
    assert _fronts([[NAN, 1], [1, NAN]]) == [[0, 1]]
    assert pareto_front([[NAN, 1], [1, NAN]]).tolist() == []


def test_sort_covers_every_row_once_for_three_objectives():
    F = np.random.default_rng(0).random((200, 3))
    fronts = non_dominated_sort(F)
    assert sorted(np.concatenate(fronts).tolist()) == list(range(200))
    # nothing in a later front dominates anything in an earlier one
    for earlier, later in zip(fronts, fronts[1:]):
        assert not any(np.all(F[j] <= F[i]) and np.any(F[j] < F[i])
                       for i in earlier for j in later)
        # and every point of a later front is dominated by one of the front before
        assert all(any(np.all(F[i] <= F[j]) and np.any(F[i] < F[j]) for i in earlier)
                   for j in later)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("m", [2, 3])
def test_pareto_front_matches_brute_force(seed, m):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 61))
    # few distinct values: many ties and duplicates
    F = rng.integers(0, 6, size=(n, m)).astype(float)
    F[rng.random(n) < 0.1, rng.integers(m)] = NAN
    assert pareto_front(F).tolist() == _brute_force_front(F)


def test_sort_rejects_a_vector():
    with pytest.raises(ValueError, match="2-D"):
        non_dominated_sort([1.0, 2.0])


# --------------------------------------------------------------------------- crowding, knee


def test_crowding_distance_known_case():
    F = [[4, 0], [0, 5], [2, 1], [1, 2]]  # rows in no particular order
    # x spans 4, y spans 5; [1, 2] lies between x=0..2 and y=1..5
    expected = [INF, INF, (4 - 1) / 4 + (2 - 0) / 5, (2 - 0) / 4 + (5 - 1) / 5]
    np.testing.assert_allclose(crowding_distance(F), expected)


def test_crowding_distance_small_and_flat_fronts():
    assert crowding_distance([[1, 2], [2, 1]]).tolist() == [INF, INF]
    # a constant objective adds nothing; the other still spreads the points
    np.testing.assert_allclose(crowding_distance([[0, 1], [1, 1], [3, 1]]),
                               [INF, 1.0, INF])


def test_knee_is_the_front_point_nearest_the_ideal_after_scaling():
    # convex front from (0, 10) to (10, 0); (3, 3) scales to (0.3, 0.3)
    F = [[0, 10], [1, 6], [3, 3], [6, 1], [10, 0], [4, 4], [NAN, 0]]
    assert knee_point(F) == 2
    # scaling matters: stretch y by 100 and the knee stays
    F_scaled = np.array(F) * [1, 100]
    assert knee_point(F_scaled) == 2


def test_knee_of_one_and_two_point_fronts():
    assert knee_point([[1, 1], [2, 2]]) == 0
    # two points tie at distance 1: the one better on the first objective
    assert knee_point([[5, 0], [0, 5], [6, 6]]) == 1
    with pytest.raises(ValueError, match="no Pareto front"):
        knee_point([[NAN, 1]])


# --------------------------------------------------------------------------- objectives


def test_parse_objectives_signs_and_order():
    assert parse_objectives({"size_bytes": "min", "accuracy": "max"}) == [
        ("size_bytes", 1.0), ("accuracy", -1.0)]
    assert parse_objectives({"accuracy": "max"}) == [("accuracy", -1.0)]


@pytest.mark.parametrize("objectives, error, message", [
    ({"accuracy": "max", "size_bytes": "minimize"}, ValueError,
     r"objectives\['size_bytes'\] must be 'max' or 'min', got 'minimize'"),
    ({"accuracy": "MAX"}, ValueError, r"objectives\['accuracy'\] must be"),
    ({"accuracy": None}, ValueError, r"got None"),
    ({}, ValueError, "empty"),
    ([("accuracy", "max")], TypeError, "must be a dict.*got list"),
    ({1: "max"}, TypeError, "keys must be str"),
])
def test_parse_objectives_errors(objectives, error, message):
    with pytest.raises(error, match=message):
        parse_objectives(objectives)


def _cv_results():
    return {
        "params": [{"C": c} for c in (0.1, 1, 10, 100)],
        "mean_test_score": np.array([0.80, 0.90, 0.93, 0.92]),
        "std_test_score": np.array([0.02, 0.02, 0.04, 0.01]),
        "split0_test_score": np.zeros(4), "split1_test_score": np.zeros(4),
        "split2_test_score": np.zeros(4), "split3_test_score": np.zeros(4),
        "mean_n_params": np.array([10.0, 50.0, 400.0, 90.0]),
        "std_n_params": np.zeros(4),
        "mean_size_bytes": np.array([1e3, 2e3, 9e3, 3e3]),
        "mean_fit_time": np.array([0.1, 0.2, 0.3, 0.4]),
    }


def test_objective_matrix_reads_scores_and_costs_as_minimisation():
    results = _cv_results()
    F = objective_matrix(results, {"accuracy": "max", "size_bytes": "min",
                                   "fit_time": "min"})
    np.testing.assert_array_equal(F[:, 0], -results["mean_test_score"])
    np.testing.assert_array_equal(F[:, 1], results["mean_size_bytes"])
    np.testing.assert_array_equal(F[:, 2], results["mean_fit_time"])
    np.testing.assert_array_equal(
        objective_matrix(results, {"score": "max", "n_params": "min"})[:, 0],
        -results["mean_test_score"])
    assert pareto_front(F[:, :2]).tolist() == [0, 1, 2, 3]
    assert pareto_front(objective_matrix(results, {"score": "max", "n_params": "min"})
                        ).tolist() == [0, 1, 2, 3]


def test_objective_matrix_prefers_multi_metric_columns():
    results = {"mean_test_accuracy": [0.5, 0.6], "mean_test_f1": [0.4, 0.7],
               "mean_latency": [1.0, 2.0]}
    F = objective_matrix(results, {"f1": "max", "latency": "min"})
    np.testing.assert_array_equal(F, [[-0.4, 1.0], [-0.7, 2.0]])


def test_objective_matrix_missing_columns_name_what_there_is():
    results = _cv_results()
    with pytest.raises(ValueError, match=r"objective 'latency'.*'mean_latency'.*"
                                         r"Available: \['mean_fit_time', "):
        objective_matrix(results, {"accuracy": "max", "latency": "min"})
    # with the search's scoring known, a misspelt scorer is not taken as it
    with pytest.raises(ValueError, match="objective 'acuracy'"):
        objective_matrix(results, {"acuracy": "max", "n_params": "min"},
                         scoring="accuracy")
    objective_matrix(results, {"accuracy": "max", "n_params": "min"}, scoring="accuracy")
    with pytest.raises(ValueError, match=r"\['accuracy', 'score'\] all read"):
        objective_matrix(results, {"accuracy": "max", "score": "max"})


# --------------------------------------------------------------------------- one SE


def test_one_se_takes_the_smallest_within_one_standard_error():
    results = _cv_results()
    # best 0.93, std 0.04 over 4 splits: SE 0.02, threshold 0.91 -> rows 2 and 3
    assert smallest_within_one_se()(results) == 3
    assert smallest_within_one_se(size="size_bytes")(results) == 3
    # one split: SE = std = 0.04, threshold 0.89, and row 1 (50 params) is in
    one_split = {k: v for k, v in results.items() if not k.startswith("split")}
    one_split["split0_test_score"] = np.zeros(4)
    assert smallest_within_one_se()(one_split) == 1
    results["mean_test_score"][3] = 0.90
    assert smallest_within_one_se()(results) == 2


def test_one_se_ties_go_to_the_higher_score_and_nan_sizes_last():
    results = {
        "mean_test_f1": np.array([0.90, 0.95, 0.94, NAN, 0.945]),
        "std_test_f1": np.array([0.0, 0.1, 0.0, 0.0, 0.0]),
        "split0_test_f1": np.zeros(5), "split1_test_f1": np.zeros(5),
        "mean_n_params": np.array([1.0, 20.0, 5.0, 1.0, 5.0]),
    }
    # SE 0.1 / sqrt(2): every finite score qualifies; 1 param wins
    assert smallest_within_one_se(score="f1")(results) == 0
    results["std_test_f1"][1] = 0.02  # threshold 0.936: rows 1, 2, 4
    assert smallest_within_one_se(score="f1")(results) == 4  # 5 params, higher score
    results["mean_n_params"][[2, 4]] = NAN
    assert smallest_within_one_se(score="f1")(results) == 1


def test_one_se_errors_and_pickles():
    refit = smallest_within_one_se(score="score", size="latency")
    assert repr(refit) == "smallest_within_one_se(score='score', size='latency')"
    assert pickle.loads(pickle.dumps(refit))(_cv_results() | {
        "mean_latency": np.array([4.0, 3.0, 2.0, 1.0])}) == 3
    with pytest.raises(ValueError, match=r"no 'mean_latency'.*available"):
        refit(_cv_results())
    results = _cv_results()
    results["mean_test_score"][:] = NAN
    with pytest.raises(ValueError, match="mean_test_score is nan"):
        smallest_within_one_se()(results)
    results = {k: v for k, v in _cv_results().items() if not k.startswith("split")}
    with pytest.raises(ValueError, match="count the CV splits"):
        smallest_within_one_se()(results)
    with pytest.raises(TypeError, match="size must be a str"):
        smallest_within_one_se(size=None)


def test_docstring_examples_run():
    import doctest

    from skautosearch import pareto

    failures, tried = doctest.testmod(pareto)
    assert tried > 0 and failures == 0
