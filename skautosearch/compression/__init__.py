"""Compression of Keras-backed scikit-learn estimators.

Magnitude and structured pruning, quantization (down to binary weights),
serving through the LiteRT int8 runtime and knowledge distillation, each a
scikit-learn meta-estimator that works as the last step of a Pipeline and
under the searches. This subpackage imports Keras; the rest
of ``skautosearch`` does not.
"""

from ._base import load_model
from .distillation import Distillation
from .pruning import MagnitudePruning
from .quantization import (
    Quantization,
    QuantizedConv1D,
    QuantizedConv2D,
    QuantizedConv3D,
    QuantizedDense,
    quantize_model,
)
from .runtime import LiteRTModel, LiteRTQuantization
from .structured import StructuredPruning

__all__ = [
    "Distillation",
    "LiteRTModel",
    "LiteRTQuantization",
    "MagnitudePruning",
    "Quantization",
    "QuantizedConv1D",
    "QuantizedConv2D",
    "QuantizedConv3D",
    "QuantizedDense",
    "StructuredPruning",
    "load_model",
    "quantize_model",
]
