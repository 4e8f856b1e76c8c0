import functools
import hashlib
import http.server
import socket
import threading
import zipfile
from pathlib import Path

import pytest
import requests
from conftest import section
from synthetic import SyntheticJena

from jena_forecast.config import DownloadConfig
from jena_forecast.data.download import fetch_raw_csv
from jena_forecast.plumbing.errors import PipelineError

MEMBER = "jena_climate_2009_2016.csv"


@pytest.fixture
def zip_file(tmp_path: Path) -> Path:
    (tmp_path / "source").mkdir()
    return SyntheticJena(rows=50).write_zip(tmp_path / "source" / "jena.zip")


@pytest.fixture
def served(tmp_path: Path):
    """Serve tmp_path/'www' on 127.0.0.1; yield the base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def output_dir_is_clean(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def test_mirror_with_pinned_checksum_extracts_the_member(tmp_path, zip_file):
    out = tmp_path / "raw" / MEMBER
    record = fetch_raw_csv(
        section(DownloadConfig, source="mirror", mirror=str(zip_file), sha256=sha256(zip_file)), out
    )
    with zipfile.ZipFile(zip_file) as archive:
        assert out.read_bytes() == archive.read(MEMBER)
    assert record.zip_sha256_pinned and record.zip_sha256 == sha256(zip_file)
    assert record.member_sha256 == sha256(out)


def test_unpinned_checksum_is_recorded(tmp_path, zip_file):
    record = fetch_raw_csv(
        section(DownloadConfig, source="mirror", mirror=str(zip_file)), tmp_path / "raw" / MEMBER
    )
    assert not record.zip_sha256_pinned and record.zip_sha256 == sha256(zip_file)


def test_checksum_mismatch_is_an_error_and_leaves_nothing(tmp_path, zip_file):
    out_dir = tmp_path / "raw"
    with pytest.raises(PipelineError, match=r"sha256 mismatch: expected 0{64} \(download.sha256\)"):
        fetch_raw_csv(
            section(DownloadConfig, source="mirror", mirror=str(zip_file), sha256="0" * 64),
            out_dir / MEMBER,
        )
    assert output_dir_is_clean(out_dir)


def test_download_over_http_from_a_local_server(tmp_path, zip_file, served):
    base, root = served
    (root / "jena.zip").write_bytes(zip_file.read_bytes())
    out = tmp_path / "raw" / MEMBER
    record = fetch_raw_csv(
        section(DownloadConfig, source="url", url=f"{base}/jena.zip", sha256=sha256(zip_file)), out
    )
    assert record.source == f"{base}/jena.zip" and out.is_file()
    assert [p.name for p in out.parent.iterdir()] == [MEMBER]  # the zip itself is not kept


def test_file_url(tmp_path, zip_file):
    record = fetch_raw_csv(
        section(DownloadConfig, source="url", url=zip_file.as_uri()), tmp_path / "raw" / MEMBER
    )
    assert record.zip_sha256 == sha256(zip_file)


def test_http_error_page_is_refused(tmp_path, served):
    base, root = served
    (root / "jena.zip").write_text("<!DOCTYPE html><html><body>Quota exceeded</body></html>")
    with pytest.raises(PipelineError, match="not a zip archive .*HTML page"):
        fetch_raw_csv(
            section(DownloadConfig, source="url", url=f"{base}/jena.zip"), tmp_path / "raw" / MEMBER
        )
    with pytest.raises(PipelineError, match="answered HTTP 404"):
        fetch_raw_csv(
            section(DownloadConfig, source="url", url=f"{base}/absent.zip", retries=0),
            tmp_path / "raw" / MEMBER,
        )
    assert output_dir_is_clean(tmp_path / "raw")


def test_unreachable_url_fails_after_bounded_retries(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = section(
        DownloadConfig,
        source="url",
        url=f"http://127.0.0.1:{port}/jena.zip",
        retries=1,
        timeout_seconds=2,
    )
    with pytest.raises(
        PipelineError,
        match=r"could not fetch .* after 2 attempt\(s\) \(timeout 2 s each\): Connection refused; ",
    ):
        fetch_raw_csv(config, tmp_path / "raw" / MEMBER)
    assert output_dir_is_clean(tmp_path / "raw")


def test_truncated_empty_and_memberless_zips(tmp_path, zip_file):
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(zip_file.read_bytes()[: zip_file.stat().st_size // 2])
    with pytest.raises(PipelineError, match="not a zip archive"):
        fetch_raw_csv(
            section(DownloadConfig, source="mirror", mirror=str(truncated)),
            tmp_path / "raw" / MEMBER,
        )
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    with pytest.raises(PipelineError, match="the file is empty"):
        fetch_raw_csv(
            section(DownloadConfig, source="mirror", mirror=str(empty)), tmp_path / "raw" / MEMBER
        )
    with pytest.raises(PipelineError, match="the zip has no member 'other.csv'"):
        fetch_raw_csv(
            section(DownloadConfig, source="mirror", mirror=str(zip_file), member="other.csv"),
            tmp_path / "raw" / MEMBER,
        )
    with pytest.raises(PipelineError, match="download.mirror: .*absent.zip: file not found"):
        fetch_raw_csv(
            section(DownloadConfig, source="mirror", mirror=str(tmp_path / "absent.zip")),
            tmp_path / "raw" / MEMBER,
        )
    assert output_dir_is_clean(tmp_path / "raw")


def test_hostile_members_are_never_extracted(tmp_path, zip_file):
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(zip_file) as source, zipfile.ZipFile(hostile, "w") as target:
        target.writestr(MEMBER, source.read(MEMBER))
        target.writestr("../escaped.txt", "x")
        target.writestr("/tmp/absolute-escape.txt", "x")
        target.writestr("extra.csv", "x")
    out = tmp_path / "deep" / "raw" / MEMBER
    record = fetch_raw_csv(section(DownloadConfig, source="mirror", mirror=str(hostile)), out)
    assert sorted(record.ignored_members) == [
        "../escaped.txt",
        "/tmp/absolute-escape.txt",
        "extra.csv",
    ]
    assert [p.name for p in out.parent.iterdir()] == [MEMBER]
    assert not (tmp_path / "deep" / "escaped.txt").exists()


class FlakyThenFine(http.server.SimpleHTTPRequestHandler):
    """Answers 503 to the first request, then serves files; or redirects /redirect to ``target``."""

    failures_left = 1
    target = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", self.target)
            self.end_headers()
            return
        if FlakyThenFine.failures_left:
            FlakyThenFine.failures_left -= 1
            self.send_error(503)
            return
        super().do_GET()


@pytest.fixture
def flaky(tmp_path: Path):
    root = tmp_path / "www"
    root.mkdir()
    FlakyThenFine.failures_left = 1
    handler = functools.partial(FlakyThenFine, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_a_server_error_is_retried(tmp_path, zip_file, flaky):
    base, root = flaky
    (root / "jena.zip").write_bytes(zip_file.read_bytes())
    config = section(
        DownloadConfig, source="url", url=f"{base}/jena.zip", sha256=sha256(zip_file), retries=1
    )
    assert fetch_raw_csv(config, tmp_path / "raw" / MEMBER).zip_sha256 == sha256(zip_file)
    FlakyThenFine.failures_left = 5
    with pytest.raises(PipelineError, match=r"after 2 attempt\(s\) .*: HTTP 503"):
        fetch_raw_csv(
            section(DownloadConfig, source="url", url=f"{base}/jena.zip", retries=1),
            tmp_path / "o" / MEMBER,
        )
    assert output_dir_is_clean(tmp_path / "o")


def test_a_redirect_to_plain_http_is_refused_before_connecting(tmp_path, flaky):
    base, _ = flaky
    FlakyThenFine.failures_left = 0
    FlakyThenFine.target = "http://example.invalid/jena.zip"
    with pytest.raises(
        PipelineError,
        match=r"redirects to http://example.invalid/jena.zip, which is not https://",
    ):
        fetch_raw_csv(
            section(DownloadConfig, source="url", url=f"{base}/redirect"), tmp_path / "raw" / MEMBER
        )
    assert output_dir_is_clean(tmp_path / "raw")


def test_a_server_that_never_answers_times_out(tmp_path):
    with socket.socket() as silent:  # accepts connections (backlog) but never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/jena.zip"
        config = section(DownloadConfig, source="url", url=url, retries=1, timeout_seconds=0.5)
        with pytest.raises(
            PipelineError,
            match=r"after 2 attempt\(s\) \(timeout 0.5 s each\): no answer within the timeout; "
            "without internet access, name a local copy with download.mirror",
        ):
            fetch_raw_csv(config, tmp_path / "raw" / MEMBER)
    assert output_dir_is_clean(tmp_path / "raw")


def test_an_empty_or_wrong_download_is_refused_before_it_is_read(
    tmp_path, zip_file, served, monkeypatch
):
    base, root = served
    (root / "empty.zip").write_bytes(b"")
    with pytest.raises(PipelineError, match=r"/empty.zip: the file is empty; expected a zip"):
        fetch_raw_csv(
            section(DownloadConfig, source="url", url=f"{base}/empty.zip"),
            tmp_path / "raw" / MEMBER,
        )
    (root / "jena.zip").write_bytes(zip_file.read_bytes())
    import jena_forecast.data.download as download

    def never(*args):
        raise AssertionError("the zip was opened before its checksum was verified")

    monkeypatch.setattr(download, "extract_member", never)
    with pytest.raises(PipelineError, match=r"jena.zip: sha256 mismatch: expected 1{64}"):
        fetch_raw_csv(
            section(DownloadConfig, source="url", url=f"{base}/jena.zip", sha256="1" * 64),
            tmp_path / "raw" / MEMBER,
        )
    assert output_dir_is_clean(tmp_path / "raw")


@pytest.mark.parametrize("filler", [bytes(60), b"\xff" * 60])
def test_a_zip_with_a_corrupt_member_leaves_nothing(tmp_path, zip_file, filler):
    data = bytearray(zip_file.read_bytes())
    data[200:260] = filler  # inside the compressed member; the directory at the end survives
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(PipelineError, match=r"corrupt.zip: corrupt or truncated zip archive"):
        fetch_raw_csv(
            section(DownloadConfig, source="mirror", mirror=str(corrupt)), tmp_path / "raw" / MEMBER
        )
    assert output_dir_is_clean(tmp_path / "raw")


def test_a_mirror_that_is_an_html_page_is_refused(tmp_path):
    page = tmp_path / "jena.zip"
    page.write_text("<html><head><title>404 Not Found</title></head></html>")
    with pytest.raises(PipelineError, match=r"jena.zip: not a zip archive \(it looks like an HTML"):
        fetch_raw_csv(
            section(DownloadConfig, source="mirror", mirror=str(page)), tmp_path / "raw" / MEMBER
        )
    assert output_dir_is_clean(tmp_path / "raw")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            requests.ConnectionError(
                "HTTPSConnectionPool(host='example.invalid', port=443): Max retries exceeded with "
                'url: /jena.zip (Caused by NameResolutionError("<urllib3.connection.HTTPSConnection '
                "object at 0x7f00>: Failed to resolve 'example.invalid' ([Errno -2] Name or service "
                'not known)"))'
            ),
            "Name or service not known",
        ),
        (
            requests.ConnectTimeout("HTTPSConnectionPool(...): timed out"),
            "no connection within the timeout",
        ),
        (
            requests.ReadTimeout("HTTPSConnectionPool(...): Read timed out."),
            "no answer within the timeout",
        ),
        (
            requests.exceptions.ChunkedEncodingError("Connection broken"),
            "the connection broke off during the transfer",
        ),
        (RuntimeError("HTTP 503"), "HTTP 503"),
    ],
)
def test_a_failed_attempt_is_named_in_a_few_words(error, reason):
    from jena_forecast.data.download import _reason

    assert _reason(error) == reason
