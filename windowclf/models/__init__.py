"""The public models (WindowTagger, Ensemble), fine-tuning reports, and model files."""
