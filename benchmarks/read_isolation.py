"""Does reading an upload stall the rest of the server? In-process vs worker-process reads.

A server thread that should answer other users is stood in for by a heartbeat thread
that sleeps 5 ms in a loop; whenever a read holds the interpreter lock, the heartbeat
wakes late. Each hostile input of ``benchmarks/abuse.py`` (plus the big file within the
limits) is read with the app's limits twice in the same run: by ``read_csv`` in this
process (the baseline, what the app did before) and by ``read_csv_isolated`` (a worker
process, what the app does now). Reported per input and reader: seconds, the CPU time
the calling process spent (what a read takes from the server's own process, whatever
the machine's load), the longest heartbeat delay and the total of delays over 100 ms
(the stalls a user would notice).

On a loaded machine part of every delay is waiting for a core, for both readers alike;
compare the two readers within one run.

    .venv/bin/python benchmarks/read_isolation.py --out benchmarks/results/read_isolation.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.abuse import make_inputs  # noqa: E402
from embedding_core.data.csv_reader import read_csv  # noqa: E402
from embedding_core.data.read_worker import read_csv_isolated  # noqa: E402
from embedding_core.errors import DataError  # noqa: E402
from ui.limits import limits  # noqa: E402

STALL_SECONDS = 0.1


def _heartbeat(stop: threading.Event, delays: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        time.sleep(0.005)
        delays.append(time.perf_counter() - started - 0.005)


def measure(read: Callable[..., Any], data: bytes, name: str) -> dict[str, Any]:
    """Seconds, answer and heartbeat delays of one read of ``data``."""
    config = limits()
    stop, delays = threading.Event(), []
    beat = threading.Thread(target=_heartbeat, args=(stop, delays))
    beat.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        frame = read(
            data,
            name=name,
            max_bytes=config.max_bytes,
            max_rows=config.max_rows,
            max_columns=config.max_columns,
        )
        answer = f"read {frame.shape[0]:,} x {frame.shape[1]}"
    except DataError as exc:
        answer = f"refused: {str(exc)[:80]}"
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    stop.set()
    beat.join()
    return {
        "seconds": round(seconds, 2),
        "answer": answer,
        "caller_cpu_seconds": round(cpu, 2),
        "max_delay_ms": round(max(delays, default=0.0) * 1000),
        "stalled_seconds": round(sum(d for d in delays if d > STALL_SECONDS), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--big-rows", type=int, default=1_900_000)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "inputs": [],
    }
    read_csv_isolated(b"a\n1\n")  # start the spare worker, as a server has after its first read
    with tempfile.TemporaryDirectory() as tmp:
        for description, path, _ in make_inputs(Path(tmp), args.big_rows):
            data = path.read_bytes()
            time.sleep(3)  # let the spare worker finish its imports
            row = {
                "input": description,
                "in_process": measure(read_csv, data, path.name),
                "worker_process": measure(read_csv_isolated, data, path.name),
            }
            results["inputs"].append(row)
            print(json.dumps(row), flush=True)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
