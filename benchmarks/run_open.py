"""How fast a stored run opens, without retraining (the run store, issue "Runs that last").

1. Trains the default sample (bank marketing, 41,188 rows) once with default settings
   and saves it to a temporary run store (not timed).
2. ``library_open``: in a fresh Python process, ``RunStore(root).open(id)`` plus every
   field's table; reports the seconds and whether TensorFlow got imported (it should
   not: Explore, Neighbours, Interactions and Export need only the saved tables).
3. ``app``: a fresh ``streamlit run`` server on that store and a fresh Chromium; timed
   from ``goto(?run=<id>&page=explore)`` to the projection's points on screen, first as
   the server's very first page (``cold_server_s``), then again in a new session
   (``warm_server_s``). Goal: under 3 s. For context, the same server's plain Data page
   (``data_page_s``) and the machine's load average are reported next to it.

Prints one JSON object (and writes it with ``--out``). Run from the repository root::

    .venv/bin/python benchmarks/run_open.py --out benchmarks/results/run_open.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
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
    plot_point_count,
    streamlit_process,
    wait_idle,
)

GOAL_SECONDS = 3.0

_OPEN = """
import json, sys, time
t0 = time.perf_counter()
from embedding_core.model.store import RunStore
run = RunStore(sys.argv[1]).open(sys.argv[2])
tables = {f: run.embeddings(f) for f in run.fields}
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "tensorflow_loaded": "tensorflow" in sys.modules,
                  "fields": len(tables)}))
"""


def _train(store_root: Path) -> str:
    import embedding_core as ec

    frame, roles = ec.load_sample("bank_marketing")
    run = ec.train(frame, roles, ec.TrainConfig(seed=0))
    record = ec.RunStore(store_root).save(
        run, name="bank marketing", data=frame, dataset="bank_marketing", rows=len(frame)
    )
    return record.id


def _library_open(store_root: Path, run_id: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(
        [sys.executable, "-c", _OPEN, str(store_root), run_id],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _link_to_explore(store_root: Path, run_id: str, chromium: str) -> dict[str, Any]:
    os.environ["EMBEDDING_CORE_RUNS"] = str(store_root)
    link = f"?run={run_id}&page=explore"
    out: dict[str, Any] = {}
    with streamlit_process() as (url, _proc), chromium_page(chromium) as page:
        for name in ("cold_server_s", "warm_server_s"):  # the link is the server's 1st page
            start = time.perf_counter()
            page.goto(f"{url}/{link}")
            out["points"] = plot_point_count(page)
            out[name] = round(time.perf_counter() - start, 2)
            wait_idle(page)
            page.goto("about:blank")
        start = time.perf_counter()
        page.goto(url)
        page.get_by_role("heading", name="Data", exact=True).wait_for()
        wait_idle(page)
        out["data_page_s"] = round(time.perf_counter() - start, 2)  # baseline, same server
    out["load_average_1min"] = os.getloadavg()[0]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="run_open_") as tmp:
        root = Path(tmp)
        run_id = _train(root)
        result: dict[str, Any] = {
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            "goal_seconds": GOAL_SECONDS,
            "library_open": _library_open(root, run_id),
        }
        if chromium is not None:
            result["app"] = _link_to_explore(root, run_id, chromium)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
