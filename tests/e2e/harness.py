"""Serve the app on a free port as ``make run`` does and drive it with Playwright + Chromium.

Shared by the browser tests (tests/e2e) and the latency benchmark (benchmarks/).
Streamlit's own e2e suite follows the same pattern: start the server, wait on
``/_stcore/health``, then open a page.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1500, "height": 2200}


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` + ``/_stcore/health`` until it answers ok."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError as exc:
            last = exc
        time.sleep(0.25)
    raise TimeoutError(f"streamlit did not become healthy at {url}: {last}")


@contextlib.contextmanager
def streamlit_server(log_path: Path | None = None) -> Iterator[str]:
    """Run the app on a free localhost port; yields its base URL, stops it afterwards."""
    with streamlit_process(log_path) as (url, _proc):
        yield url


@contextlib.contextmanager
def streamlit_process(
    log_path: Path | None = None, root: Path = ROOT, *, serve: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Like ``streamlit_server`` but yields ``(url, process)``; ``root``: the checkout
    whose ``app.py`` (and library) to run (a benchmark's baseline may be another one).

    ``serve``: start it as ``make run`` does, ``python -m ui.serve`` (``streamlit run
    app.py`` with the training process started first); False, or a checkout without
    ``ui/serve.py`` (before round 10): plain ``streamlit run app.py``."""
    port = free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    if root != ROOT:
        env["PYTHONPATH"] = str(root)
    if serve and (root / "ui" / "serve.py").is_file():
        launch = ["-m", "ui.serve"]
    else:
        launch = ["-m", "streamlit", "run", str(root / "app.py")]
    cmd = [
        sys.executable,
        *launch,
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc=proc)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if log is not subprocess.DEVNULL:
            log.close()


@contextlib.contextmanager
def chromium_page(chromium: str) -> Iterator[Any]:
    """A Playwright page in headless Chromium with a tall viewport (light theme).

    Every console error (and Vega "Infinite extent" warning), uncaught page error, failed
    request, request to another host and HTTP error response is recorded in
    ``page_problems(page)``; the browser test fails on any of them.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
            page = context.new_page()
            page.set_default_timeout(60_000)
            _watch_problems(page)
            yield page
        finally:
            browser.close()


_PROBLEMS: dict[int, list[str]] = {}
#: A phone's browser (Chromium on Android): Streamlit closes the sidebar after a page is
#: picked only for a mobile user agent, not for a desktop window made narrow.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "user_agent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "is_mobile": True,
    "has_touch": True,
}


def phone_page(browser: Any) -> Any:
    """A new page in a fresh phone context of ``browser`` (no cookies, no storage), with
    the same problem watch as ``chromium_page``; close it with ``page.context.close()``."""
    page = browser.new_context(**PHONE).new_page()
    page.set_default_timeout(60_000)
    _watch_problems(page)
    return page


# A page's own address opened directly (F5 on /explore, a link to a page): Streamlit's
# frontend first asks whether the page path is the app's base path, and gets a 404 for it.
_BASE_PATH_PROBE = re.compile(r"^https?://[^/]+/[\w-]+/_stcore/(health|host-config)$")
_LOCAL = ("http://127.0.0.1:", "http://localhost:", "ws://127.0.0.1:", "data:", "blob:")


def _console(problems: list[str], message: Any) -> None:
    # errors, and Vega's "Infinite extent" warnings of a chart drawn with no data
    probe = _BASE_PATH_PROBE.search(str((message.location or {}).get("url", "")))
    if probe and message.text.startswith("Failed to load resource"):
        return
    if message.type == "error" or "Infinite extent" in message.text:
        problems.append(f"console {message.type}: {message.text}")


def _failed_request(problems: list[str], request: Any) -> None:
    # The browser cancels the app's own requests still in flight when the page navigates
    # or reloads (net::ERR_ABORTED, e.g. the page icon): nothing failed on the server.
    if request.url.startswith(_LOCAL) and "ERR_ABORTED" in str(request.failure):
        return
    problems.append(f"request failed: {request.url} ({request.failure})")


def _watch_problems(page: Any) -> None:
    problems = _PROBLEMS.setdefault(id(page), [])
    page.on("console", lambda m: _console(problems, m))
    page.on(
        "request",  # every asset is served by the app itself, even with a network
        lambda r: None if r.url.startswith(_LOCAL) else problems.append(f"outside: {r.url}"),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: _failed_request(problems, r))
    page.on(
        "response",
        lambda r: (
            None
            if r.status < 400 or _BASE_PATH_PROBE.search(r.url)
            else problems.append(f"HTTP {r.status}: {r.url}")
        ),
    )


def page_problems(page: Any) -> list[str]:
    """Console errors, page errors, failed requests and HTTP errors seen so far."""
    return list(_PROBLEMS.get(id(page), []))


# ------------------------------------------------------------------ user actions


_IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector(
            '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]');
}"""


def wait_idle(page: Any, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the current script run. The app's script state
    says so from the start: right after a (re)load it is "initial" until the first run
    has finished, where the status widget's running icon shows only after a while."""
    page.wait_for_timeout(200)
    page.wait_for_function(_IDLE, timeout=timeout)


def open_page(page: Any, title: str) -> None:
    """Click a page in the sidebar navigation."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    page.get_by_role("heading", name=title, exact=True).first.wait_for()
    wait_idle(page)


def upload_csv(page: Any, path: Path) -> None:
    """Upload a file through the Data page's file input."""
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_role("heading", name=path.name).first.wait_for(timeout=120_000)
    wait_idle(page)


def _widget(page: Any, testid: str, label: str) -> Any:
    return page.locator(f'[data-testid="{testid}"]').filter(has_text=label).first


def choose_option(page: Any, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label`` (typing to search)."""
    box = _widget(page, "stSelectbox", label)
    box.locator("input").click()
    box.locator("input").fill(option)
    page.get_by_role("option", name=option, exact=True).first.click()
    wait_idle(page)


def set_multiselect(page: Any, label: str, options: list[str]) -> None:
    """Replace the selection of the multiselect labelled ``label``."""
    box = _widget(page, "stMultiSelect", label)
    clear = box.locator('button[aria-label="Clear all"]')
    if clear.count() and clear.first.is_visible():
        clear.first.click()
        wait_idle(page)
    for option in options:
        box.locator("input").click()
        box.locator("input").fill(option)
        page.get_by_role("option", name=option, exact=True).first.click()
        wait_idle(page)
    page.keyboard.press("Escape")
    page.locator("h1").first.click()  # close the dropdown


def set_number(page: Any, label: str, value: float) -> None:
    """Type a value into the number input labelled ``label``."""
    box = _widget(page, "stNumberInput", label)
    field = box.locator("input")
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


def plot_point_count(page: Any, selector: str = ".js-plotly-plot") -> int:
    """Points drawn for the first trace of the first plotly chart on the page.

    Counts the SVG markers plotly rendered (what is on screen), and checks that plotly's
    own data for the trace has the same length.
    """
    page.wait_for_selector(f"{selector} .scatterlayer .trace .point", timeout=120_000)
    page.wait_for_function(
        f"""() => {{
            const gd = document.querySelector('{selector}');
            return gd && gd._fullData && gd._fullData.length > 0;
        }}""",
        timeout=120_000,
    )
    drawn, in_data = page.evaluate(
        f"""() => {{
            const gd = document.querySelector('{selector}');
            const trace = gd.querySelector('.scatterlayer .trace');
            return [trace.querySelectorAll('.point').length, gd._fullData[0].x.length];
        }}"""
    )
    assert drawn == in_data, f"{drawn} markers drawn but the trace has {in_data} points"
    return int(drawn)


def trace_length(page: Any, axis: str = "y", selector: str = ".js-plotly-plot") -> int:
    """Length of ``axis`` of the first trace of the first plotly chart (decoded)."""
    page.wait_for_function(
        f"() => {{ const gd = document.querySelector('{selector}');"
        " return gd && gd._fullData && gd._fullData.length > 0; }",
        timeout=120_000,
    )
    return int(
        page.evaluate(f"() => document.querySelector('{selector}')._fullData[0].{axis}.length")
    )


def distinct_colours(png_path: Path) -> int:
    """How many distinct colours a screenshot has (a blank page has one or two)."""
    from PIL import Image

    with Image.open(png_path) as image:
        small = image.convert("RGB").resize((300, 400))
        return len(set(small.get_flattened_data()))
