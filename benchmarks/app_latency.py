"""How long a user waits in the app, measured in a real browser (Chromium + Playwright).

Scenarios, each timed from the user's click to the projection chart on screen (the
Explore page's plotly scatter with all its points):

1. ``default_sample_first``: a fresh server, the default sample; the user opens the
   app as soon as the server answers, then Train, and clicks Train right away (the
   training process imports TensorFlow from the server's start; in a checkout before
   round 11 served with plain ``streamlit run``, from the session's opening: part of it
   is on the clock).
2. ``default_sample_again``: the same, a second time (TensorFlow already loaded).
3. ``default_sample_first_after_5s_on_train_page``: another fresh server; the user
   spends ``--think-seconds`` on the Train page before clicking (TensorFlow loads
   meanwhile).
4. ``upload_100k`` (same server as 3): upload a 100,000-row CSV made from
   ``hotel_bookings`` (or ``diabetes_readmission``) in ../shared/data, accept the
   suggested roles, train. Timed from the file being handed to the file input; the
   time until the Data page says "Ready to train" is reported separately.

``server_cpu_s`` is the CPU time the Streamlit server used for a scenario, its worker
processes (the training process) included: unlike wall time it barely depends on what
else runs on the machine (training uses both cores, so on an idle 2-core machine the
wall time is roughly ``server_cpu_s / 2`` or more).
``browser_cpu_s`` is Chromium's, which shares the machine here. Each default-sample
scenario also reports its ``steps`` (click -> ``started`` -> ``trained`` ->
``projection``, wall and CPU seconds each), the run's own ``fit_s``/``refit_s`` (each
server has a run store of its own) and ``prepared_ahead`` (whether the training started
from the set-up the training process made before the click, ``model.prepare``).

Prints one JSON object (and writes it with ``--out``). Run from the repository root::

    .venv/bin/python benchmarks/app_latency.py --out benchmarks/results/app_latency.json

Before/after within one run: ``--baseline-root DIR`` (another checkout, e.g.
``git worktree add /tmp/base main``) runs the same scenarios on that checkout's app,
alternated with this one's, ``--repeats`` rounds each; ``compare`` holds each repeat's
figures and their medians::

    .venv/bin/python benchmarks/app_latency.py --skip-upload --baseline-root /tmp/base \
        --repeats 2 --out benchmarks/results/app_latency_cold_start.json

Each server starts as ``make run`` starts it, ``python -m ui.serve`` (the training
process first, then ``streamlit run app.py``; a checkout without ``ui/serve.py`` with
plain ``streamlit run``). ``--plain-streamlit baseline`` serves the baseline with plain
``streamlit run app.py`` (``--baseline-root .`` then compares the two ways of serving
this checkout), ``--plain-streamlit all`` every server. ``server_up_s``: from the
launch to the server's health check answering (the first scenario's server).

``--big-upload ROWS`` runs one scenario instead, on a fresh server: a CSV of ROWS rows x
20 categorical fields from ``benchmarks/scale.py``'s generator (4 fields with 100,000
categories...), uploaded, its target confirmed, all 20 fields chosen, trained with the
defaults, timed from the upload to the projection on Explore; the server's peak RSS
(its worker processes included) is sampled during the upload and during training, and
the Data page is opened once while training runs (how long it takes to draw)::

    .venv/bin/python benchmarks/app_latency.py --big-upload 1000000 --out /tmp/big.json
"""

from __future__ import annotations

import argparse
import contextlib
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
TARGET_SECONDS = 12.0


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


class _PeakRss:
    """Samples the RSS of a process and its children in a thread; ``peak_mb`` so far."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        import threading

        import psutil

        self.proc, self.every, self.peak = psutil.Process(pid), every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(self.every):
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                rss = 0
                for proc in procs:
                    with contextlib.suppress(psutil.Error):
                        rss += proc.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)

    @property
    def peak_mb(self) -> int:
        return round(self.peak / 2**20)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _write_scale_csv(rows: int, out_dir: Path) -> Path:
    """``rows`` rows of ``benchmarks/scale.py``'s generator as a CSV, 200k rows at a time."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from scale import generate

    out = out_dir / f"scale_{rows // 1000}k.csv"
    for i, start in enumerate(range(0, rows, 200_000)):
        chunk = generate(min(200_000, rows - start), seed=1000 + i)
        chunk.to_csv(out, mode="a" if i else "w", header=i == 0, index=False)
    return out


def _server_cpu(proc: Any) -> float:
    """CPU seconds of the server so far: its finished workers (the CSV reader) and its
    running ones (the training process, which trains and imports TensorFlow) included."""
    times = proc.cpu_times()
    total = times.user + times.system + times.children_user + times.children_system
    for child in proc.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except Exception:  # noqa: BLE001 - a worker that just ended is counted above
            continue
        total += child_times.user + child_times.system
    return float(total)


def _big_upload(chromium: str, rows: int, tmp_dir: Path) -> dict[str, Any]:
    """Upload a ``rows`` x 20-field CSV, train on all fields, time it and sample RSS.

    Each phase is timed in the browser (wall seconds from the upload) and in the server's
    CPU seconds (which depend less on what else runs on the machine). The user's path:
    confirm the suggested target, then clear the suggested inputs and pick the 20 fields
    one click at a time (harder than keeping the suggestion, which here holds the same
    20 fields; it shows what each click costs), train with the defaults, open Explore.
    """
    from tests.e2e.harness import set_multiselect

    csv = _write_scale_csv(rows, tmp_dir)
    fields = [f"f{i:02d}" for i in range(20)]
    runs_dir = tmp_dir / "runs"  # a store of its own: the run's timings are read back
    os.environ["EMBEDDING_CORE_RUNS"] = str(runs_dir)
    marks: dict[str, tuple[float, float]] = {}
    with (
        streamlit_process(tmp_dir / "server_big.log") as (url, proc),
        chromium_page(chromium) as page,
    ):
        page.goto(url)
        page.get_by_text("Ready to train").first.wait_for()
        wait_idle(page)
        rss = _PeakRss(proc.pid)
        server = rss.proc

        def mark(name: str) -> None:
            marks[name] = (time.perf_counter(), _server_cpu(server))

        idle_mb = round(sum(p.memory_info().rss for p in [rss.proc]) / 2**20)
        mark("start")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv))
        page.get_by_role("heading", name=csv.name).first.wait_for(timeout=900_000)
        wait_idle(page, timeout=900_000)
        mark("loaded")
        page.get_by_role("button", name="Predict").click(timeout=300_000)  # confirm target
        wait_idle(page, timeout=300_000)
        mark("target_confirmed")
        set_multiselect(page, "Categorical", fields)
        page.get_by_text("Ready to train").first.wait_for(timeout=300_000)
        mark("ready")
        upload_peak_mb = rss.peak_mb
        open_page(page, "Train")
        mark("train_page")
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_role("button", name="Stop").wait_for(timeout=60_000)
        page.wait_for_timeout(5_000)  # training is under way
        t_nav = time.perf_counter()
        open_page(page, "Data")
        data_page_s = time.perf_counter() - t_nav
        open_page(page, "Train")
        page.get_by_role("heading", name="Last run").wait_for(timeout=1_800_000)
        mark("trained")
        open_page(page, "Explore")
        points = plot_point_count(page)
        mark("projection")
        rss.stop()
    metrics = _newest_metrics(runs_dir)
    t0, cpu0 = marks["start"]
    phases = list(marks)
    result: dict[str, Any] = {
        "rows": rows,
        "fields": len(fields),
        "bytes": csv.stat().st_size,
        "server_idle_rss_mb": idle_mb,
        "upload_to_loaded_s": round(marks["loaded"][0] - t0, 1),
        "upload_to_ready_s": round(marks["ready"][0] - t0, 1),
        "peak_rss_until_ready_mb": upload_peak_mb,
        "data_page_while_training_s": round(data_page_s, 2),
        "upload_to_trained_s": round(marks["trained"][0] - t0, 1),
        "upload_to_projection_s": round(marks["projection"][0] - t0, 1),
        "peak_rss_mb": rss.peak_mb,
        "points": points,
        "seconds_per_field_click": round(
            (marks["ready"][0] - marks["target_confirmed"][0]) / len(fields), 2
        ),
        # wall and server CPU seconds of each step (from the previous mark)
        "phases": {
            name: {
                "wall_s": round(marks[name][0] - marks[prev][0], 1),
                "server_cpu_s": round(marks[name][1] - marks[prev][1], 1),
            }
            for prev, name in zip(phases, phases[1:], strict=False)
        },
        "server_cpu_s": round(marks["projection"][1] - cpu0, 1),
    }
    if metrics:
        # the training call's own figures: the fit loops (refit included) and the rest
        result["fit_s"] = metrics.get("train_seconds")
        result["epochs"] = [metrics.get("epochs_run"), metrics.get("refit_epochs")]
        result["train_page_to_trained_besides_fit_s"] = round(
            result["phases"]["trained"]["wall_s"] - float(metrics.get("train_seconds") or 0), 1
        )
    return result


def _browser_cpu() -> float:
    """CPU seconds of the Chromium processes this script started so far: on one machine
    the browser drawing the progress shares the cores with the server's training."""
    import psutil

    total = 0.0
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in proc.name() or "headless" in proc.name():
                times = proc.cpu_times()
                total += float(times.user + times.system)
    return total


def _newest_metrics(runs_dir: Path) -> dict[str, Any]:
    """The metrics of the newest run in ``runs_dir`` ({} if none)."""
    files = sorted(runs_dir.glob("*/metrics.json"), key=lambda p: p.stat().st_mtime)
    return dict(json.loads(files[-1].read_text(encoding="utf-8"))) if files else {}


def _train_to_projection(page: Any, proc: Any, runs_dir: Path) -> dict[str, Any]:
    """On the Train page: click Train, wait for the run, open Explore, wait for the map.

    Steps, each with wall, server CPU and browser CPU seconds from the previous one:
    ``started`` (the progress bar's Stop button is shown), ``trained`` (the summary is
    shown: the fit, saving the run and the page's next poll done), ``projection`` (Explore
    opened and its map drawn). ``fit_s`` and ``refit_s`` are the run's own figures
    (``metrics.json``): the fit loops, the final fit included.
    """
    import psutil

    server = psutil.Process(proc.pid)
    marks: dict[str, tuple[float, float, float]] = {}

    def mark(name: str) -> None:
        marks[name] = (time.perf_counter(), _server_cpu(server), _browser_cpu())

    mark("click")
    page.get_by_role("button", name="Train", exact=True).click()
    try:  # the progress block replaces the previous summary while training runs
        page.get_by_role("button", name="Stop").wait_for(timeout=15_000)
        mark("started")
    except Exception:  # noqa: BLE001 - very fast runs may finish before we look
        pass
    page.get_by_role("heading", name="Last run").wait_for(timeout=600_000)
    mark("trained")
    open_page(page, "Explore")
    points = plot_point_count(page)
    mark("projection")
    names = list(marks)
    t0, cpu0, browser0 = marks["click"]
    metrics = _newest_metrics(runs_dir)
    fit_s = metrics.get("train_seconds")
    train_s = marks["trained"][0] - t0
    return {
        "train_s": round(train_s, 2),
        "to_projection_s": round(marks["projection"][0] - t0, 2),
        "server_cpu_s": round(marks["projection"][1] - cpu0, 2),
        "browser_cpu_s": round(marks["projection"][2] - browser0, 2),
        "points": points,
        "steps": {
            name: {
                "wall_s": round(marks[name][0] - marks[prev][0], 2),
                "server_cpu_s": round(marks[name][1] - marks[prev][1], 2),
                "browser_cpu_s": round(marks[name][2] - marks[prev][2], 2),
            }
            for prev, name in zip(names, names[1:], strict=False)
        },
        "fit_s": fit_s,
        "refit_s": metrics.get("refit_seconds"),
        "epochs": [metrics.get("epochs_run"), metrics.get("refit_epochs")],
        "prepared_ahead": metrics.get("prepared_ahead"),
        "trained_besides_fit_s": round(train_s - float(fit_s), 2) if fit_s else None,
    }


def _default_sample(
    chromium: str,
    tmp_dir: Path,
    root: Path,
    label: str,
    think_seconds: float,
    csv: Path | None,
    serve: bool = True,
) -> dict[str, Any]:
    """The default-sample scenarios (and the 100k upload) against the app in ``root``
    (``serve``: started as ``make run`` does, else with plain ``streamlit run``)."""
    result: dict[str, Any] = {}
    for think in (0.0, think_seconds):
        # a fresh server each time, so TensorFlow is not loaded yet; a run store of its own
        runs_dir = tmp_dir / f"runs_{label}_{think:g}"
        os.environ["EMBEDDING_CORE_RUNS"] = str(runs_dir)
        log = tmp_dir / f"server_{label}_{think:g}.log"
        with contextlib.ExitStack() as stack:
            t = time.perf_counter()
            url, proc = stack.enter_context(streamlit_process(log, root, serve=serve))
            server_up_s = round(time.perf_counter() - t, 2)  # launch -> /_stcore/health ok
            page = stack.enter_context(chromium_page(chromium))
            t = time.perf_counter()
            page.goto(url)
            page.get_by_text("Ready to train").first.wait_for()
            wait_idle(page)
            ready_s = round(time.perf_counter() - t, 2)
            open_page(page, "Train")
            page.wait_for_timeout(think * 1000)
            if think == 0:
                result["server_up_s"] = server_up_s
                result["first_page_ready_s"] = ready_s
                result["default_sample_first"] = _train_to_projection(page, proc, runs_dir)
                open_page(page, "Train")
                result["default_sample_again"] = _train_to_projection(page, proc, runs_dir)
                continue
            result[f"default_sample_first_after_{think:g}s_on_train_page"] = _train_to_projection(
                page, proc, runs_dir
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
            timing = _train_to_projection(page, proc, runs_dir)
            result["upload_100k"] = {
                "bytes": csv.stat().st_size,
                "upload_to_ready_s": round(ready, 2),
                **timing,
                "upload_to_projection_s": round(t_nav + timing["to_projection_s"], 2),
            }
    os.environ.pop("EMBEDDING_CORE_RUNS", None)
    return result


_COMPARED = ("to_projection_s", "server_cpu_s", "browser_cpu_s")


def _compare(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per checkout and scenario: each repeat's figures and their medians."""
    import statistics

    table: dict[str, Any] = {}
    for label, results in runs.items():
        table[label] = {}
        for scenario in results[0]:
            if not scenario.startswith(("default_sample", "upload")):
                continue
            row: dict[str, Any] = {}
            for key in _COMPARED:
                values = [r[scenario][key] for r in results]
                row[key] = values
                row[f"median_{key}"] = round(statistics.median(values), 2)
            table[label][scenario] = row
    return table


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
    parser.add_argument(
        "--baseline-root",
        type=Path,
        help="another checkout (e.g. a worktree of main) whose app runs the same scenarios, "
        "alternated with this one's, for a before/after within one run",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="rounds of the scenarios (each checkout)"
    )
    parser.add_argument(
        "--big-upload",
        type=int,
        metavar="ROWS",
        help="only the big-upload scenario: ROWS rows x 20 fields (see above)",
    )
    parser.add_argument(
        "--plain-streamlit",
        choices=["baseline", "all"],
        help="serve the baseline (or every server) with plain `streamlit run app.py` "
        "instead of `make run`'s `python -m ui.serve`",
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
    if args.big_upload:
        with tempfile.TemporaryDirectory() as tmp:
            result["big_upload"] = _big_upload(chromium, args.big_upload, Path(tmp))
        result["load_average_at_end"] = list(os.getloadavg())
        _report(result, args.out)
        return
    roots = {"this": ROOT}
    if args.baseline_root is not None:
        roots = {"baseline": args.baseline_root.resolve(), "this": ROOT}
    plain = {"baseline": {"baseline"}, "all": set(roots)}.get(args.plain_streamlit, set())
    result["plain_streamlit"] = sorted(plain)
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in roots}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        csv = None if args.skip_upload else _make_csv(args.source, args.rows, tmp_dir)
        for repeat in range(args.repeats):
            order = list(roots.items())
            for label, root in order if repeat % 2 == 0 else order[::-1]:
                serve = label not in plain
                runs[label].append(
                    _default_sample(chromium, tmp_dir, root, label, args.think_seconds, csv, serve)
                )
    result.update(runs["this"][0])
    if "upload_100k" in result:
        result["upload_100k"].update(source=args.source, rows=args.rows)
    if len(roots) > 1 or args.repeats > 1:
        result["roots"] = {label: str(root) for label, root in roots.items()}
        result["compare"] = _compare(runs)
        result["runs"] = runs
    result["load_average_at_end"] = list(os.getloadavg())
    result["default_sample_under_target"] = (
        result["default_sample_first"]["to_projection_s"] < TARGET_SECONDS
    )
    _report(result, args.out)


def _report(result: dict[str, Any], out: Path | None) -> None:
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
