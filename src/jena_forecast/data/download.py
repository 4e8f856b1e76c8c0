"""Fetch the Jena climate zip (public URL or a named local mirror), verify it, extract the one CSV member."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlparse

import requests
from pydantic import (
    NonNegativeInt,
    PositiveFloat,
    field_validator,
    model_validator,
)
from tqdm import tqdm

from jena_forecast.plumbing.atomic import atomic_path
from jena_forecast.plumbing.errors import PipelineError
from jena_forecast.plumbing.params import Frozen

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


class DownloadConfig(Frozen):
    """Where the raw data comes from and the checksum it must have.

    ``source`` picks one of three zips: ``embedded``, the 2009-2011 record shipped with the project
    (its path comes from the pipeline, its checksum is ``embedded_sha256``); ``url``, the official
    2009-2016 file; ``mirror``, a local copy. ``sha256`` pins the ``url`` or ``mirror`` zip.
    """

    source: Literal["embedded", "url", "mirror"]
    embedded_sha256: str
    url: str
    mirror: str | None
    sha256: str | None = None
    member: str
    timeout_seconds: PositiveFloat
    retries: NonNegativeInt

    @field_validator("url")
    @classmethod
    def _url_is_https_or_local(cls, url: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme in {"https", "file"}:
            return url
        if parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS:
            return url
        raise ValueError(
            "must be an https:// URL (http:// only for a loopback host, file:// for a local file)"
        )

    @field_validator("mirror", "sha256", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("sha256", "embedded_sha256")
    @classmethod
    def _sha256_is_hex(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", value):
            raise ValueError(
                "must be 64 hexadecimal characters, or empty to record the observed one"
            )
        return None if value is None else value.lower()

    @model_validator(mode="after")
    def _mirror_is_named(self) -> DownloadConfig:
        if self.source == "mirror" and self.mirror is None:
            raise ValueError("source is mirror but no mirror is named: set download.mirror")
        return self

    @field_validator("member")
    @classmethod
    def _member_is_plain_name(cls, member: str) -> str:
        if not member or "/" in member or "\\" in member or member in {".", ".."}:
            raise ValueError("must be a plain file name inside the zip, without directories")
        return member


CHUNK_BYTES = 1 << 20
RETRY_BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0)
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class DownloadRecord:
    """What was fetched: written beside the CSV so every result can name its data."""

    source: str
    zip_sha256: str
    zip_sha256_pinned: bool
    zip_bytes: int
    member: str
    member_bytes: int
    member_sha256: str
    ignored_members: list[str]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress(total: int | None, description: str) -> tqdm:
    return tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=description, disable=None
    )


def _get_following_secure_redirects(url: str, timeout_seconds: float) -> requests.Response:
    """GET ``url``, following redirects only to https:// (or loopback http://) addresses."""
    for _ in range(MAX_REDIRECTS + 1):
        response = requests.get(url, stream=True, timeout=timeout_seconds, allow_redirects=False)
        if not response.is_redirect:
            return response
        target = urljoin(url, response.headers["Location"])
        response.close()
        parsed = urlparse(target)
        if parsed.scheme != "https" and not (
            parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS
        ):
            raise PipelineError(
                f"download.url: {url} redirects to {target}, which is not https://; "
                "refusing to download the data over an insecure connection"
            )
        url = target
    raise PipelineError(f"download.url: more than {MAX_REDIRECTS} redirects; last: {url}")


def _reason(error: Exception) -> str:
    """Why one attempt failed, in a few words: the OS's reason, not urllib3's connection-pool text."""
    if isinstance(error, requests.ConnectTimeout):
        return "no connection within the timeout"
    if isinstance(error, requests.Timeout):
        return "no answer within the timeout"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "the connection broke off during the transfer"
    if isinstance(error, requests.ConnectionError):
        cause = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
        if cause:
            return cause.group(1).strip()
    return str(error)


def _download_http(url: str, destination: Path, timeout_seconds: float, retries: int) -> None:
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(RETRY_BACKOFF_SECONDS[min(attempt - 1, len(RETRY_BACKOFF_SECONDS) - 1)])
        try:
            with _get_following_secure_redirects(url, timeout_seconds) as response:
                if response.status_code >= 500:
                    last_error = RuntimeError(f"HTTP {response.status_code}")
                    continue
                if response.status_code >= 400:
                    raise PipelineError(
                        f"download.url: {url} answered HTTP {response.status_code}; "
                        "check the URL, or name a local copy with download.mirror"
                    )
                total = int(response.headers.get("Content-Length", 0)) or None
                with destination.open("wb") as handle, _progress(total, "download") as bar:
                    for chunk in response.iter_content(CHUNK_BYTES):
                        handle.write(chunk)
                        bar.update(len(chunk))
                return
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
        ) as error:
            last_error = error
    assert last_error is not None  # every attempt that did not return set it
    raise PipelineError(
        f"download.url: could not fetch {url} after {retries + 1} attempt(s) "
        f"(timeout {timeout_seconds:g} s each): {_reason(last_error)}; "
        "without internet access, name a local copy with download.mirror and download.sha256"
    )


def _local_source(config: DownloadConfig, embedded_zip: Path | None) -> Path | None:
    """The local zip ``config`` names; None for an http(s) URL."""
    if config.source == "embedded":
        if embedded_zip is None:
            raise PipelineError("download.source is embedded, but no embedded zip path was given")
        if not embedded_zip.is_file():
            raise PipelineError(
                f"download.source=embedded: {embedded_zip}: file not found; the project ships it "
                f"in git: restore it with `git checkout -- {embedded_zip}`"
            )
        return embedded_zip
    if config.source == "mirror":
        assert config.mirror is not None  # DownloadConfig requires it with source mirror
        path, param = Path(config.mirror), "download.mirror"
    elif config.url.startswith("file://"):
        path, param = Path(unquote(urlparse(config.url).path)), "download.url"
    else:
        return None
    if not path.is_file():
        raise PipelineError(f"{param}: {path}: file not found; expected the Jena climate zip there")
    return path


def _pinned_sha256(config: DownloadConfig) -> str | None:
    return config.embedded_sha256 if config.source == "embedded" else config.sha256


def _check_sha256(observed: str, config: DownloadConfig, source: str) -> None:
    expected = _pinned_sha256(config)
    if expected is not None and observed != expected:
        param = "download.embedded_sha256" if config.source == "embedded" else "download.sha256"
        raise PipelineError(
            f"{source}: sha256 mismatch: expected {expected} ({param}), "
            f"got {observed}; the file is corrupt, truncated or not the one pinned"
        )


def _looks_like_html(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(512).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head"))


def _copy_member(archive: zipfile.ZipFile, member: str, destination: Path) -> str:
    digest = hashlib.sha256()
    info = archive.getinfo(member)
    with (
        archive.open(info) as source,
        destination.open("wb") as target,
        _progress(info.file_size, "extract") as bar,
    ):
        for chunk in iter(lambda: source.read(CHUNK_BYTES), b""):
            target.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def extract_member(
    zip_path: Path, member: str, csv_path: Path, source: str
) -> tuple[str, int, list[str]]:
    """Extract only ``member`` from ``zip_path`` to ``csv_path`` atomically.

    Returns the member's sha256, its size and the names of the members left alone. No other member
    is ever written, so absolute or ``../`` names inside a hostile zip cannot reach the file system.
    """
    if zip_path.stat().st_size == 0:
        raise PipelineError(f"{source}: the file is empty; expected a zip archive")
    if not zipfile.is_zipfile(zip_path):
        hint = (
            " (it looks like an HTML page: an error or login page?)"
            if _looks_like_html(zip_path)
            else ""
        )
        raise PipelineError(
            f"{source}: not a zip archive{hint}; the file may be truncated or wrong"
        )
    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
            if member not in names:
                listed = ", ".join(repr(name) for name in names[:10]) or "(none)"
                raise PipelineError(
                    f"{source}: the zip has no member {member!r} (download.member); members: {listed}"
                )
            with atomic_path(csv_path) as tmp:
                member_sha256 = _copy_member(archive, member, tmp)
            member_bytes = archive.getinfo(member).file_size
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as error:
        raise PipelineError(f"{source}: corrupt or truncated zip archive: {error}") from error
    return member_sha256, member_bytes, [name for name in names if name != member]


def fetch_raw_csv(
    config: DownloadConfig, csv_path: Path, embedded_zip: Path | None = None
) -> DownloadRecord:
    """Get the zip named by ``config``, verify its sha256, extract the CSV member to ``csv_path``.

    ``embedded_zip`` is the zip shipped with the project, used when ``config.source`` is embedded.
    """
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in csv_path.parent.glob(".download-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    local = _local_source(config, embedded_zip)
    if local is not None:
        source = str(local)
        zip_sha256 = sha256_of(local)
        _check_sha256(zip_sha256, config, source)
        zip_bytes = local.stat().st_size
        member_sha256, member_bytes, ignored = extract_member(
            local, config.member, csv_path, source
        )
    else:
        source = config.url
        # The zip is only a carrier: it lives in a temporary file that is always removed.
        with tempfile.TemporaryDirectory(dir=csv_path.parent, prefix=".download-") as scratch:
            zip_tmp = Path(scratch) / "download.zip"
            _download_http(config.url, zip_tmp, config.timeout_seconds, config.retries)
            zip_sha256 = sha256_of(zip_tmp)
            _check_sha256(zip_sha256, config, source)
            zip_bytes = zip_tmp.stat().st_size
            member_sha256, member_bytes, ignored = extract_member(
                zip_tmp, config.member, csv_path, source
            )
    return DownloadRecord(
        source=source,
        zip_sha256=zip_sha256,
        zip_sha256_pinned=_pinned_sha256(config) is not None,
        zip_bytes=zip_bytes,
        member=config.member,
        member_bytes=member_bytes,
        member_sha256=member_sha256,
        ignored_members=ignored,
    )
