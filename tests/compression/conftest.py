import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:400] / 16).astype("float32"), y[:400]
