"""Which windows a score belongs to: the split, the window geometry and the engineered features,
as every metrics file records them."""

from __future__ import annotations

from jena_forecast.data.features import FeaturesConfig
from jena_forecast.data.normalize import SplitConfig
from jena_forecast.data.windows import WindowsConfig
from jena_forecast.plumbing.params import Sections


class ProtocolConfig(Sections):
    """``windows``, ``split`` and ``features``: what a score's windows are."""

    windows: WindowsConfig
    split: SplitConfig
    features: FeaturesConfig

    def protocol(self) -> str:
        """The split and the window geometry, e.g. ``dlwp2 lookback=1440 step=6 delay=144``."""
        windows = self.windows
        return (
            f"{self.split.describe()} lookback={windows.lookback_rows} "
            f"step={windows.step_rows} delay={windows.delay_rows}"
        )

    def data_record(self, data: str) -> dict[str, str]:
        """What every metrics file says about the data behind its numbers: the split and window
        geometry, the feature switches, and ``data`` (``forecasts.data_fingerprint``)."""
        return {"protocol": self.protocol(), "features": self.features.describe(), "data": data}
