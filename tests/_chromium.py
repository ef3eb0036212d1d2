"""A small headless-Chromium driver over the DevTools protocol on a pipe (no extra package).

``chromium --remote-debugging-pipe`` reads CDP commands from fd 3 and writes answers and events
to fd 4, NUL-separated JSON. :func:`open_page` loads one page at a viewport and reports what
a test needs: console errors and uncaught exceptions, every network request, values read by
a JavaScript expression, and a full-page screenshot.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TIMEOUT = 60.0  # seconds for any one answer: generous for a busy CI machine


def chromium() -> str | None:
    """The Chromium executable (Debian's ``chromium`` package), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageRun:
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, log errors
    requests: list[str] = field(default_factory=list)  # every URL requested but the page's own
    value: Any = None  # the expression's result
    screenshot: bytes = b""


class _Pipe:
    def __init__(self, process: subprocess.Popen[bytes], write_fd: int, read_fd: int) -> None:
        self.process, self._write, self._read = process, write_fd, read_fd
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._answers: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._next = 0
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._read, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message and message["id"] in self._answers:
                    self._answers[message["id"]].put(message)
                else:
                    self.events.put(message)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next += 1
        answer: queue.Queue[dict[str, Any]] = queue.Queue()
        self._answers[self._next] = answer
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        reply = answer.get(timeout=TIMEOUT)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result


def open_page(path: Path, *, width: int, height: int, expression: str) -> PageRun:
    """Load ``path`` at a ``width`` x ``height`` viewport; evaluate ``expression``; screenshot."""
    exe = chromium()
    assert exe is not None
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="xf-chromium-")
    args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--disable-default-apps", "--mute-audio",
            "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]  # fmt: skip

    def fds() -> None:  # the child's fd 3 reads our commands, fd 4 writes its answers
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)  # out of 3/4's way first
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
        os.dup2(high_r, 3)  # dup2 makes them inheritable across exec
        os.dup2(high_w, 4)

    process = subprocess.Popen(
        args,
        close_fds=False,  # fds 3 and 4; Python's own fds are close-on-exec anyway
        preexec_fn=fds,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(to_browser_r)
    os.close(from_browser_w)
    pipe = _Pipe(process, to_browser_w, from_browser_r)
    try:
        return _drive(pipe, path, width, height, expression)
    finally:
        process.kill()
        process.wait(timeout=30)
        os.close(to_browser_w)
        os.close(from_browser_r)
        shutil.rmtree(profile, ignore_errors=True)


def _drive(pipe: _Pipe, path: Path, width: int, height: int, expression: str) -> PageRun:
    target = pipe.call("Target.createTarget", url="about:blank")["targetId"]
    session = pipe.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Network", "Log"):
        pipe.call(f"{domain}.enable", session)
    pipe.call(
        "Emulation.setDeviceMetricsOverride",
        session,
        width=width,
        height=height,
        deviceScaleFactor=1,
        mobile=width < 600,
    )
    url = path.resolve().as_uri()
    pipe.call("Page.navigate", session, url=url)
    run = PageRun()
    while True:  # until the page's load event; collect what happens on the way
        event = pipe.events.get(timeout=TIMEOUT)
        _note(run, event, url)
        if event.get("method") == "Page.loadEventFired":
            break
    result = pipe.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
    run.value = result.get("result", {}).get("value")
    shot = pipe.call("Page.captureScreenshot", session, format="png", captureBeyondViewport=True)
    run.screenshot = base64.b64decode(shot["data"])
    while not pipe.events.empty():  # anything that arrived after the load
        _note(run, pipe.events.get_nowait(), url)
    return run


def _note(run: PageRun, event: dict[str, Any], url: str) -> None:
    method, params = event.get("method"), event.get("params", {})
    if method == "Network.requestWillBeSent" and params["request"]["url"] != url:
        run.requests.append(params["request"]["url"])
    elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        run.errors.append(f"console: {params.get('args')}")
    elif method == "Runtime.exceptionThrown":
        run.errors.append(f"exception: {params.get('exceptionDetails')}")
    elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
        run.errors.append(f"log: {params['entry'].get('text')}")
