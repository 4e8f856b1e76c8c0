"""Small synthetic CSVs in the exact format of the official Jena climate file."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from jena_forecast.data.windows import WindowSpec, window_anchors

HEADER = [
    "Date Time",
    "p (mbar)",
    "T (degC)",
    "Tpot (K)",
    "Tdew (degC)",
    "rh (%)",
    "VPmax (mbar)",
    "VPact (mbar)",
    "VPdef (mbar)",
    "sh (g/kg)",
    "H2OC (mmol/mol)",
    "rho (g/m**3)",
    "wv (m/s)",
    "max. wv (m/s)",
    "wd (deg)",
]
# The station's newer exports: seven more measurements, units outside ASCII.
NEWER_HEADER = [
    *HEADER,
    "rain (mm)",
    "raining (s)",
    "SWDR (W/m\u00b2)",
    "PAR (\u00b5mol/m\u00b2/s)",
    "max. PAR (\u00b5mol/m\u00b2/s)",
    "Tlog (degC)",
    "CO2 (ppm)",
]
NEWER_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
START = datetime(2009, 1, 1, 0, 10)
STEP = timedelta(minutes=10)
TIMESTAMP_FORMAT = "%d.%m.%Y %H:%M:%S"


@dataclass
class SyntheticJena:
    """A regular 10-minute record with optional defects, like the real file's.

    ``temperature`` is a daily sine (amplitude 5 degC around 10 degC) plus seeded noise, so tests can
    compute expected values independently. Defects: ``duplicate_block`` = (start row, length) repeated
    right after the block (the time steps back), ``drop_rows`` = rows left out (gaps),
    ``sentinel_cells`` = (row, column name) set to -9999.
    """

    rows: int = 1000
    seed: int = 0
    noise_degc: float = 0.3
    duplicate_block: tuple[int, int] | None = None
    drop_rows: list[int] = field(default_factory=list)
    sentinel_cells: list[tuple[int, str]] = field(default_factory=list)

    def timestamps(self) -> list[datetime]:
        return [START + i * STEP for i in range(self.rows)]

    def values(self) -> np.ndarray:
        """The clean (rows, 14) measurement matrix, rounded to two decimals as in the real file."""
        rng = np.random.default_rng(self.seed)
        t = np.arange(self.rows)
        temperature = (
            10.0 + 5.0 * np.sin(2 * np.pi * t / 144.0) + rng.normal(0, self.noise_degc, self.rows)
        )
        pressure = 990.0 + 5.0 * np.sin(2 * np.pi * t / 1000.0) + rng.normal(0, 0.5, self.rows)
        columns = [
            pressure,
            temperature,
            temperature + 273.15 + (1000 - pressure) * 0.08,
            temperature - 3.0 + rng.normal(0, 0.2, self.rows),
            70.0 + 10.0 * np.cos(2 * np.pi * t / 144.0),
            12.0 + temperature * 0.3,
            9.0 + temperature * 0.2,
            3.0 + temperature * 0.1,
            6.0 + temperature * 0.12,
            9.5 + temperature * 0.2,
            1250.0 - temperature * 4.0,
            np.abs(rng.normal(2.0, 1.0, self.rows)),
            np.abs(rng.normal(3.5, 1.5, self.rows)),
            rng.uniform(0, 360, self.rows),
        ]
        return np.round(np.stack(columns, axis=1), 2)

    header: list[str] = field(default_factory=lambda: list(HEADER))
    timestamp_format: str = TIMESTAMP_FORMAT

    def lines(self) -> list[str]:
        """Data lines in file order, defects applied."""
        values = self.values()
        column_index = {name: i - 1 for i, name in enumerate(self.header)}
        for row, column in self.sentinel_cells:
            values[row, column_index[column]] = -9999.0
        lines = [
            ",".join([stamp.strftime(self.timestamp_format)] + [f"{v:.2f}" for v in values[i]])
            for i, stamp in enumerate(self.timestamps())
        ]
        order = [i for i in range(self.rows) if i not in set(self.drop_rows)]
        if self.duplicate_block is not None:
            start, length = self.duplicate_block
            cut = order.index(start + length - 1) + 1
            order = order[:cut] + list(range(start, start + length)) + order[cut:]
        return [lines[i] for i in order]

    def write_csv(self, path: Path) -> Path:
        header = ",".join(f'"{name}"' for name in self.header)
        path.write_text("\n".join([header, *self.lines()]) + "\n", encoding="utf-8", newline="")
        return path

    def write_zip(self, path: Path, member: str = "jena_climate_2009_2016.csv") -> Path:
        csv_path = self.write_csv(path.with_suffix(".csv"))
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(csv_path, arcname=member)
        csv_path.unlink()
        return path


@dataclass
class SyntheticJenaNewer(SyntheticJena):
    """The shape of the station's newer exports: ISO timestamps, 21 measurements, CRLF line ends.

    The header's unit symbols (``²``, ``µ``) are UTF-8, or with ``latin1_units`` raw Latin-1 bytes
    (invalid UTF-8, as some exports have them); ``mangled_unit`` writes U+FFFD in place of one.
    """

    header: list[str] = field(default_factory=lambda: list(NEWER_HEADER))
    timestamp_format: str = NEWER_TIMESTAMP_FORMAT
    latin1_units: bool = False
    mangled_unit: bool = False

    def values(self) -> np.ndarray:
        base = super().values()
        rng = np.random.default_rng(self.seed + 1)
        t = np.arange(self.rows)
        daylight = np.clip(np.sin(2 * np.pi * (t - 36) / 144.0), 0.0, None)
        extra = [
            np.where(rng.uniform(size=self.rows) < 0.05, 0.2, 0.0),
            np.where(rng.uniform(size=self.rows) < 0.05, 600.0, 0.0),
            600.0 * daylight,
            1200.0 * daylight,
            1300.0 * daylight,
            base[:, 1] + 0.4,
            410.0 + rng.normal(0, 3.0, self.rows),
        ]
        return np.round(np.concatenate([base, np.stack(extra, axis=1)], axis=1), 2)

    def header_line(self) -> bytes:
        names = list(self.header)
        if self.mangled_unit:
            names[names.index("SWDR (W/m\u00b2)")] = "SWDR (W/m\ufffd)"
        line = ",".join(f'"{name}"' for name in names)
        return line.encode("latin-1" if self.latin1_units else "utf-8")

    def write_csv(self, path: Path) -> Path:
        body = "\r\n".join(self.lines()).encode("ascii")
        path.write_bytes(self.header_line() + b"\r\n" + body + b"\r\n")
        return path


def tiny_training_inputs(
    window: WindowSpec, rows: int = 500, train_rows: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A SyntheticJena array standardized on its first ``train_rows`` rows, with train/val anchors."""
    values = SyntheticJena(rows=rows).values()
    head = values[:train_rows]
    data = ((values - head.mean(0)) / head.std(0)).astype(np.float32)
    valid = np.ones(len(data), dtype=bool)
    return (
        data,
        window_anchors(valid, 0, train_rows, window),
        window_anchors(valid, train_rows, rows, window),
    )
