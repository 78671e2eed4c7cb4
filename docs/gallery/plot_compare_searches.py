"""
Five searches, one space, one budget
====================================

What ``skautosearch compare`` does, in code (the command uses
a bigger grid): tune an RBF support vector machine on the digits with
``GridSearchCV``, ``RandomizedSearchCV`` and our three searches, and compare how
many fits each needs to reach the grid's best cross-validated score.
"""

# %%
# One space for everyone
# ----------------------
# ``C`` and ``gamma`` are scale parameters, so their priors are log-uniform. The
# grid spans the same ranges geometrically; the other searches draw 8 candidates
# each from the distributions.
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV
from skautosearch.plot import plot_convergence
from skautosearch.results import convergence

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = make_pipeline(StandardScaler(), SVC())
space = {"svc__C": loguniform(1e-2, 1e3), "svc__gamma": loguniform(1e-5, 1.0)}
grid = {"svc__C": np.geomspace(1e-2, 1e3, 4), "svc__gamma": np.geomspace(1e-5, 1, 4)}
cv = StratifiedKFold(3, shuffle=True, random_state=0)  # the same folds for all

searches = {
    "GridSearchCV": GridSearchCV(model, grid, cv=cv),
    "RandomizedSearchCV": RandomizedSearchCV(model, space, n_iter=8, cv=cv,
                                             random_state=0),
    "GeneticSearchCV": GeneticSearchCV(model, space, n_iter=8, population_size=4,
                                       cv=cv, random_state=0),
    "AnnealingSearchCV": AnnealingSearchCV(model, space, n_iter=8, cv=cv,
                                           random_state=0),
    "BayesianSearchCV": BayesianSearchCV(model, space, n_iter=8, cv=cv,
                                         random_state=0),
}
for search in searches.values():
    search.fit(X_train, y_train)

# %%
# The table
# ---------
# ``fits`` is candidates x folds; "to grid best" is the number of fits after which
# the best-so-far score first reached the grid's best.
grid_best = searches["GridSearchCV"].best_score_
print(f"{'search':<20}{'best CV':>9}{'test':>8}{'fits':>6}{'to grid best':>14}")
for name, search in searches.items():
    n_fits, best = convergence(search)
    reached = n_fits[best >= grid_best - 1e-9]
    print(f"{name:<20}{search.best_score_:>9.4f}"
          f"{search.score(X_test, y_test):>8.4f}{n_fits[-1]:>6}"
          f"{(str(reached[0]) if reached.size else 'not reached'):>14}")

# %%
# Convergence
# -----------
# Each line is a search's best score so far; the dashed line is the grid's best.
plot_convergence(searches, reference=grid_best, reference_label="GridSearchCV best")
plt.show()
