"""Training a model: objectives, the epoch loop, setting a new model up, resume, weight snapshots."""
