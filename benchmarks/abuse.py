"""Hostile uploads against a running app: peak server memory and page loads meanwhile.

Starts ``streamlit run app.py`` (the shipped ``.streamlit/config.toml`` limits), then, in
a real Chromium, uploads one file at a time and waits for the app's answer (the data
preview, or its one-line refusal). While each upload is processed it samples the
server's RSS (process and children, every 0.1 s) and keeps opening the app in a fresh
browser context, timing each page load until the Data page's heading shows.

Goals (issue "Hardening"): peak RSS under 2 GB above idle for any single upload within
the limits, and page loads under 3 s throughout. Idle figures (RSS once the warm-ups have
settled: the training process's TensorFlow import, the server's own, which comes ~30 s
after the first page when nobody trains, and UMAP's; median of three page loads) are
measured first in the same run: on a loaded machine compare page loads with that
baseline.

    .venv/bin/python benchmarks/abuse.py --out benchmarks/results/abuse.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (  # noqa: E402
    CHROMIUM_ARGS,
    VIEWPORT,
    find_chromium,
    streamlit_process,
    wait_idle,
)

GOAL_RSS_MB = 2000.0
GOAL_PAGE_SECONDS = 3.0


def make_inputs(folder: Path, big_rows: int) -> list[tuple[str, Path, bool]]:
    """``(description, path, within_limits)`` for every hostile input."""
    out: list[tuple[str, Path, bool]] = []
    wide = folder / "empty_header_fields.csv"
    wide.write_bytes(b"," * 10_000_000 + b"\n")
    out.append(("10 MB line of 10M empty header fields", wide, False))

    bomb = folder / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"a,b\n" + b"x,1\n" * 49_000_000, 9))
    out.append(("gzip of 190 kB inflating to 196 MB, 49M rows", bomb, False))

    many = folder / "columns_200k.csv"
    many.write_text(",".join(f"c{i}" for i in range(200_000)) + "\n" + ",".join("1" * 200_000))
    out.append(("200k columns, one row", many, False))

    rng = np.random.default_rng(0)
    big = folder / "big_within_limits.csv"
    with big.open("w") as fh:
        fh.write("shop,city,product,channel,amount,bought\n")
        for start in range(0, big_rows, 200_000):
            n = min(200_000, big_rows - start)
            shops = rng.integers(0, 5_000, n)
            cities = rng.integers(0, 300, n)
            products = rng.integers(0, 20_000, n)
            channels = rng.integers(0, 5, n)
            amounts = rng.gamma(2.0, 30.0, n).round(2)
            bought = rng.integers(0, 2, n)
            fh.writelines(
                f"s{a},c{b},p{c},ch{d},{e},{f}\n"
                for a, b, c, d, e, f in zip(
                    shops, cities, products, channels, amounts, bought, strict=True
                )
            )
    out.append((f"{big_rows:,} rows x 6 columns ({big.stat().st_size / 1e6:.0f} MB)", big, True))
    return out


class RssSampler:
    """Peak memory of a process and its children, sampled every 0.1 s in a thread."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def now_mb(self) -> float:
        """RSS of the server and its child processes (the upload reader's workers).

        A child that is not yet running its own program (between ``fork`` and ``exec``:
        its command line is still the server's) shares the server's pages and shows the
        server's whole RSS as its own; it is left out, or the server would count twice.
        """
        import psutil

        try:
            total = self.process.memory_info().rss
            own = self.process.cmdline()
        except psutil.Error:
            return 0.0
        for child in self.process.children(recursive=True):
            try:
                if child.cmdline() != own:
                    total += child.memory_info().rss
            except psutil.Error:
                pass
        return total / 1e6

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now_mb())
            time.sleep(0.1)

    def __enter__(self) -> RssSampler:
        self.peak = self.now_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


#: With the training process on, the server imports TensorFlow itself ~30 s after the
#: first page when nobody trains (``ui.training._IDLE_S``), then compiles UMAP once 10 s
#: pass without a job: this covers both, with a margin.
SERVER_WARM_UP_WAIT_S = 70.0


def settled_rss(sampler: RssSampler, floor_mb: float = 600.0, timeout: float = 240.0) -> float:
    """RSS once TensorFlow's warm-up import is in (above ``floor_mb``) and steady for 15 s."""
    history = [sampler.now_mb()]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        time.sleep(5)
        history.append(sampler.now_mb())
        recent = history[-4:]
        if len(recent) == 4 and recent[-1] > floor_mb and max(recent) - min(recent) < 20:
            break
    return history[-1]


def page_load_seconds(browser: Any, url: str) -> float:
    """Seconds from opening the app in a fresh context to the Data page's heading."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, timeout=120_000)
        page.get_by_role("heading", name="Data", exact=True).first.wait_for(timeout=120_000)
        return time.perf_counter() - started
    finally:
        context.close()


def upload_and_wait(browser: Any, url: str, path: Path, timeout: float) -> dict[str, Any]:
    """Upload ``path`` and time page loads until the app answers (preview or refusal)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("heading", name="Data", exact=True).first.wait_for()
    wait_idle(page)
    started = time.perf_counter()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    loads: list[float] = []
    answer, message = "timeout", ""
    while time.perf_counter() - started < timeout:
        refusal = page.get_by_text("Could not use")
        if refusal.count():
            answer, message = "refused", refusal.first.inner_text()[:300]
            break
        if page.get_by_role("heading", name=path.name).count():
            answer = "read"
            break
        loads.append(page_load_seconds(browser, url))
    seconds = time.perf_counter() - started
    context.close()
    return {"answer": answer, "message": message, "seconds": seconds, "page_loads": loads}


def _load_average() -> list[float]:
    """1, 5 and 15 minute load averages (the machine's other work, in runnable processes)."""
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--big-rows", type=int, default=1_900_000)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        sys.exit("chromium not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_at_start": _load_average(),
        "goals": {"peak_rss_above_idle_mb": GOAL_RSS_MB, "page_load_seconds": GOAL_PAGE_SECONDS},
        "inputs": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp), args.big_rows)
        with streamlit_process() as (url, proc), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            warm = browser.new_context(viewport=VIEWPORT).new_page()
            warm.goto(url)  # a finished first run starts the TensorFlow warm-up import
            warm.get_by_role("heading", name="Data", exact=True).first.wait_for()
            wait_idle(warm)
            warm.wait_for_timeout(5_000)
            warm.context.close()
            # the server's own TensorFlow import waits for a training or ~30 s, and the
            # UMAP warm-up 10 s more after it (the training process imported at once):
            # idle is after all three
            time.sleep(SERVER_WARM_UP_WAIT_S)
            idle = settled_rss(RssSampler(proc.pid))
            baseline = [page_load_seconds(browser, url) for _ in range(3)]
            results["idle_rss_mb"] = round(idle, 1)
            results["idle_page_load_seconds"] = round(float(np.median(baseline)), 2)
            for description, path, within in inputs:
                load_before = _load_average()
                with RssSampler(proc.pid) as sampler:
                    outcome = upload_and_wait(browser, url, path, args.timeout)
                    after = sampler.now_mb()
                loads = outcome.pop("page_loads")
                row = {
                    "input": description,
                    "file_mb": round(path.stat().st_size / 1e6, 2),
                    "within_limits": within,
                    **outcome,
                    "seconds": round(outcome["seconds"], 2),
                    "peak_rss_above_idle_mb": round(sampler.peak - idle, 1),
                    "rss_after_mb": round(after, 1),
                    "page_loads": len(loads),
                    "max_page_load_seconds": round(max(loads), 2) if loads else None,
                    "load_average_before": load_before,
                }
                results["inputs"].append(row)
                print(json.dumps(row), flush=True)
            browser.close()
    results["load_average_at_end"] = _load_average()
    worst_rss = max(r["peak_rss_above_idle_mb"] for r in results["inputs"])
    worst_load = max((r["max_page_load_seconds"] or 0.0) for r in results["inputs"])
    results["worst_peak_rss_above_idle_mb"] = worst_rss
    results["worst_page_load_seconds"] = worst_load
    results["worst_page_load_vs_idle"] = round(worst_load / results["idle_page_load_seconds"], 2)
    results["meets_goals"] = worst_rss < GOAL_RSS_MB and worst_load < GOAL_PAGE_SECONDS
    print(json.dumps({k: v for k, v in results.items() if k != "inputs"}, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
