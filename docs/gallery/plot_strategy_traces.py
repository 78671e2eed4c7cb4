"""
Inside the genetic and annealing searches
=========================================

:func:`skautosearch.plot.plot_generations` shows a genetic search's population
improving generation by generation; :func:`skautosearch.plot.plot_annealing`
shows annealing chains exploring while the temperature is high and settling as
it falls.
"""

# %%
import matplotlib.pyplot as plt
from scipy.stats import loguniform, randint
from sklearn.datasets import load_breast_cancer
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skautosearch import AnnealingSearchCV, GeneticSearchCV
from skautosearch.plot import plot_annealing, plot_generations

X, y = load_breast_cancer(return_X_y=True)

# %%
# Genetic search: fitness by generation
# -------------------------------------
# A population of six over a k-nearest-neighbours model, 30 candidates in all.
# The grey dots are individuals, in the generation that first evaluated them;
# the lines the best, mean and worst of those. The two elites carried into each
# generation are not refitted, so a generation's best can dip while the best so
# far (dashed) holds.
genetic = GeneticSearchCV(
    make_pipeline(StandardScaler(), KNeighborsClassifier()),
    {"kneighborsclassifier__n_neighbors": randint(1, 60),
     "kneighborsclassifier__weights": ["uniform", "distance"],
     "kneighborsclassifier__p": [1, 2]},
    n_iter=30, population_size=6, cv=3, random_state=0,
).fit(X, y)
plot_generations(genetic)
plt.show()

# %%
# Annealing: score and temperature by step
# ----------------------------------------
# Three chains over an SVM's ``C`` and ``gamma``, started from the best points of
# an initial sample (grey, step 0). A chain accepts a worse neighbour with a
# probability that shrinks with the temperature.
annealing = AnnealingSearchCV(
    make_pipeline(StandardScaler(), SVC()),
    {"svc__C": loguniform(1e-2, 1e3), "svc__gamma": loguniform(1e-5, 1.0)},
    n_iter=30, n_chains=3, cv=3, random_state=0,
).fit(X, y)
plot_annealing(annealing)
plt.show()
print(f"best {annealing.best_score_:.4f} with {annealing.best_params_}; "
      f"stopped because: {annealing.stop_reason_}")
