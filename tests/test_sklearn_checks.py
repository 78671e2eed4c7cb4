"""scikit-learn's own estimator checks on the three searches, with tiny settings."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV, Real

TINY = dict(n_iter=2, cv=2, random_state=0)


def _instances():
    return [
        GeneticSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, population_size=2,
                        elitism=1, **TINY),
        AnnealingSearchCV(Ridge(), {"alpha": Real(0.1, 10.0, prior="log-uniform")},
                          n_chains=2, **TINY),
        BayesianSearchCV(LogisticRegression(), {"C": Real(0.1, 1.0)}, n_points=2,
                         n_initial_points=2, **TINY),
    ]


def _expected_failed_checks(estimator):
    """Each expected failure with its reason."""
    if isinstance(estimator.estimator, Ridge):
        return {
            "check_supervised_y_2d": (
                "BaseSearchCV does not forward the estimator's multi_output tag, so the "
                "check expects a DataConversionWarning Ridge never raises; "
                "GridSearchCV(Ridge()) fails it the same way."
            )
        }
    return {}


@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
