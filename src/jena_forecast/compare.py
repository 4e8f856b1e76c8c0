"""``python -m jena_forecast.compare A B``: two revisions' forecasts, paired (see
``jena_forecast.evaluation.compare``)."""

from jena_forecast.evaluation.compare import main

if __name__ == "__main__":
    raise SystemExit(main())
