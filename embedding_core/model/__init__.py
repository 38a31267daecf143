"""The model and its training: FM layer, DeepFM, features, training, the run and its tables."""
