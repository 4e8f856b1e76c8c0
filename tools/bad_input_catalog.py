"""Feed the pipeline every kind of bad input it knows and print what a user sees, as Markdown.

Each case writes small synthetic files and a ``params.yaml`` into a fresh temporary directory and
runs the real stage entry points of ``stages/`` there (in this process, as ``python -m stages.X``
would), capturing what they print and their exit code. A case whose outcome differs from the one it
declares, or that names a test function that does not exist, stops the script with an error::

    python tools/bad_input_catalog.py > docs/bad_input.md

Ports of the local test servers are written as ``PORT``; everything else is printed verbatim.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import http.server
import io
import json
import os
import re
import runpy
import socket
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "tests")]

from dvc_project import shrink_recipes, stage_command  # noqa: E402
from synthetic import HEADER, SyntheticJena, SyntheticJenaNewer  # noqa: E402

RAW_CSV = Path("data/raw/jena_climate_2009_2016.csv")
MEMBER = "jena_climate_2009_2016.csv"
MIRROR = Path("mirror.zip")
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed member dates: the same zip bytes, so the same sha256
REFUSED, REPAIRED, ACCEPTED = "refused", "repaired", "accepted"


@dataclass
class Run:
    """What one stage run printed, and its exit code."""

    stage: str
    code: int
    stdout: str
    stderr: str


@dataclass
class Case:
    """One bad input: how to make it, the outcome it must have and the tests that cover it."""

    group: str
    what: str
    make: Callable[[], Run]
    outcome: str
    tests: list[str]
    detail: Callable[[], str] | None = None  # for accepted or repaired input: what changed
    note: str = ""


# ----------------------------------------------------------------------------------------------
# Building blocks: params, files, servers, stage runs


def base_params() -> dict[str, Any]:
    """The project's params with a local mirror, no pinned checksum and windows that fit tiny files."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["download"].update(
        source="mirror", mirror=str(MIRROR), sha256=None, retries=1, timeout_seconds=2
    )
    params["windows"].update(lookback_rows=72, step_rows=6, delay_rows=12)
    for entry in params["models"].values():
        if "horizons" in entry:
            entry["horizons"] = 4  # must divide windows.delay_rows
    shrink_recipes(params)
    for entry in params["classical"].values():  # hourly window features that fit 12 hours
        entry.update(lag_hours=6, recent_hours=6)
    return params


def write_params(**changes: Any) -> None:
    """Write params.yaml: the base params with dotted keys changed (``"train.epochs": 0``)."""
    params = base_params()
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = params
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def header_line(names: list[str] = HEADER) -> str:
    return ",".join(f'"{name}"' for name in names)


def csv_text(lines: list[str], names: list[str] = HEADER) -> str:
    return header_line(names) + "\n" + "\n".join(lines) + "\n"


def lines(rows: int = 30) -> list[str]:
    return SyntheticJena(rows=rows).lines()


def write_raw(text: str | bytes) -> None:
    RAW_CSV.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    RAW_CSV.write_bytes(text)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:  # zlib-free bytes
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), data)
    return buffer.getvalue()


def good_zip(rows: int = 50) -> bytes:
    return zip_bytes({MEMBER: csv_text(lines(rows)).encode()})


def files_here() -> set[Path]:
    return {path for path in Path(".").rglob("*") if path.is_file()}


def run_stage(stage: str, *args: str, item: dict[str, str] | None = None) -> Run:
    """Run ``stage`` here, as DVC would (its ``dvc.yaml`` command line), capturing its output and
    exit code. A stage that refuses its input must leave no file behind; one that does stops the
    catalog. ``item`` fills a ``foreach`` over mappings (``${item.name}``).
    """
    module, *arguments = stage_command(ROOT / "dvc.yaml", stage, *args, item=item)[2:]
    return run_module(stage, module, arguments)


def run_module(name: str, module: str, arguments: list[str]) -> Run:
    """Run ``python -m module arguments`` in this process, capturing its output and exit code."""
    before = files_here()
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = [module, *arguments]
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        sys.argv = argv
    left = sorted(str(path) for path in files_here() - before)
    if code and left:
        raise SystemExit(f"{name} refused its input but left files behind: {left}")
    return Run(name, code, stdout.getvalue(), stderr.getvalue())


def run_until(*stages: str) -> Run:
    """Run ``stages`` in order; each but the last must succeed. Returns the last run."""
    for stage in stages[:-1]:
        done = run_stage(stage)
        if done.code:
            raise RuntimeError(f"{stage} failed before the case was reached: {done.stderr}")
    return run_stage(stages[-1])


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve the current directory with ``handler`` on 127.0.0.1; yield the base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=os.getcwd())
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class AlwaysUnavailable(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_error(503)


class RedirectToHttp(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(302)
        self.send_header("Location", "http://example.org/jena.zip")
        self.end_headers()


class FailsOnce(QuietHandler):
    failures_left = 1

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if FailsOnce.failures_left:
            FailsOnce.failures_left -= 1
            self.send_error(503)
            return
        super().do_GET()


def download_from(handler: type[http.server.BaseHTTPRequestHandler], path: str) -> Run:
    with http_server(handler) as base:
        write_params(
            **{"download.source": "url", "download.mirror": None, "download.url": f"{base}/{path}"}
        )
        return run_stage("download")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_json(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def quality(*keys: str) -> Callable[[], str]:
    """A detail: the named fields of metrics/data_quality.json."""

    def detail() -> str:
        report = read_json("metrics/data_quality.json")
        return "metrics/data_quality.json: " + ", ".join(f"{key}={report[key]}" for key in keys)

    return detail


# ----------------------------------------------------------------------------------------------
# The cases


def mirror(data: bytes, **params: Any) -> Callable[[], Run]:
    def make() -> Run:
        MIRROR.write_bytes(data)
        write_params(**params)
        return run_stage("download")

    return make


def unreachable() -> Run:
    write_params(
        **{
            "download.source": "url",
            "download.mirror": None,
            "download.url": f"http://127.0.0.1:{free_port()}/j.zip",
        }
    )
    return run_stage("download")


def never_answers() -> Run:
    with socket.socket() as silent:  # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jena.zip"
        write_params(
            **{
                "download.source": "url",
                "download.mirror": None,
                "download.url": url,
                "download.timeout_seconds": 0.5,
            }
        )
        return run_stage("download")


def served(name: str, data: bytes, handler: type[http.server.BaseHTTPRequestHandler]) -> Run:
    Path(name).write_bytes(data)
    return download_from(handler, name)


def fails_once() -> Run:
    FailsOnce.failures_left = 1
    return served("jena.zip", good_zip(), FailsOnce)


def truncated_zip() -> bytes:
    data = good_zip()
    return data[: len(data) // 2]


def corrupt_member_zip() -> bytes:
    data = bytearray(good_zip(400))
    data[200:260] = bytes(60)  # inside the member's data; the directory at the end survives
    return bytes(data)


HTML_PAGE = b"<!DOCTYPE html><html><head><title>Quota exceeded</title></head><body></body></html>"


def hostile_zip() -> bytes:
    return zip_bytes(
        {
            MEMBER: csv_text(lines(50)).encode(),
            "../escaped.txt": b"x",
            "/tmp/absolute.txt": b"x",
            "README.txt": b"x",
        }
    )


def ignored_members() -> str:
    record = read_json("metrics/download.json")
    escaped = [p for p in ("../escaped.txt", "/tmp/absolute.txt") if Path(p).exists()]
    return (
        f"metrics/download.json: ignored_members={record['ignored_members']}; "
        f"written: {sorted(str(p) for p in RAW_CSV.parent.iterdir())}; escaped: {escaped}"
    )


def parse(text: str | bytes, **params: Any) -> Callable[[], Run]:
    def make() -> Run:
        write_raw(text)
        write_params(**params)
        return run_stage("parse")

    return make


def replace_cell(rows: list[str], row: int, column: int, value: str) -> list[str]:
    cells = rows[row].split(",")
    cells[column] = value
    return [*rows[:row], ",".join(cells), *rows[row + 1 :]]


def without_column(name: str) -> str:
    keep = [i for i, header in enumerate(HEADER) if header != name]
    rows = [",".join(line.split(",")[i] for i in keep) for line in lines()]
    return csv_text(rows, [HEADER[i] for i in keep])


def with_column(name: str, value: str) -> str:
    return csv_text([f"{line},{value}" for line in lines()], [*HEADER, name])


def swapped(rows: list[str], first: int) -> list[str]:
    rows = list(rows)
    rows[first], rows[first + 1] = rows[first + 1], rows[first]
    return rows


def columns_of_table() -> str:
    report = read_json("metrics/data_quality.json")
    return f"metrics/data_quality.json: {len(report['columns'])} columns, last {report['columns'][-1]!r}"


def pipeline_until(stage: str, rows: int = 600, **params: Any) -> Callable[[], Run]:
    """Download, parse, normalize, ... up to ``stage``, on a clean synthetic file."""
    order = ["download", "parse", "features", "normalize", "windows", "baseline"]

    def make() -> Run:
        MIRROR.write_bytes(good_zip(rows))
        write_params(**params)
        return run_until(*order[: order.index(stage) + 1])

    return make


def long_gap_windows() -> str:
    summary = read_json("data/windows/windows.json")
    report = read_json("metrics/data_quality.json")
    return (
        f"metrics/data_quality.json: rows_still_missing={report['rows_still_missing']}; "
        f"data/windows/windows.json: windows={summary['windows']} (no window touches the gap)"
    )


def long_gap() -> Run:
    source = SyntheticJena(rows=600, drop_rows=list(range(100, 110)))
    MIRROR.write_bytes(zip_bytes({MEMBER: csv_text(source.lines()).encode()}))
    write_params()
    return run_until("download", "parse", "features", "normalize", "windows")


def params(stage: str, *args: str, **changes: Any) -> Callable[[], Run]:
    def make() -> Run:
        write_params(**changes)
        return run_stage(stage, *args)

    return make


def failing_write(error_number: int) -> Callable[[], Run]:
    """Run parse with every write into data/interim/ failing with ``error_number`` (simulated)."""

    def make() -> Run:
        import jena_forecast.plumbing.atomic as atomic

        write_raw(csv_text(lines()))
        write_params()
        real_mkstemp = tempfile.mkstemp

        def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
            if Path(kwargs.get("dir", ".")).name == "interim":
                raise OSError(error_number, os.strerror(error_number))
            return real_mkstemp(*args, **kwargs)

        atomic.tempfile.mkstemp = mkstemp  # type: ignore[attr-defined]
        try:
            return run_stage("parse")
        finally:
            atomic.tempfile.mkstemp = real_mkstemp  # type: ignore[attr-defined]

    return make


def output_dir_is_a_file() -> Run:
    write_raw(csv_text(lines()))
    write_params()
    Path("data/interim").write_text("a file where a directory should be")
    return run_stage("parse")


def conflicting_duplicate() -> str:
    rows = lines()
    return csv_text([*rows, rows[5].rsplit(",", 1)[0] + ",999.00"])


def identical_duplicates() -> str:
    rows = lines()
    return csv_text([*rows[:10], *rows[5:10], *rows[10:]])


T_DEGC = HEADER.index("T (degC)")
WD = HEADER.index("wd (deg)")
LATIN1_UNITS = SyntheticJenaNewer(rows=30, latin1_units=True)


def latin1_file() -> bytes:
    """A newer export whose header's unit symbols are Latin-1 bytes (as SyntheticJenaNewer writes)."""
    body = "\r\n".join(LATIN1_UNITS.lines()).encode("ascii")
    return LATIN1_UNITS.header_line() + b"\r\n" + body + b"\r\n"


FORECASTER = Path("forecaster")
EXPORT = Path("latest.csv")


def forecast(source: SyntheticJena | Callable[[Path], Path], *options: str) -> Callable[[], Run]:
    """Pack a tiny forecaster here, write the export and run the forecast command on it, with
    ``--output forecast.json`` (which must not appear when the export is refused)."""
    from tiny_forecaster import make_forecaster

    from jena_forecast.serving.forecaster import save_forecaster

    def make() -> Run:
        save_forecaster(make_forecaster(Path("source")), FORECASTER)
        if isinstance(source, SyntheticJena):
            source.write_csv(EXPORT)
        else:
            source(EXPORT)
        arguments = ["--csv", str(EXPORT), "--forecaster", str(FORECASTER), *options]
        if "--output" not in options:
            arguments += ["--output", "forecast.json"]
        return run_module("forecast", "jena_forecast.forecast", arguments)

    return make


def empty_last_temperatures(path: Path) -> Path:
    """A 200-row export whose last 8 temperatures are empty: beyond ``max_fill_rows``, at the end."""
    from tiny_forecaster import empty_last_temperatures as empty

    return empty(SyntheticJena(rows=200).write_csv(path))


def export_without(column: str) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        names = [name for name in HEADER if name != column]
        drop = HEADER.index(column)
        rows = [
            ",".join(cell for index, cell in enumerate(line.split(",")) if index != drop)
            for line in SyntheticJena(rows=200).lines()
        ]
        path.write_text(csv_text(rows, names))
        return path

    return write


def fahrenheit_like(path: Path) -> Path:
    """A 200-row export whose last 3 temperatures are 120 (a Fahrenheit export read as Celsius)."""
    from test_forecast import set_last_temperatures

    return set_last_temperatures(SyntheticJena(rows=200).write_csv(path), 120.0)


def weather_csv(path: Path) -> Path:
    """The shared "weather.csv" form: a `date` timestamp column with ISO times."""
    SyntheticJenaNewer(rows=200).write_csv(path)
    path.write_bytes(path.read_bytes().replace(b'"Date Time"', b'"date"', 1))
    return path


def forecast_warnings() -> str:
    return f"forecast.json: warnings={read_json('forecast.json')['warnings']}"


def export_ignored_columns() -> str:
    report = read_json("forecast.json")
    return f"forecast.json: ignored_columns={report['ignored_columns']}"


def backtest(
    rows: int, pinned: bool = False, hot: bool = False, **export: Any
) -> Callable[[], Run]:
    """The data stages on a clean file, then backtest@piece on a ``rows``-row export (``hot``: its
    last 3 temperatures 120, as a Fahrenheit export read as Celsius)."""

    def make() -> Run:
        MIRROR.write_bytes(good_zip(600))
        path = Path("data/backtest/piece.csv")
        entry = {"path": str(path), **export}
        if pinned:
            entry["sha256"] = "0" * 64
        write_params(**{"backtest.exports": {"piece": entry}})
        if "://" not in entry["path"]:  # a URL is refused with the params, before any stage
            run_until("download", "parse", "features", "normalize", "windows")
        path.parent.mkdir(parents=True, exist_ok=True)
        SyntheticJena(rows=rows).write_csv(path)
        if hot:
            from test_forecast import set_last_temperatures

            set_last_temperatures(path, 120.0)
        return run_stage("backtest", "piece", item={"path": str(entry["path"])})

    return make


def cases() -> list[Case]:
    rows = lines()
    return [
        # Download
        Case("download", "URL unreachable (connection refused), `download.retries: 1`", unreachable, REFUSED,
             ["test_download.py::test_unreachable_url_fails_after_bounded_retries"]),
        Case("download", "server accepts the connection but never answers, `download.timeout_seconds: 0.5`", never_answers, REFUSED,
             ["test_download.py::test_a_server_that_never_answers_times_out"]),
        Case("download", "server answers HTTP 503 on every attempt", lambda: served("jena.zip", b"", AlwaysUnavailable), REFUSED,
             ["test_download.py::test_a_server_error_is_retried"]),
        Case("download", "server answers HTTP 503 once, then the file", fails_once, ACCEPTED,
             ["test_download.py::test_a_server_error_is_retried"], note="retried after 1 s"),
        Case("download", "URL answers HTTP 404", lambda: download_from(QuietHandler, "absent.zip"), REFUSED,
             ["test_download.py::test_http_error_page_is_refused"]),
        Case("download", "URL redirects to plain `http://`", lambda: download_from(RedirectToHttp, "jena.zip"), REFUSED,
             ["test_download.py::test_a_redirect_to_plain_http_is_refused_before_connecting"]),
        Case("download", "`download.url` is `http://` (not loopback) or `ftp://`", params("download", **{"download.url": "http://example.org/jena.zip"}), REFUSED,
             ["test_config.py::test_download_url_must_be_https_or_local"]),
        Case("download", "`download.mirror` names a file that does not exist", params("download", **{"download.mirror": "absent.zip"}), REFUSED,
             ["test_download.py::test_truncated_empty_and_memberless_zips"]),
        Case("download", "empty file (0 bytes)", mirror(b""), REFUSED,
             ["test_download.py::test_truncated_empty_and_memberless_zips", "test_download.py::test_an_empty_or_wrong_download_is_refused_before_it_is_read"]),
        Case("download", "truncated zip (first half of the file)", mirror(truncated_zip()), REFUSED,
             ["test_download.py::test_truncated_empty_and_memberless_zips"]),
        Case("download", "zip whose member data is corrupt (directory intact)", mirror(corrupt_member_zip()), REFUSED,
             ["test_download.py::test_a_zip_with_a_corrupt_member_leaves_nothing"]),
        Case("download", "HTML error page saved as the zip (mirror)", mirror(HTML_PAGE), REFUSED,
             ["test_download.py::test_a_mirror_that_is_an_html_page_is_refused"]),
        Case("download", "HTML error page served with HTTP 200", lambda: served("jena.zip", HTML_PAGE, QuietHandler), REFUSED,
             ["test_download.py::test_http_error_page_is_refused"]),
        Case("download", "wrong sha256 (`download.sha256` pinned, file differs)", mirror(good_zip(), **{"download.sha256": "0" * 64}), REFUSED,
             ["test_download.py::test_checksum_mismatch_is_an_error_and_leaves_nothing", "test_download.py::test_an_empty_or_wrong_download_is_refused_before_it_is_read"]),
        Case("download", "`download.sha256` not 64 hex digits", params("download", **{"download.sha256": "abc"}), REFUSED,
             ["test_config.py::test_every_problem_is_reported_at_once"]),
        Case("download", "zip without the `download.member` CSV", mirror(zip_bytes({"other.csv": b"x"})), REFUSED,
             ["test_download.py::test_truncated_empty_and_memberless_zips"]),
        Case("download", "zip with extra members, `../` (path traversal) and absolute member names", mirror(hostile_zip()), ACCEPTED,
             ["test_download.py::test_hostile_members_are_never_extracted"], detail=ignored_members,
             note="only the `download.member` CSV is extracted; the others are listed, never written"),
        # CSV
        Case("CSV", "empty file (0 bytes, or only blank lines)", parse(""), REFUSED,
             ["test_parse.py::test_empty_header_only_and_missing_timestamp_column", "test_parse.py::test_whitespace_only_file_is_empty"]),
        Case("CSV", "header only", parse(header_line() + "\n"), REFUSED,
             ["test_parse.py::test_empty_header_only_and_missing_timestamp_column"]),
        Case("CSV", "timestamp column renamed or missing", parse(csv_text(rows, ["When", *HEADER[1:]])), REFUSED,
             ["test_parse.py::test_empty_header_only_and_missing_timestamp_column"]),
        Case("CSV", "target column (`windows.target_column`) renamed or missing", parse(csv_text(rows, [h.replace("T (degC)", "T (C)") for h in HEADER])), REFUSED,
             ["test_parse.py::test_target_column_must_be_in_the_header_and_extra_columns_are_kept", "test_pipeline_e2e.py::test_a_newer_export_runs_through_params_alone"]),
        Case("CSV", "another measurement column missing (`wd (deg)`)", parse(without_column("wd (deg)")), ACCEPTED,
             ["test_parse.py::test_a_missing_measurement_column_leaves_one_feature_fewer"], detail=columns_of_table,
             note="columns come from the header: the models get one input feature fewer"),
        Case("CSV", "extra column", parse(with_column("extra (1)", "1.50")), ACCEPTED,
             ["test_parse.py::test_target_column_must_be_in_the_header_and_extra_columns_are_kept"], detail=columns_of_table,
             note="kept as one more input feature"),
        Case("CSV", "non-numeric cell", parse(csv_text(replace_cell(rows, 3, T_DEGC, "x12"))), REFUSED,
             ["test_parse.py::test_bad_rows_are_refused_with_file_and_line"]),
        Case("CSV", "infinite cell (`inf`)", parse(csv_text(replace_cell(rows, 4, WD, "inf"))), REFUSED,
             ["test_parse.py::test_decimal_commas_and_non_finite_numbers_are_refused"]),
        Case("CSV", "row with more fields than the header", parse(csv_text([*rows[:6], rows[6] + ",1.00", *rows[7:]])), REFUSED,
             ["test_parse.py::test_bad_rows_are_refused_with_file_and_line"]),
        Case("CSV", "decimal comma, unquoted (`-8,02`)", parse(csv_text([*rows[:4], rows[4].replace(".", ",", 1), *rows[5:]])), REFUSED,
             ["test_parse.py::test_decimal_commas_and_non_finite_numbers_are_refused"]),
        Case("CSV", "decimal comma, quoted (`\"-8,02\"`)", parse(csv_text(replace_cell(rows, 4, WD, '"-8,02"'))), REFUSED,
             ["test_parse.py::test_decimal_commas_and_non_finite_numbers_are_refused"]),
        Case("CSV", "semicolon-separated export with decimal commas", parse(";".join(f'"{h}"' for h in HEADER) + "\n" + "\n".join(r.replace(",", ";").replace(".", ",") for r in rows) + "\n"), REFUSED,
             ["test_parse.py::test_a_semicolon_separated_export_is_refused"]),
        Case("CSV", "timestamp in another format (`2009-01-01 00:30:00` in a `%d.%m.%Y %H:%M:%S` file)", parse(csv_text([*rows[:2], "2009-01-01 00:30:00" + rows[2][19:], *rows[3:]])), REFUSED,
             ["test_parse.py::test_bad_rows_are_refused_with_file_and_line", "test_parse.py::test_timestamp_format_auto_detects_only_the_known_shapes"]),
        Case("CSV", "timestamp of neither known shape with `parse.timestamp_format: auto`", parse(csv_text(["2009/01/01 00:10" + rows[0][19:], *rows[1:]]), **{"parse.timestamp_format": "auto"}), REFUSED,
             ["test_parse.py::test_timestamp_format_auto_detects_only_the_known_shapes"]),
        Case("CSV", "timestamp off the 10-minute grid (`00:35:00`)", parse(csv_text([*rows[:2], rows[2].replace(":30:00", ":35:00"), *rows[3:]])), REFUSED,
             ["test_parse.py::test_bad_rows_are_refused_with_file_and_line"]),
        Case("CSV", "unsorted timestamps (two rows swapped)", parse(csv_text(swapped(rows, 10))), REPAIRED,
             ["test_parse.py::test_unsorted_rows_are_sorted_and_counted"], detail=quality("time_steps_back", "rows_kept"),
             note="sorted by time"),
        Case("CSV", "duplicate timestamps with identical values (the official file repeats a day)", parse(identical_duplicates()), REPAIRED,
             ["test_parse.py::test_real_file_defects_are_repaired_and_reported", "test_pipeline_e2e.py::test_repro_writes_metrics_and_a_second_repro_is_a_no_op"],
             detail=quality("duplicate_rows_dropped", "rows_kept"), note="repeats dropped"),
        Case("CSV", "duplicate timestamps with different values", parse(conflicting_duplicate()), REFUSED,
             ["test_parse.py::test_conflicting_duplicates_are_refused_with_their_lines"]),
        Case("CSV", "short gap (2 missing timestamps)", parse(csv_text([*rows[:10], *rows[12:]])), REPAIRED,
             ["test_parse.py::test_real_file_defects_are_repaired_and_reported"], detail=quality("missing_rows", "cells_interpolated", "rows_still_missing"),
             note="runs up to `parse.max_fill_rows` (6) interpolated"),
        Case("CSV", "long gap (10 missing timestamps, more than `parse.max_fill_rows`)", long_gap, REPAIRED,
             ["test_parse.py::test_long_gaps_stay_missing", "test_windows.py::test_windows_touching_missing_rows_are_skipped"], detail=long_gap_windows,
             note="left missing; no window uses it (the summary is the windows stage's)"),
        Case("CSV", "`NaN` and empty cells", parse(csv_text(replace_cell(replace_cell(rows, 7, 5, "NaN"), 8, WD, ""))), REPAIRED,
             ["test_parse.py::test_nan_empty_and_sentinel_cells_become_missing_in_any_column"], detail=quality("empty_cells_read", "cells_interpolated"),
             note="missing values, then interpolated like a gap"),
        Case("CSV", "-9999 sentinels in any column", parse(csv_text(replace_cell(replace_cell(rows, 3, 1, "-9999.00"), 4, T_DEGC, "-9999.00"))), REPAIRED,
             ["test_parse.py::test_nan_empty_and_sentinel_cells_become_missing_in_any_column", "test_parse.py::test_real_file_defects_are_repaired_and_reported"],
             detail=quality("sentinel_cells_replaced", "cells_interpolated"), note="`parse.sentinel_values` become missing values"),
        Case("CSV", "byte-order mark and CRLF line ends", parse("\ufeff" + csv_text(rows).replace("\n", "\r\n")), ACCEPTED,
             ["test_parse.py::test_bom_and_crlf_line_endings_are_read"], detail=quality("rows_kept")),
        Case("CSV", "Latin-1 bytes in the header (`µ`, `²` of a newer export)", parse(latin1_file(), **{"parse.timestamp_format": "auto"}), REPAIRED,
             ["test_parse.py::test_latin1_unit_bytes_become_replacement_characters_and_are_counted"], detail=quality("invalid_utf8_replaced"),
             note="each invalid byte becomes U+FFFD, never guessed"),
        # Params
        Case("params", "`windows.lookback_rows` not a multiple of `windows.step_rows`", params("windows", **{"windows.lookback_rows": 75}), REFUSED,
             ["test_config.py::test_each_invalid_param_is_named_with_what_was_expected"]),
        Case("params", "lookback plus delay longer than a split", pipeline_until("windows", **{"windows.lookback_rows": 240, "windows.delay_rows": 36}), REFUSED,
             ["test_windows.py::test_split_too_short_is_an_error"]),
        Case("params", "split boundaries overlap (`train_end` after `val_end`)", params("normalize", **{"split.preset": "custom", "split.train_end": 0.8, "split.val_end": 0.6}), REFUSED,
             ["test_config.py::test_split_preset_refuses_custom_boundaries_and_orders_them", "test_config.py::test_each_invalid_param_is_named_with_what_was_expected"]),
        Case("params", "split fraction out of range (`split.val_end: 1.5`)", params("normalize", **{"split.preset": "custom", "split.train_end": 0.5, "split.val_end": 1.5}), REFUSED,
             ["test_config.py::test_every_problem_is_reported_at_once", "test_config.py::test_each_invalid_param_is_named_with_what_was_expected"]),
        Case("params", "split row number beyond the data (`split.preset: dlwp1` on a short file)", pipeline_until("normalize", **{"split.preset": "dlwp1"}), REFUSED,
             ["test_normalize.py::test_boundaries_that_do_not_fit_are_errors", "test_pipeline_e2e.py::test_bad_params_stop_a_stage_with_one_line_and_exit_code_2"]),
        Case("params", "unknown model name (`python -m stages.train transformer`)", params("train", "transformer"), REFUSED,
             ["test_config.py::test_unknown_model_name_lists_known_ones"]),
        Case("params", "unknown model builder (`models.tcn` without a `tcn` builder)", params("train", "dense", **{"models.tcn": {"units": 8}}), REFUSED,
             ["test_config.py::test_unknown_builder_and_model_params_are_named", "test_config.py::test_every_problem_is_reported_at_once"]),
        Case("params", "unknown recipe (`models.gru.recipe: fast`)", params("train", "gru", **{"models.gru.recipe": "fast"}), REFUSED,
             ["test_config.py::test_a_bad_recipe_or_an_unknown_one_is_named"]),
        Case("params", "unknown optimizer", params("train", "dense", **{"train.optimizer": "adamw"}), REFUSED,
             ["test_config.py::test_each_invalid_param_is_named_with_what_was_expected"]),
        Case("params", "unknown loss", params("train", "dense", **{"models.dense.train": {"loss": "hinge"}}), REFUSED,
             ["test_config.py::test_each_invalid_param_is_named_with_what_was_expected"]),
        Case("params", "non-positive epochs", params("train", "dense", **{"train.epochs": 0}), REFUSED,
             ["test_config.py::test_each_invalid_param_is_named_with_what_was_expected"]),
        Case("params", "non-positive batch size", params("train", "dense", **{"train.batch_size": -32}), REFUSED,
             ["test_config.py::test_each_invalid_param_is_named_with_what_was_expected", "test_config.py::test_every_problem_is_reported_at_once"]),
        Case("params", "misspelt param (`models.dense.unitz`)", params("train", "dense", **{"models.dense.unitz": 8}), REFUSED,
             ["test_config.py::test_unknown_keys_are_refused"]),
        Case("params", "target column absent from the CSV", parse(csv_text(rows), **{"windows.target_column": "Tlog (degC)"}), REFUSED,
             ["test_parse.py::test_target_column_must_be_in_the_header_and_extra_columns_are_kept", "test_pipeline_e2e.py::test_a_newer_export_runs_through_params_alone"]),
        Case("params", "target column is the timestamp column", params("parse", **{"windows.target_column": "Date Time"}), REFUSED,
             ["test_config.py::test_each_invalid_param_is_named_with_what_was_expected"]),
        Case("params", "a lag repeated in `features.temperature_diffs`", params("features", **{"features.temperature_diffs": [6, 6]}), REFUSED,
             ["test_config.py::test_features_are_off_when_params_turn_them_off_and_validated_together"]),
        Case("params", "`features.wind_vector` with a wind column the file does not have", pipeline_until("features", **{"features.wind_vector": True, "features.wind_direction_column": "dir (deg)"}), REFUSED,
             ["test_features.py::test_wind_columns_by_param_and_clear_errors_when_absent"]),
        Case("params", "unknown classical estimator", params("classical", "svm", **{"classical.svm": {"estimator": "svm"}}), REFUSED,
             ["test_classical.py::test_classical_params_are_validated_with_every_problem_reported"]),
        Case("params", "classical `lag_hours` reaching back beyond the window", params("classical", "ridge", **{"classical.ridge.lag_hours": 24}), REFUSED,
             ["test_classical.py::test_classical_params_are_validated_with_every_problem_reported"]),
        Case("params", "a classical model named like a deep one (`classical.gru`)", params("classical", "gru", **{"classical.gru": {"estimator": "ridge", "lag_hours": 6, "recent_hours": 6, "alphas": [1.0]}}), REFUSED,
             ["test_classical.py::test_classical_params_are_validated_with_every_problem_reported"]),
        Case("params", "a classical ensemble member with `ensemble.include_classical: false`", params("ensemble", **{"ensemble.members": ["gru", "ridge"], "ensemble.include_classical": False}), REFUSED,
             ["test_config.py::test_ensemble_members_are_classical_models_only_with_include_classical"]),
        Case("params", "a prediction-interval level outside (0, 1)", params("evaluate", "gru", **{"intervals.levels": [0.9, 1.5]}), REFUSED,
             ["test_intervals.py::test_bad_levels_are_refused_naming_the_param"]),
        Case("params", "an adaptive-interval method that does not exist (`intervals.method: online`)", params("evaluate", "gru", **{"intervals.method": "online"}), REFUSED,
             ["test_intervals.py::test_bad_interval_params_are_refused_naming_the_key"]),
        Case("params", "a confidence level outside (0, 1) (`significance.level: 1.5`)", params("baseline", **{"significance.level": 1.5}), REFUSED,
             ["test_config.py::test_significance_params_are_validated_naming_the_key"]),
        Case("params", "`residual` that is not true or false", params("train", "gru", **{"models.gru.residual": "yes"}), REFUSED,
             ["test_residual.py::test_residual_is_a_model_param_checked_at_the_boundary"]),
        # Forecast
        Case("forecast", "export shorter than one window (60 rows; windows of 72)", forecast(SyntheticJena(rows=60)), REFUSED,
             ["test_forecast.py::test_bad_exports_get_one_line_naming_the_file_exit_2_and_no_output"]),
        Case("forecast", "empty temperatures in the export's last 8 rows (beyond `parse.max_fill_rows: 6`)", forecast(empty_last_temperatures), REFUSED,
             ["test_forecast.py::test_bad_exports_get_one_line_naming_the_file_exit_2_and_no_output", "test_forecast.py::test_missing_rows_name_their_timestamps_and_columns"]),
        Case("forecast", "export without a column the model was trained on (`rh (%)`)", forecast(export_without("rh (%)")), REFUSED,
             ["test_forecast.py::test_bad_exports_get_one_line_naming_the_file_exit_2_and_no_output"]),
        Case("forecast", "newer export (21 columns, ISO timestamps), the model's timestamp format", forecast(SyntheticJenaNewer(rows=200)), REFUSED,
             ["test_forecast.py::test_newer_exports_are_read_with_their_extra_columns_named_and_ignored"]),
        Case("forecast", "newer export with `--timestamp-format auto`", forecast(SyntheticJenaNewer(rows=200), "--timestamp-format", "auto"), ACCEPTED,
             ["test_forecast.py::test_newer_exports_are_read_with_their_extra_columns_named_and_ignored"], detail=export_ignored_columns, note="the 7 extra columns are named and ignored"),
        Case("forecast", "temperatures of 120 in the latest rows (Fahrenheit read as Celsius)", forecast(fahrenheit_like), REFUSED,
             ["test_forecast.py::test_fahrenheit_like_temperatures_are_refused_naming_the_column_rows_and_range"]),
        Case("forecast", "the same with `--force`", forecast(fahrenheit_like, "--force"), ACCEPTED,
             ["test_forecast.py::test_fahrenheit_like_temperatures_are_refused_naming_the_column_rows_and_range"], detail=forecast_warnings, note="forecast, with the warning printed and recorded"),
        Case("forecast", "a `date` timestamp column with ISO times (the shared \"weather.csv\" form)", forecast(weather_csv), REFUSED,
             ["test_forecast.py::test_an_export_with_a_date_column_and_iso_times_is_read_when_told"]),
        Case("forecast", "the same with `--timestamp-column date --timestamp-format auto`", forecast(weather_csv, "--timestamp-column", "date", "--timestamp-format", "auto"), ACCEPTED,
             ["test_forecast.py::test_an_export_with_a_date_column_and_iso_times_is_read_when_told"], note="read"),
        Case("forecast", "a newer export whose header is Latin-1 (`²`, `µ`), `--timestamp-format auto`", forecast(SyntheticJenaNewer(rows=200, latin1_units=True), "--timestamp-format", "auto"), ACCEPTED,
             ["test_forecast.py::test_a_latin1_export_names_its_columns_with_their_units"], detail=export_ignored_columns, note="its columns named with their units"),
        Case("forecast", "`--output` that is neither `.json` nor `.csv`", forecast(SyntheticJena(rows=200), "--output", "forecast.xlsx"), REFUSED,
             ["test_forecast.py::test_an_unknown_output_format_or_a_missing_forecaster_is_refused"]),
        # Backtest
        Case("backtest", "an export given as a URL (`backtest.exports.piece.path: https://...`)", backtest(200, path="https://example.org/jena.csv"), REFUSED,
             ["test_config.py::test_backtest_exports_are_validated_naming_the_key"]),
        Case("backtest", "an export whose pinned `sha256` differs from the file's", backtest(200, pinned=True), REFUSED,
             ["test_backtest.py::test_a_pinned_checksum_is_checked_and_a_changed_file_refused"]),
        Case("backtest", "an export with no complete window (80 rows; windows span 84)", backtest(80), REFUSED,
             ["test_backtest.py::test_an_export_with_no_complete_window_is_refused_naming_its_span"]),
        Case("backtest", "an export with temperatures of 120 (Fahrenheit read as Celsius)", backtest(200, hot=True), REFUSED,
             ["test_backtest.py::test_an_export_beyond_what_the_models_know_is_refused_unless_forced"]),
        # Outputs
        Case("outputs", "disk full while writing an output (simulated: `ENOSPC`)", failing_write(errno.ENOSPC), REFUSED,
             ["test_faults.py::test_disk_full_names_the_file_keeps_the_old_one_and_leaves_no_temporary", "test_faults.py::test_disk_full_while_a_stage_writes_its_table"]),
        Case("outputs", "read-only output directory (simulated: `EACCES`)", failing_write(errno.EACCES), REFUSED,
             ["test_faults.py::test_read_only_directory_is_a_clear_error", "test_faults.py::test_a_read_only_file_system_or_directory_is_a_clear_error"]),
        Case("outputs", "read-only file system (simulated: `EROFS`)", failing_write(errno.EROFS), REFUSED,
             ["test_faults.py::test_a_read_only_file_system_or_directory_is_a_clear_error"]),
        Case("outputs", "a file where an output directory should be", output_dir_is_a_file, REFUSED,
             ["test_faults.py::test_an_output_directory_that_cannot_exist_is_a_clear_error"]),
    ]  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Running and printing


def test_exists(test: str) -> bool:
    module, name = test.split("::")
    source = (ROOT / "tests" / module).read_text()
    return re.search(rf"^def {re.escape(name)}\(", source, flags=re.M) is not None


def seen(case: Case, done: Run) -> str:
    """What the user sees: the stage's error, or its summary line and what changed."""
    if done.code:
        return done.stderr.strip()
    summary = done.stdout.strip().splitlines()[-1]
    return summary if case.detail is None else f"{summary}\n{case.detail()}"


def normalized(text: str) -> str:
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


def cell(text: str) -> str:
    """``text`` as a table cell: code spans, one per line."""
    parts = [f"`{line.replace('|', chr(92) + '|')}`" for line in text.splitlines() if line.strip()]
    return "<br>".join(parts)


def run_case(case: Case) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        here = os.getcwd()
        os.chdir(scratch)
        try:
            done = case.make()
            text = normalized(seen(case, done))
        finally:
            os.chdir(here)
    outcome = REFUSED if done.code else (case.outcome if case.outcome != REFUSED else ACCEPTED)
    if done.code not in (0, 2) or outcome != case.outcome:
        raise SystemExit(
            f"case {case.what!r}: expected {case.outcome}, got exit code {done.code}:\n{text}"
        )
    return text


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    all_cases = cases()
    missing = [t for case in all_cases for t in case.tests if not test_exists(t)]
    if missing:
        raise SystemExit(f"tests named by the catalog do not exist: {missing}")
    out = [
        "# Bad input: what the pipeline refuses, what it repairs, and what you see",
        "",
        "Generated by `python tools/bad_input_catalog.py > docs/bad_input.md`: every row ran the",
        "real stage entry points on small synthetic files in a temporary directory and shows what",
        "they printed: an error on stderr with exit code 2, or a summary on stdout with exit code 0",
        "(plus, for repaired input, what the data-quality or download record says). A stage that",
        "refuses its input leaves no file behind (checked for every row). Ports of local test",
        "servers read `PORT`; the write failures are simulated (the write raises the named `errno`).",
        "The tests named are in `tests/`.",
        "",
    ]
    groups = {
        "download": "Download",
        "CSV": "CSV",
        "params": "Params",
        "forecast": "Forecast (`python -m jena_forecast.forecast`)",
        "backtest": "Backtest",
        "outputs": "Outputs",
    }
    for group, title in groups.items():
        out += [
            f"## {title}",
            "",
            "| input | outcome | what you see | tests |",
            "|---|---|---|---|",
        ]
        for case in (c for c in all_cases if c.group == group):
            outcome = case.outcome + (f": {case.note}" if case.note else "")
            tests = "<br>".join(f"`{t}`" for t in case.tests)
            out.append(f"| {case.what} | {outcome} | {cell(run_case(case))} | {tests} |")
        out.append("")
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
