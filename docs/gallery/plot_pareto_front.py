"""
Accuracy against model size: a Pareto front
===========================================

With several ``objectives`` a search looks for the models that no other model beats
on every objective at once: the Pareto front. Here a PCA + logistic regression
pipeline on the digits, where more components mean more accuracy and a bigger model.
"""

# %%
# NSGA-II over the number of components and the regularisation
# -------------------------------------------------------------
# ``n_params`` counts the numbers in each fold's fitted model; it is recorded as
# ``mean_n_params`` next to the scores. ``refit="knee"`` refits the front's knee.
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from skautosearch import GeneticSearchCV, Integer, Real
from skautosearch.plot import plot_pareto

X, y = load_digits(return_X_y=True)
X = X / 16.0
pipeline = Pipeline([("pca", PCA()), ("clf", LogisticRegression(max_iter=300))])
search = GeneticSearchCV(
    pipeline,
    {"pca__n_components": Integer(2, 64), "clf__C": Real(1e-3, 1e2, prior="log-uniform")},
    n_iter=40, population_size=8, cv=StratifiedKFold(3, shuffle=True, random_state=0),
    objectives={"accuracy": "max", "n_params": "min"}, refit="knee", random_state=0,
).fit(X, y)

# %%
# The front as a table
# --------------------
# ``pareto_front_.index`` are its rows of ``cv_results_``; ``pareto_front_.table``
# their parameters and objective values.
front = pd.DataFrame(search.pareto_front_.table)
print(front.round(4).to_string())
print("refitted:", search.best_params_)

# %%
# The front drawn
# ---------------
# Grey points are dominated candidates; the star is the knee that was refitted.
ax = plot_pareto(search, x="n_params")
