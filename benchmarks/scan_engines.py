"""Which engine scans shards for the vocabulary: pyarrow.dataset or DuckDB?

Counts the categories of every column of a table (the work of the vocabulary pass)
two ways, each in its own process so that the peak RSS is its own:

- ``pyarrow``: what ``scan_vocabulary`` does: ``pyarrow.dataset`` fragments read in
  record batches, per-batch ``value_counts`` merged in pandas;
- ``duckdb``: one ``GROUP BY GROUPING SETS`` query over ``read_parquet`` (or
  ``read_csv`` with every column as text), multi-threaded, out of core.

DuckDB is not a dependency of this project: install it anywhere on ``PYTHONPATH``
(``pip install --target /tmp/duckdb_pkg duckdb==2.0.0``) to run this.

    PYTHONPATH=/tmp/duckdb_pkg .venv/bin/python benchmarks/scan_engines.py 'DIR/*.parquet'
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time


def pyarrow_counts(pattern: str) -> int:
    import pandas as pd

    from embedding_core.data.stream import open_table

    source = open_table(pattern)
    parts: dict[str, list[pd.Series]] = {c: [] for c in source.columns}
    for _, _, frame in source.batches(list(source.columns)):
        for c in source.columns:
            parts[c].append(frame[c].value_counts(dropna=True, sort=False))
    totals = {c: pd.concat(p).groupby(level=0, sort=False).sum() for c, p in parts.items()}
    return int(sum(len(t) for t in totals.values()))


def duckdb_counts(pattern: str) -> int:
    import duckdb

    from embedding_core.data.stream import open_table

    source = open_table(pattern)
    columns = [c for c in source.columns]
    if source.format == "parquet":
        table = f"read_parquet({[str(f) for f in source.files]!r})"
    else:
        table = f"read_csv({[str(f) for f in source.files]!r}, all_varchar=true)"
    sets = ", ".join(f'("{c}")' for c in columns)
    select = ", ".join(f'"{c}"' for c in columns)
    query = f"SELECT {select}, count(*) AS n FROM {table} GROUP BY GROUPING SETS ({sets})"
    rows = duckdb.sql(query).fetchall()
    return len(rows)


def _child(engine: str, pattern: str) -> None:
    t0 = time.perf_counter()
    n = {"pyarrow": pyarrow_counts, "duckdb": duckdb_counts}[engine](pattern)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": engine, "seconds": round(seconds, 1),
                      "peak_rss_mb": round(peak), "distinct": n}))  # fmt: skip


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    pattern = sys.argv[1]
    for engine in ("pyarrow", "duckdb"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", engine, pattern], capture_output=True, text=True
        )
        print(out.stdout.strip() or out.stderr.strip()[-500:], flush=True)


if __name__ == "__main__":
    main()
