"""The report in a real browser: headless Chromium (Debian's ``chromium``;
``.ci/run`` installs it when missing).

Chromium is driven over the DevTools protocol through a pipe
(``--remote-debugging-pipe``: NUL-separated JSON on file descriptors 3 and
4), so no port, websocket library or network is involved. The harness
collects console errors (``console.error``, uncaught exceptions, and the
browser's own log errors such as Content-Security-Policy violations),
checks every image's ``naturalWidth`` after decoding, and takes a 1280 px
wide full-page screenshot. A deliberately broken page proves that it
notices a broken image, a console error and an exception.

Without Chromium these tests fail and say how to install it; set
``SEQBENCH_SKIP_BROWSER=1`` to skip them instead (for machines where it
cannot be installed).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from test_report import ESCAPE_LABEL, ERROR_MARKUP, tiny_report

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WIDTH = 1280
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe"]


def _chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("SEQBENCH_SKIP_BROWSER") == "1":
        pytest.skip("SEQBENCH_SKIP_BROWSER=1: the report's browser checks are skipped on request")
    pytest.fail("Chromium is needed to check the HTML report: install it with "
                "`sudo apt-get install -y --no-install-recommends chromium` (Debian/Ubuntu; .ci/run does this), "
                "point $CHROMIUM at a chromium binary, or set SEQBENCH_SKIP_BROWSER=1 to skip these tests",
                pytrace=False)


class DevTools:
    """A headless Chromium and one page, driven over the DevTools pipe."""

    def __init__(self, binary: str, profile: Path):
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        args = " ".join(shlex.quote(a) for a in [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"])
        # bash moves the pipe ends to the descriptors Chromium expects (3: commands in, 4: messages out)
        self._log = open(profile / "chromium.log", "w+b")
        self.proc = subprocess.Popen(
            ["bash", "-c", f"exec {args} 3<&{to_chrome_r} 4>&{from_chrome_w}"],
            pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._out = os.fdopen(to_chrome_w, "wb", buffering=0)
        self._in = os.fdopen(from_chrome_r, "rb", buffering=0)
        self._messages: queue.Queue = queue.Queue()
        self.events: list = []
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = self._in.read(65536)
            if not chunk:
                self._messages.put(None)
                return
            buffer += chunk
            while b"\0" in buffer:
                message, buffer = buffer.split(b"\0", 1)
                self._messages.put(json.loads(message))

    def _next(self, deadline: float, waiting_for: str) -> dict:
        """The next message from Chromium; a clear error if it exits or stays silent."""
        try:
            message = self._messages.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            message = "timeout"
        if message is None or message == "timeout":
            self._log.seek(0)
            tail = self._log.read().decode(errors="replace")[-2000:]
            what = "closed the DevTools pipe" if message is None else "did not answer in time"
            raise RuntimeError(f"Chromium {what} while waiting for {waiting_for}; its output:\n{tail}")
        return message

    def call(self, method: str, params: dict | None = None, *, session: bool = False, timeout: float = 30.0):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._next(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._next(deadline, method)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._messages.get(timeout=left)
            except queue.Empty:
                return
            if event is None:
                return
            self.events.append(event)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()
        self._in.close()
        self._log.close()


_IMAGES_JS = """
Promise.all(Array.from(document.images).map(img => img.decode().then(() => null, err => String(err))))
  .then(() => Array.from(document.images).map(img => ({
      alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
      scheme: img.src.split(':')[0]})))
"""


def console_errors(events: list) -> list[str]:
    """Console errors, uncaught exceptions and error-level browser log entries."""
    out = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append("console." + params["type"] + ": " + " ".join(str(a.get("value", a.get("description")))
                                                                   for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            out.append("exception: " + str(details.get("exception", {}).get("description") or details.get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            out.append("log: " + params["entry"].get("text", ""))
    return out


def inspect_page(path: Path, screenshot: Path | None = None) -> dict:
    """Open ``path`` at 1280 px width; return its images, console errors,
    dialogs, visible text and (optionally) save a full-page screenshot."""
    binary = _chromium()
    with tempfile.TemporaryDirectory(prefix="seqbench-chromium-") as profile:
        browser = DevTools(binary, Path(profile))
        try:
            browser.call("Emulation.setDeviceMetricsOverride",
                         {"width": WIDTH, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=True)
            browser.call("Page.navigate", {"url": path.resolve().as_uri()}, session=True)
            browser.wait_for("Page.loadEventFired")
            images = browser.evaluate(_IMAGES_JS)
            text = browser.evaluate("document.body ? document.body.innerText : ''")
            sections = browser.evaluate("Array.from(document.querySelectorAll('main > section > h2'))"
                                        ".map(h => h.textContent)")
            scripts = browser.evaluate("document.scripts.length")
            browser.drain(0.3)
            if screenshot is not None:
                height = browser.call("Page.getLayoutMetrics", session=True)["cssContentSize"]["height"]
                shot = browser.call("Page.captureScreenshot", {
                    "format": "png", "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": WIDTH, "height": min(height, 30000), "scale": 1}},
                    session=True, timeout=60)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            browser.close()
    return {
        "images": images, "text": text, "sections": sections, "scripts": scripts,
        "errors": console_errors(browser.events),
        "dialogs": [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"],
    }


# --------------------------------------------------------------------- tests
BROKEN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>
<img id="good" alt="good" src="data:image/png;base64,{good}">
<img id="bad" alt="bad" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB">
<script>console.error("deliberate console error");</script>
<script>throw new Error("deliberate exception");</script>
</body></html>"""


def _one_pixel_png() -> str:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), "red").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_harness_detects_broken_image_console_error_and_exception(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(BROKEN_PAGE.format(good=_one_pixel_png()))
    seen = inspect_page(page)
    widths = {img["alt"]: img["width"] for img in seen["images"]}
    assert widths == {"good": 3, "bad": 0}
    assert any("deliberate console error" in e for e in seen["errors"]), seen["errors"]
    assert any("deliberate exception" in e for e in seen["errors"]), seen["errors"]


def test_report_renders_in_chromium_with_every_section():
    report = tiny_report()
    shot = ARTIFACTS / "report-1280.png"
    seen = inspect_page(report.out / "index.html", screenshot=shot)
    assert seen["errors"] == []
    assert seen["dialogs"] == []
    assert seen["scripts"] == 0
    assert len(seen["images"]) >= 8
    broken = [img for img in seen["images"] if not (img["complete"] and img["width"] > 0 and img["height"] > 0)]
    assert broken == []
    assert {img["scheme"] for img in seen["images"]} == {"data"}  # embedded: nothing to fetch
    assert seen["sections"] == [
        "This run", "Which family wins where", "Leaderboards", "Tuning", "Across datasets", "Score against cost",
        "Learning curves", "Forecasts against the truth", "Confusion matrices", "Distance to the oracle",
        "Failed jobs", "Environment",
    ]
    # names from the suite and error messages show as text, not markup
    assert ESCAPE_LABEL in seen["text"]
    assert ERROR_MARKUP in seen["text"]
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size[0] == WIDTH and image.size[1] > 2000
