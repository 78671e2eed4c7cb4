"""The command's shared helpers: what it prints while a search fits."""

import warnings

from sklearn.utils.parallel import Parallel, delayed

from skautosearch.cli._common import fit_with_progress


def _warn_like_a_fit():
    warnings.warn("numpy copy keyword", DeprecationWarning, stacklevel=2)
    warnings.warn("pending change", PendingDeprecationWarning, stacklevel=2)
    warnings.warn("did not converge", UserWarning, stacklevel=2)


class _WarningSearch:
    """Stands in for a search whose fits run in joblib workers and warn there.

    scikit-learn's ``Parallel`` (the searches') gives the workers this process's
    warning filters.
    """

    progress = None

    def __init__(self, n_jobs):
        self.n_jobs = n_jobs

    def fit(self, X, y):
        Parallel(n_jobs=self.n_jobs)(delayed(_warn_like_a_fit)() for _ in range(4))
        return self


def test_deprecation_warnings_of_the_fits_are_not_printed(capfd):
    for n_jobs in (1, 2):  # in this process, and in workers that print their own
        fit_with_progress("search", _WarningSearch(n_jobs), None, None, 4,
                          show_progress=False)
        err = capfd.readouterr().err
        assert "DeprecationWarning" not in err and "numpy copy keyword" not in err
        assert "pending change" not in err
        assert "did not converge" in err  # the user's warnings still reach them
