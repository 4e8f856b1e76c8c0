"""Forecast the Jena air temperature 24 hours ahead and compare models against the naive baseline."""

__version__ = "0.1.0"
