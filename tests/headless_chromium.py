"""Debian's headless Chromium for the tests that check pages in a real browser.

``run_chromium`` runs one command-line job (``--dump-dom``, ``--screenshot``, a network log);
``Page`` drives one tab over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
messages ending in NUL on file descriptors 3 and 4, so no websocket library is needed) to load
a page that builds itself with JavaScript and to measure its layout with ``evaluate``.

CI needs Debian's chromium (`apt-get install -y chromium`); without it the tests that use the
``chromium`` fixture are skipped, saying so — except under ACTIONBENCH_REQUIRE_SERVICES=1
(.ci/run sets it), where a missing browser is a failure, so a green CI means the pages were
rendered.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("ACTIONBENCH_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("ACTIONBENCH_REQUIRE_SERVICES") == "1"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def require_chromium() -> None:
    """Skip (or, under ACTIONBENCH_REQUIRE_SERVICES=1, fail) when there is no Chromium."""
    if not CHROMIUM.is_file():
        reason = f"{CHROMIUM} not installed (Debian: apt-get install -y chromium)"
        if REQUIRED:
            pytest.fail(f"ACTIONBENCH_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    """One headless Chromium job with its own profile directory."""
    cmd = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


class Page:
    """One tab of a headless Chromium, driven over the DevTools protocol on a pipe."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # the browser reads commands on fd 3 and writes replies on fd 4: put the pipe ends there
        # for the child only (ours are restored right after the start)
        saved = {fd: _dup_if_open(fd) for fd in (3, 4)}
        a, b = os.dup(to_browser_r), os.dup(from_browser_w)
        os.dup2(a, 3)
        os.dup2(b, 4)
        os.close(a)
        os.close(b)
        self.log = (profile.parent / f"{profile.name}.log").open("w")
        try:
            self.proc = subprocess.Popen(
                [
                    str(CHROMIUM),
                    *FLAGS,
                    f"--user-data-dir={profile}",
                    f"--window-size={width},{height}",
                    "--remote-debugging-pipe",
                ],
                pass_fds=(3, 4),
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
        finally:
            for fd, old in saved.items():
                if old is None:
                    os.close(fd)
                else:
                    os.dup2(old, fd)
                    os.close(old)
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._out = os.fdopen(to_browser_w, "wb", buffering=0)
        self._in = os.fdopen(from_browser_r, "rb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._out.write(json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = self._in.read(1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium closed the DevTools pipe (log: {self.log.name})")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def goto(self, url: str) -> None:
        self._send("Page.navigate", {"url": url}, self._session)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        reply = self._send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, self._session
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:80]}...: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        """The first truthy value of ``expression``, polled until ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"after {timeout:.0f} s still false: {expression[:200]}")
            time.sleep(0.25)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError):
            self._send("Browser.close")
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        self._in.close()
        self.log.close()


def _dup_if_open(fd: int) -> int | None:
    try:
        return os.dup(fd)
    except OSError:
        return None
