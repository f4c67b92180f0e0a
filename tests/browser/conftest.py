"""Browser tests: the real server with the demo loaded, driven through Debian's Chromium by Playwright.

Everything here is session-scoped, because loading the demo and starting gunicorn take about twenty
seconds: every browser test of a pytest process shares one server, one data folder and one browser. Mark a
browser test module with ``pytestmark = BROWSER`` (from ``.harness``), which also keeps its tests on one
xdist worker (``--dist loadgroup``), so that the server starts once per run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright

from .harness import BUILD_DIR, DESKTOP, DemoServer, parse_logins

SERVER_START_SECONDS = 90


def free_port() -> int:
    """A TCP port nothing listens on now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(data_dir: Path) -> dict[str, str]:
    """The environment of the demo and the server: a fresh data folder, always SQLite, production settings."""
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DEBUG"}}
    environment.update(FOURFOLD_DATA_DIR=str(data_dir), SECRET_KEY="browser-tests-only", LOG_LEVEL="WARNING")
    return environment


def wait_until_answering(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``url`` until it answers, failing with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"fourfold serve exited with code {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    pytest.fail(f"fourfold serve did not answer {url} within {SERVER_START_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``fourfold demo`` into a fresh data folder, then ``fourfold serve`` on a free port, stopped at the end."""
    if not (BUILD_DIR / "app.css").exists():
        pytest.fail("The front end is not built: run `npm ci && npm run build` (./run does it).")
    data_dir = tmp_path_factory.mktemp("fourfold-data")
    environment = server_environment(data_dir)
    command = [sys.executable, "-m", "fourfold.cli"]
    demo = subprocess.run([*command, "demo"], env=environment, capture_output=True, text=True, timeout=300)
    if demo.returncode != 0:
        pytest.fail(f"fourfold demo failed ({demo.returncode}):\n{demo.stdout[-2000:]}\n{demo.stderr[-3000:]}")
    port = free_port()
    log = data_dir / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port), "--workers", "2"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{url}/accounts/login/", server, log)
        yield DemoServer(url=url, logins=parse_logins(demo.stdout), log=log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (Playwright downloads no browser here), headless, for the whole session."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "Chromium is missing: install Debian's package with `apt-get install chromium` "
            "(./run test does it when run as root)."
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield launched
        launched.close()


@pytest.fixture
def script_errors() -> list[str]:
    """Errors the page reported: uncaught exceptions, console errors, and failed loads of anything but the
    page itself (a test may well open a 404 or get a form back with status 400). The ``page`` fixture fails
    the test if any remain at its end; a test that provokes one on purpose clears the list."""
    return []


def _console_error(message: ConsoleMessage) -> str | None:
    """A console error worth failing for; the browser's own "Failed to load resource" lines are left to
    the response listener, which can tell the page from what it loads."""
    if message.type != "error" or message.text.startswith("Failed to load resource"):
        return None
    return message.text


def _failed_load(response: Response) -> str | None:
    if response.status < 400 or response.request.resource_type == "document":
        return None
    return f"{response.request.method} {response.url} answered {response.status}"


@pytest.fixture
def page(browser: Browser, demo_server: DemoServer, script_errors: list[str]) -> Iterator[Page]:
    """A fresh desktop-sized tab (its own cookies) on the demo server."""
    context = browser.new_context(base_url=demo_server.url, viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("pageerror", lambda error: script_errors.append(str(error)))
    tab.on("console", lambda message: script_errors.extend(filter(None, [_console_error(message)])))
    tab.on("response", lambda response: script_errors.extend(filter(None, [_failed_load(response)])))
    yield tab
    context.close()
    assert script_errors == [], f"the page reported script errors: {script_errors}"
