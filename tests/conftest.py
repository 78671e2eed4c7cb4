import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    # The tests fit tiny models, where BLAS/OpenMP thread start-up and spinning cost
    # more than they save (4x slower here on 2 busy cores), and pytest-xdist already
    # runs one process per core.
    with threadpool_limits(limits=1):
        yield
