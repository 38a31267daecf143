"""Compare ``read_csv`` with the streamed reader (``open_table(...).batches``) on hostile files.

Builds a small corpus in a temporary folder and prints one line per file: ``same`` (the
same frame and notes), ``both refuse``, or what differs. Run:
``PYTHONPATH=. .venv/bin/python benchmarks/csv_parity.py``.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from pathlib import Path

import pandas as pd

from embedding_core.data.csv_reader import read_csv
from embedding_core.data.stream import open_table
from embedding_core.errors import DataError

_BODY = "city,job,y\n" + "Nancy,a,1\nMetz,b,0\nLille,,1\n" * 20
_PAD = "Metz,b,0\n" * 8_000  # pushes what follows past the streamed reader's 64 kB head


def corpus() -> dict[str, bytes]:
    """Tiny files, each one hostile in one way."""
    return {
        "clean": _BODY.encode(),
        "short_row": (_BODY + "Brest,c\n").encode(),
        "short_row_first": ("city,job,y\nBrest\n" + _BODY[11:]).encode(),
        "short_row_late": (_BODY + _PAD + "Brest,c\n" + _BODY[11:]).encode(),
        "long_row": (_BODY + "Brest,c,1,extra\n").encode(),
        "empty_row": (_BODY + ",,\n" + "Brest,c,1\n").encode(),
        "empty_row_quoted": (_BODY + '"","",__NA__\n').encode(),
        "blank_spaces_row": (_BODY + "   \n").encode(),
        "cp1252_late": (_BODY + _PAD + "Mâcon,é,1\n").encode("cp1252"),
        "cp1252_late_utf8_head": (
            _BODY.replace("Nancy", "Besançon") + _PAD + "Mâcon,é,1\n"
        ).encode()[:-12]
        + "Mâcon,é,1\n".encode("cp1252"),
        "cp1252_line_mixed": (_BODY.replace("Nancy", "Besançon").encode())
        + "Mâcon,".encode("cp1252")
        + "é,1\n".encode(),
        "cp1252_head_utf8_late": ("Mâcon,é,1\n".encode("cp1252").join([_BODY.encode(), b""]))
        + (_PAD + "Besançon,ü,0\n" * 3).encode(),
        "cp1252_many_lines_some_utf8": (_BODY.replace("Nancy", "Besançon").encode())
        + ("Mâcon,é,1\n" * 40).encode("cp1252"),
        "latin1_undefined_byte": _BODY.encode() + b"M\x81con,\x80,1\n",
        "title_line": ("Claims export 2026\n" + _BODY).encode(),
        "decimal_comma": ("city;amount;y\n" + "Nancy;1,5;1\nMetz;1 234,25;0\n" * 10).encode(),
        "thousands_comma": ('city,amount,y\nNancy,"12,345",1\nMetz,"1,234,567.5",0\n' * 1).encode(),
        "decimal_comma_late": (
            "city;amount;y\n" + "Nancy;15;1\n" * 9_000 + "Metz;1 234,25;0\n"
        ).encode(),
        "decimal_comma_after_spaced_rows": (
            "city;amount;y\n" + "Nancy;1 500;1\n" * 9_000 + "Metz;1 234,25;0\n"
        ).encode(),
        "decimal_comma_short_row": ("city;amount;y\nNancy;1,5;1\nMetz;2,25\n" * 10).encode(),
        "cp1252_many_lines_late_utf8_head": (_BODY.replace("Nancy", "Besançon") + _PAD).encode()
        + ("Mâcon,é,1\n" * 40).encode("cp1252"),
        "gzip_short_row": gzip.compress((_BODY + "Brest,c\n").encode()),
        "decimal_comma_then_word": (
            "city;amount;y\n" + "Nancy;1,5;1\n" * 9_000 + "Metz;abc;0\n"
        ).encode(),
    }


def _streamed(path: Path) -> pd.DataFrame:
    source = open_table(path)
    notes = list(source.notes)
    batches = source.batches(source.columns, batch_rows=1_000, notes=notes)
    frames = [frame for _, _, frame in batches]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    frame.attrs["notes"] = notes
    return frame


def _outcome(read, path: Path) -> pd.DataFrame | str:
    try:
        return read(path)
    except DataError as exc:
        return f"refused: {exc}"
    except Exception as exc:  # noqa: BLE001 - a raw exception is a finding
        return f"RAW {type(exc).__name__}: {str(exc)[:80]}"


def compare(path: Path) -> str:
    """What differs between the two readers on ``path``, in a few words."""
    memory, stream = _outcome(read_csv, path), _outcome(_streamed, path)
    if isinstance(memory, str) and isinstance(stream, str):
        return "both refuse" + ("" if memory == stream else f" | memory {memory[9:90]!r}")
    if isinstance(memory, str) or isinstance(stream, str):
        which, why = ("memory", memory) if isinstance(memory, str) else ("stream", stream)
        return f"only {which} refuses: {why[:150]}"
    if memory.shape != stream.shape:
        return f"shape {memory.shape} in memory, {stream.shape} streamed"
    cells = memory.astype(object).where(memory.notna(), None)
    other = stream.astype(object).where(stream.notna(), None)
    diff = (cells != other) & ~(cells.isna() & other.isna())
    notes = set(memory.attrs.get("notes", [])) - set(stream.attrs.get("notes", []))
    if list(memory.columns) != list(stream.columns):
        return f"columns {list(memory.columns)} vs {list(stream.columns)}"
    if diff.to_numpy().any():
        row, col = map(int, next(zip(*diff.to_numpy().nonzero(), strict=True)))
        return (
            f"{int(diff.to_numpy().sum())} cells differ, e.g. row {row}: "
            f"{cells.iat[row, col]!r} in memory, {other.iat[row, col]!r} streamed"
        )
    return "same" if not notes else f"same values, note only in memory: {sorted(notes)[0][:70]}"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        for name, content in corpus().items():
            path = Path(folder) / f"{name}.csv"
            path.write_bytes(content)
            print(f"{name:30} {compare(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
