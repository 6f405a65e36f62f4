"""The test PostgreSQL server's processes, to freeze (SIGSTOP), resume and crash them the way a
hung host, a paused VM or an OOM kill would, and servers of a test's own to restart. Needs the
server on this machine, running as a user this process may signal (what `cargo xtask test`
starts)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import asyncpg
import pytest

from tests.support.database import _asyncpg_dsn


def _parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


class PostgresServer:
    """The postmaster and its children, found from a backend's process id."""

    def __init__(self, postmaster: int) -> None:
        self.postmaster = postmaster

    @classmethod
    async def of(cls, database_url: str) -> PostgresServer:
        connection = await asyncpg.connect(_asyncpg_dsn(database_url))
        try:
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            try:
                server = cls(_parent_of(backend))
                os.kill(server.postmaster, 0)
            except (OSError, ValueError) as exc:
                pytest.skip(
                    f"cannot signal the PostgreSQL server ({exc}): these tests need it on this "
                    "machine, as `cargo xtask test` starts it"
                )
        finally:
            await connection.close()
        return server

    def processes(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if _parent_of(int(entry.name)) == self.postmaster:
                        children.append(int(entry.name))
                except (OSError, ValueError):
                    continue  # exited meanwhile
        return [self.postmaster, *children]

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Every server process stopped: connections stay open, nothing answers."""
        stopped = []
        try:
            for pid in self.processes():
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    continue  # a backend that was just ending
                stopped.append(pid)
            yield
        finally:
            for pid in stopped:
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def crash_backend(self, backend: int) -> None:
        """A backend killed outright: the postmaster ends every connection, recovers and starts
        accepting connections again, as after a crash (its `restart_after_crash`)."""
        assert _parent_of(backend) == self.postmaster
        os.kill(backend, signal.SIGKILL)


class OwnServer:
    """A PostgreSQL server of one test's own, from the binaries the shared test server runs, so
    the test can shut it down and start it again on the same port and data (a restart, an
    upgrade, a rescheduled pod) without taking the shared server from the other tests."""

    def __init__(self, shared: PostgresServer, directory: Path) -> None:
        self.bin = Path(f"/proc/{shared.postmaster}/exe").resolve().parent
        status = os.stat(f"/proc/{shared.postmaster}")
        # initdb and postgres refuse to run as root: run them as the shared server's user.
        self._as = {"user": status.st_uid, "group": status.st_gid, "extra_groups": []}
        if os.geteuid() != 0:
            self._as = {}
        self.directory = directory
        self.data = directory / "data"
        self._log = directory / "postgres.log"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._process: asyncio.subprocess.Process | None = None

    def init(self) -> None:
        if self._as:
            os.chown(self.directory, self._as["user"], self._as["group"])
        subprocess.run(
            [self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync"],
            check=True, capture_output=True, cwd="/", **self._as,
        )  # fmt: skip

    async def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                self.bin / "postgres", "-D", self.data, "-p", str(self.port),
                "-k", self.directory, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd="/", **self._as,
            )  # fmt: skip
        for _ in range(300):
            if self._process.returncode is not None:
                raise RuntimeError(f"postgres exited at start; see {self._log}")
            with suppress(OSError, asyncpg.PostgresError):
                connection = await asyncpg.connect(_asyncpg_dsn(self.url), timeout=1)
                await connection.close()
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections within 30 s; see {self._log}")

    async def stop(self) -> None:
        """PostgreSQL's fast shutdown (SIGINT): clients are disconnected, the server stops."""
        process, self._process = self._process, None
        if process is not None:
            process.send_signal(signal.SIGINT)
            async with asyncio.timeout(30):
                await process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def own_server(shared_database_url: str) -> AsyncIterator[OwnServer]:
    """A running OwnServer, stopped and removed when the block ends."""
    shared = await PostgresServer.of(shared_database_url)
    with tempfile.TemporaryDirectory(prefix="todo-test-postgres-") as directory:
        server = OwnServer(shared, Path(directory))
        await asyncio.to_thread(server.init)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
