"""Forecasts for users: the packed forecaster, the forecast command, station exports and
backtests on them."""
