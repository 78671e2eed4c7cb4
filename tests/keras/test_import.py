"""``import skautosearch`` stays TensorFlow-free; ``skautosearch.keras`` imports it."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.keras


def _imports_tensorflow(module):
    code = f"import sys, {module}; print('tensorflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1] == "True"


def test_only_the_keras_subpackage_imports_tensorflow():
    pytest.importorskip("tensorflow")
    assert not _imports_tensorflow("skautosearch")
    assert _imports_tensorflow("skautosearch.keras")
