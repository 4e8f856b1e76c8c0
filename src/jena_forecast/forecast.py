"""``python -m jena_forecast.forecast --csv latest.csv``: the 24 h forecast after a station export's
last row (see ``jena_forecast.serving.forecast``)."""

from jena_forecast.serving.forecast import main

if __name__ == "__main__":
    raise SystemExit(main())
