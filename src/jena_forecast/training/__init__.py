"""Fitting models on the windows: batches, compilation, callbacks."""
