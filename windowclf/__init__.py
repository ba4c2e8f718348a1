"""windowclf: window-based word classifiers with hand-derived gradients."""

__version__ = "0.1.0"
