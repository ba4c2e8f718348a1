"""Tagging with a trained model: scoring, decoding, prediction, evaluation."""
