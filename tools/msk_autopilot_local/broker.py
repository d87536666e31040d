"""A local Kafka-wire broker for tests and demos: noida-db on 127.0.0.1, no JVM, no Docker.

`start_broker()` runs `noida-db start --only kafka` on a free port of 127.0.0.1 with a data
directory of its own (a temporary one unless given), waits until the Kafka port answers and
returns a `LocalBroker`; `stop()` sends SIGINT to the broker's PID (noida-db saves its data and
exits), then SIGKILL if it has not exited within the grace period. `local_broker()` does both
around a block. A stopped broker can be started again on the same port and data directory
(`restart()`): committed offsets and records survive, as they would on a real cluster.

The broker binary is started directly, not through the `noida-db` console script: that wrapper
runs the binary as a child process, and a SIGINT to the wrapper's PID would not reach it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from msk_autopilot_local.errors import LocalToolError

__all__ = [
    "BrokerError",
    "LocalBroker",
    "free_port",
    "local_broker",
    "noida_binary",
    "start_broker",
]

HOST = "127.0.0.1"
_READY_TIMEOUT = 20.0
_STOP_GRACE = 10.0


class BrokerError(LocalToolError, RuntimeError):
    """The local broker could not be found, started or stopped."""


def noida_binary() -> Path:
    """The noida-db executable shipped inside the `noida-db` package."""
    try:
        from importlib.resources import files  # noqa: PLC0415

        candidate = Path(str(files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError:
        candidate = None
    if candidate is not None and candidate.is_file():
        if not os.access(candidate, os.X_OK):
            candidate.chmod(candidate.stat().st_mode | 0o111)
        return candidate
    raise BrokerError(
        "noida-db is not installed in this environment: pip install -r requirements-dev.txt "
        "(it pins noida-db)"
    )


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


@dataclass
class LocalBroker:
    """A noida-db Kafka broker on 127.0.0.1 that this process started."""

    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    _owned_root: Path | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, ready_timeout: float = _READY_TIMEOUT) -> None:
        """Start (or start again) on this broker's port and data directory."""
        if self.running:
            return
        if _port_answers(self.port):  # else the readiness check would greet another server
            raise BrokerError(f"{self.bootstrap_servers} is taken: choose another --port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603  a fixed binary and arguments, no shell
            [
                str(noida_binary()),
                "start",
                "--only",
                "kafka",
                "--host",
                HOST,
                "--kafka-port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, not the broker
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._close_log()
                raise BrokerError(
                    f"noida-db exited with code {self.process.returncode} before serving "
                    f"Kafka on {self.bootstrap_servers}: {self.log_tail()}"
                )
            if _port_answers(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(
            f"noida-db did not serve Kafka on {self.bootstrap_servers} within "
            f"{ready_timeout:.0f} s: {self.log_tail()}"
        )

    def stop(self, grace: float = _STOP_GRACE) -> None:
        """SIGINT to the broker's PID (it saves its data and exits), SIGKILL after `grace`."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=grace)
        self._close_log()

    def restart(self, ready_timeout: float = _READY_TIMEOUT) -> None:
        self.stop()
        self.start(ready_timeout)

    def close(self) -> None:
        """Stop the broker and delete the temporary directory it was given, if any."""
        self.stop()
        if self._owned_root is not None:
            shutil.rmtree(self._owned_root, ignore_errors=True)
            self._owned_root = None

    def log_tail(self, limit: int = 2000) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        lines = [line for line in text.splitlines() if "GLIBC" not in line]  # a harmless warning
        return "\n".join(lines)[-limit:] or "(empty log)"

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def start_broker(
    *,
    port: int = 0,
    data_dir: Path | None = None,
    ready_timeout: float = _READY_TIMEOUT,
    attempts: int = 3,
) -> LocalBroker:
    """Start a broker on `port` (0: a free one) with `data_dir` (None: a temporary directory,
    deleted by `close()`). A free port can be taken between choosing and binding it, so a
    chosen port is tried up to `attempts` times."""
    owned_root = None
    if data_dir is None:
        owned_root = Path(tempfile.mkdtemp(prefix="noida-kafka-"))
        data_dir = owned_root / "data"
    log_path = (
        owned_root / "noida-db.log"
        if owned_root is not None
        else data_dir.with_name(f"{data_dir.name}.noida-db.log")
    )
    last_error: BrokerError | None = None
    for _ in range(attempts if port == 0 else 1):
        broker = LocalBroker(
            port=port or free_port(), data_dir=data_dir, log_path=log_path, _owned_root=owned_root
        )
        try:
            broker.start(ready_timeout)
        except BrokerError as error:
            last_error = error
            continue
        return broker
    if owned_root is not None:
        shutil.rmtree(owned_root, ignore_errors=True)
    assert last_error is not None
    raise last_error


@contextlib.contextmanager
def local_broker(
    *, port: int = 0, data_dir: Path | None = None, ready_timeout: float = _READY_TIMEOUT
) -> Iterator[LocalBroker]:
    """A broker for the duration of the block; stopped (and its temp dir removed) after."""
    broker = start_broker(port=port, data_dir=data_dir, ready_timeout=ready_timeout)
    try:
        yield broker
    finally:
        broker.close()
