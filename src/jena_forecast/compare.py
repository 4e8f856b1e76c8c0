"""``python -m jena_forecast.compare A B``: two revisions' forecasts, paired (see
``jena_forecast.comparison.revisions``)."""

from jena_forecast.comparison.revisions import main

if __name__ == "__main__":
    raise SystemExit(main())
