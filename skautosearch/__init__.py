"""skautosearch: model search and compression for scikit-learn and Keras."""
__version__ = "0.1.0.dev0"
