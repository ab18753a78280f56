"""Shared code of the MNIST digit trainer and predictor."""
