"""
Reading a search's results
==========================

Turn ``cv_results_`` into a DataFrame with :func:`skautosearch.results.to_dataframe`
and see where the good candidates are with
:func:`skautosearch.plot.plot_parameters`.
"""

# %%
# A Bayesian search over three parameters
# ---------------------------------------
import matplotlib.pyplot as plt
from scipy.stats import loguniform
from sklearn.datasets import load_wine
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skautosearch import BayesianSearchCV
from skautosearch.plot import plot_parameters
from skautosearch.results import to_dataframe

X, y = load_wine(return_X_y=True)
search = BayesianSearchCV(
    make_pipeline(StandardScaler(), SVC()),
    {"svc__C": loguniform(1e-3, 1e3), "svc__gamma": loguniform(1e-4, 1e1),
     "svc__kernel": ["rbf", "sigmoid"]},
    n_iter=16, n_points=4, cv=3, random_state=0,
).fit(X, y)

# %%
# The results as a DataFrame
# --------------------------
# One row per candidate in evaluation order; ``batch`` and ``iteration`` come
# first, ``n_fits`` and ``best_so_far`` last.
df = to_dataframe(search)
columns = ["iteration", "param_svc__C", "param_svc__gamma", "param_svc__kernel",
           "mean_test_score", "best_so_far"]
print(df[columns].round(4).to_string())

# %%
# The five best, and the mean score of each kernel:
print(to_dataframe(search, sort_by="rank")[columns].head().round(4).to_string())
print(df.groupby("param_svc__kernel")["mean_test_score"].agg(["count", "mean", "max"]))

# %%
# Score against each parameter
# ----------------------------
# Log axes for the log-uniform ``C`` and ``gamma``; colour is evaluation order
# (dark first), the red ring the best candidate. Where the light (late) points
# fall is where the search spent the end of its budget. The row of equal scores
# at the bottom is the majority-class accuracy: models that learnt nothing.
plot_parameters(search)
plt.show()
