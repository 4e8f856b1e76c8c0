"""Two revisions compared, model by model, with the seed's noise and the windows' in the interval:
the ``python -m jena_forecast.compare`` command. No pipeline stage imports this package."""
