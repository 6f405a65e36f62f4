"""The test PostgreSQL server's processes, to freeze (SIGSTOP), resume and crash them the way a
hung host, a paused VM or an OOM kill would. Needs the server on this machine, running as a
user this process may signal (what `cargo xtask test` starts)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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
