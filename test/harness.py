"""What the container and cluster tiers share: checks and the summary line they end with,
commands, waits, free ports and a browser-like JSON client. Standard library only, so each tier
runs with nothing installed:

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # test/
    from harness import Checks, Client, Fatal, free_port, run, wait_until
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, TypeVar

T = TypeVar("T")

# Set by a tier's --verbose: every command line and what it printed.
VERBOSE = False


class Fatal(Exception):
    """A failure after which the remaining checks cannot run."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def step(title: str) -> None:
    print(f"\n-- {title}", flush=True)


class Checks:
    """The tier's checks, printed as they are made, and the summary line the tier ends with:
    `<tier>: N passed, N failed`."""

    def __init__(self, tier: str) -> None:
        self.tier = tier
        self.results: list[tuple[str, bool, str]] = []

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, ok, detail))
        log(f"{'ok' if ok else 'FAILED'}: {name}{f' ({detail})' if detail else ''}")
        return ok

    @property
    def passed(self) -> int:
        return sum(ok for _, ok, _ in self.results)

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [(name, detail) for name, ok, detail in self.results if not ok]

    def summary(self, seconds: float | None = None) -> int:
        """Repeats the failures, prints the summary line and returns the tier's exit code."""
        for name, detail in self.failed:
            log(f"failed: {name}: {detail}")
        took = f" in {seconds:.0f}s" if seconds is not None else ""
        print(f"{self.tier}: {self.passed} passed, {len(self.failed)} failed{took}", flush=True)
        return 1 if self.failed else 0


def run(*args: str, check: bool = True, timeout: float = 900, capture: bool = True,
        stdin: str | None = None, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs a command; `check` raises Fatal with the end of its stderr when it fails. A command
    whose output is not captured is shown first, as is every command under VERBOSE."""
    if VERBOSE or not capture:
        log("$ " + " ".join(args))
    proc = subprocess.run(list(args), text=True, timeout=timeout, input=stdin, cwd=cwd, env=env,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None)
    if VERBOSE and capture and proc.stdout.strip():
        print(proc.stdout.rstrip(), flush=True)
    if check and proc.returncode != 0:
        raise Fatal(f"`{' '.join(args)}` exited {proc.returncode}: {(proc.stderr or proc.stdout or '').strip()[-3000:]}")
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, probe: Callable[[], bool], timeout: float = 120, every: float = 1) -> None:
    """Polls `probe` until it is true; Fatal naming `what` once `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(every)
    raise Fatal(f"timed out after {timeout:.0f}s waiting for {what}")


def retry(attempt: Callable[[], tuple[bool, T]], attempts: int = 30, delay: float = 2.0) -> tuple[bool, T | None]:
    """`attempt()` returns (ok, value); tried again while the app settles (pods restarting,
    DNS). Returns the last (ok, value)."""
    value = None
    for _ in range(attempts):
        ok, value = attempt()
        if ok:
            return True, value
        time.sleep(delay)
    return False, value


class Client:
    """JSON over HTTP as a page on `origin` sends it: the Origin header (Better Auth's CSRF
    check reads it) and a cookie jar. Paths are relative to `base`; full URLs go as they are."""

    def __init__(self, base: str, origin: str | None = None) -> None:
        self.base = base
        self.origin = (origin or base).rstrip("/")
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                timeout: float = 60) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        url = path if path.startswith(("http://", "https://")) else self.base + path
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Origin", self.origin)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.cookies:
            req.add_header("Cookie", self.cookie_header())
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw, got = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            status, raw, got = err.code, err.read(), err.headers
        for header in got.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


def http_status(url: str, timeout: float = 5) -> int:
    """The status `url` answers with, 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (the backend verifies; the tiers only read them)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
