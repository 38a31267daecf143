"""How long a user waits in the app, measured in a real browser (Chromium + Playwright).

Scenarios, each timed from the user's click to the projection chart on screen (the
Explore page's plotly scatter with all its points):

1. ``default_sample_first``: a fresh server, the default sample; the user opens Train
   and clicks Train right away (TensorFlow starts loading when the Train page opens,
   so nearly all of its import is on the clock).
2. ``default_sample_again``: the same, a second time (TensorFlow already loaded).
3. ``default_sample_first_after_5s_on_train_page``: another fresh server; the user
   spends ``--think-seconds`` on the Train page before clicking (TensorFlow loads
   meanwhile).
4. ``upload_100k`` (same server as 3): upload a 100,000-row CSV made from
   ``hotel_bookings`` (or ``diabetes_readmission``) in ../shared/data, accept the
   suggested roles, train. Timed from the file being handed to the file input; the
   time until the Data page says "Ready to train" is reported separately.

``server_cpu_s`` is the CPU time the Streamlit server used for a scenario: unlike wall
time it barely depends on what else runs on the machine (training uses both cores, so
on an idle 2-core machine the wall time is roughly ``server_cpu_s / 2`` or more).

Prints one JSON object (and writes it with ``--out``). Run from the repository root::

    .venv/bin/python benchmarks/app_latency.py --out benchmarks/results/app_latency.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.harness import (  # noqa: E402
    chromium_page,
    find_chromium,
    open_page,
    plot_point_count,
    streamlit_process,
    upload_csv,
    wait_idle,
)

SHARED = ROOT.parent / "shared" / "data"
TARGET_SECONDS = 15.0


def _make_csv(source: str, rows: int, out_dir: Path) -> Path:
    """First ``rows`` rows of a shared dataset as a plain CSV (strings kept as written)."""
    src = SHARED / f"{source}.csv.gz"
    if not src.exists():
        raise SystemExit(f"{src} not found: run from a checkout with ../shared/data beside it")
    out = out_dir / f"{source}_{rows // 1000}k.csv"
    with (
        gzip.open(src, "rt", encoding="utf-8", newline="") as fin,
        open(out, "w", encoding="utf-8", newline="") as fout,
    ):
        for i, line in enumerate(fin):
            if i > rows:
                break
            fout.write(line)
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _train_to_projection(page: Any, pid: int) -> dict[str, float]:
    """On the Train page: click Train, wait for the run, open Explore, wait for the map."""
    cpu0 = _cpu_seconds(pid)
    t0 = time.perf_counter()
    page.get_by_role("button", name="Train", exact=True).click()
    try:  # the progress block replaces the previous summary while training runs
        page.get_by_role("button", name="Stop").wait_for(timeout=15_000)
    except Exception:  # noqa: BLE001 - very fast runs may finish before we look
        pass
    page.get_by_role("heading", name="Last run").wait_for(timeout=600_000)
    t_trained = time.perf_counter() - t0
    open_page(page, "Explore")
    points = plot_point_count(page)
    t_plot = time.perf_counter() - t0
    return {
        "train_s": round(t_trained, 2),
        "to_projection_s": round(t_plot, 2),
        "server_cpu_s": round(_cpu_seconds(pid) - cpu0, 2),
        "points": points,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", default="hotel_bookings", choices=["hotel_bookings", "diabetes_readmission"]
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument(
        "--think-seconds",
        type=float,
        default=5.0,
        help="time a user spends on the Train page before clicking, in the second scenario",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("Chromium not found (apt-get install chromium)")
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_at_start": list(os.getloadavg()),
        "target_seconds_default_sample": TARGET_SECONDS,
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        csv = None if args.skip_upload else _make_csv(args.source, args.rows, tmp_dir)
        for think in (0.0, args.think_seconds):
            # a fresh server each time, so TensorFlow is not loaded yet
            with (
                streamlit_process(tmp_dir / f"server_{think:g}.log") as (url, proc),
                chromium_page(chromium) as page,
            ):
                pid = proc.pid
                t = time.perf_counter()
                page.goto(url)
                page.get_by_text("Ready to train").first.wait_for()
                wait_idle(page)
                ready_s = round(time.perf_counter() - t, 2)
                open_page(page, "Train")
                page.wait_for_timeout(think * 1000)
                if think == 0:
                    result["first_page_ready_s"] = ready_s
                    result["default_sample_first"] = _train_to_projection(page, pid)
                    open_page(page, "Train")
                    result["default_sample_again"] = _train_to_projection(page, pid)
                    continue
                result[f"default_sample_first_after_{think:g}s_on_train_page"] = (
                    _train_to_projection(page, pid)
                )
                if csv is None:
                    continue
                open_page(page, "Data")
                t = time.perf_counter()
                upload_csv(page, csv)
                page.get_by_role("button", name="Predict").click(timeout=300_000)  # confirm
                page.get_by_text("Ready to train").first.wait_for(timeout=300_000)
                ready = time.perf_counter() - t
                open_page(page, "Train")
                t_nav = time.perf_counter() - t
                timing = _train_to_projection(page, pid)
                result["upload_100k"] = {
                    "source": args.source,
                    "rows": args.rows,
                    "bytes": csv.stat().st_size,
                    "upload_to_ready_s": round(ready, 2),
                    **timing,
                    "upload_to_projection_s": round(t_nav + timing["to_projection_s"], 2),
                }
    result["load_average_at_end"] = list(os.getloadavg())
    result["default_sample_under_target"] = (
        result["default_sample_first"]["to_projection_s"] < TARGET_SECONDS
    )
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
