"""Read a CSV in a separate process, so the calling process stays responsive meanwhile.

Parsing a big upload (unpacking a gzip, pandas' parser making strings) keeps a core busy
and holds the interpreter lock for up to a second at a time; in a server, every other
user's page waits meanwhile. ``read_csv_isolated`` does exactly what
``embedding_core.data.csv_reader.read_csv`` does (same arguments, result, refusals and
messages) in a worker process (``python -m embedding_core.data.read_worker``), which
sends the frame back as an Arrow IPC stream, read from the pipe straight into the
frame's buffers.

Each worker reads one file and exits, so the memory a big parse took goes back to the
system at once. One spare worker is kept started (after each read), with pandas
already imported, so a read does not wait for the import. At most ``MAX_READS`` files
are read at a time (the others wait), which bounds the memory all reads take together.
Workers run at the lowest priority (``WORKER_NICENESS``): when the cores are busy,
pages are served first and the upload waits a little longer (niceness 5 still let a
gzip bomb slow a fresh page load past 3 s on 2 cores; 19 keeps it under).

Plain ``subprocess`` rather than ``multiprocessing``: Streamlit installs each page script
as the ``__main__`` module, which ``multiprocessing``'s spawn and forkserver methods
would run again in every worker.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from embedding_core.data.csv_reader import DEFAULT_MAX_BYTES, DEFAULT_MAX_COLUMNS
from embedding_core.errors import DataError
from embedding_core.text import NAME_LIMIT, printable

__all__ = ["read_csv_isolated", "warm_up_reader", "MAX_READS", "WORKER_NICENESS"]

#: Scheduling priority of the workers, below the server's own (``os.nice`` increment).
WORKER_NICENESS = 19
#: Files read at the same time; further reads wait for one of them to finish.
MAX_READS = max(min(os.cpu_count() or 1, 4), 1)

# The worker's first 8 bytes: the frame (an Arrow stream) or a refusal (its message) follows.
_OK, _REFUSED = b"ok      ", b"refused "
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_LOCK = threading.Lock()
_SLOTS = threading.BoundedSemaphore(MAX_READS)
_spare: subprocess.Popen | None = None


def read_csv_isolated(
    source: str | Path | bytes | BinaryIO,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int | None = None,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    name: str | None = None,
) -> pd.DataFrame:
    """``read_csv`` run in a worker process; same parameters, result and errors.

    Raises
    ------
    DataError
        Every refusal of ``read_csv``, with its message; also when the worker process
        dies before answering (for example killed for lack of memory).

    Examples
    --------
    >>> read_csv_isolated(b"zip;city\\n01234;Nancy\\n")["zip"].tolist()
    ['01234']
    """
    if isinstance(source, Path):
        source = str(source)
    elif isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    elif not isinstance(source, (str, bytes)):
        name = name or _file_name(source)
        source = _bounded_bytes(source, max_bytes)
    path, data = (source, b"") if isinstance(source, str) else (None, source)
    limits = {"max_bytes": max_bytes, "max_rows": max_rows, "max_columns": max_columns}
    header = pickle.dumps((path, name, limits), protocol=pickle.HIGHEST_PROTOCOL)
    with _SLOTS:
        worker = _take_worker()
        try:
            answer = _exchange(worker, header, data)
        finally:
            worker.stdout.close()  # type: ignore[union-attr]
            worker.wait()
            warm_up_reader()
    if isinstance(answer, pd.DataFrame):
        return answer
    if answer is not None:
        raise DataError(answer)
    label = f"'{printable(name, NAME_LIMIT)}'" if name else "The file"
    raise DataError(
        f"{label} could not be read: the reading process stopped (exit code "
        f"{worker.returncode}; out of memory?). Upload a smaller sample of its rows."
    )


def _take_worker() -> subprocess.Popen:
    """The spare worker, or a new one if there is none."""
    global _spare
    with _LOCK:
        worker, _spare = _spare, None
    return worker if worker is not None and worker.poll() is None else _start_worker()


def warm_up_reader() -> None:
    """Start the spare worker if none is running (it imports pandas, then waits).

    Called after each read (not during one, so its imports never slow a read down) and
    by a server once its first page is drawn, so the first upload does not wait either.
    """
    global _spare
    with _LOCK:
        if _spare is None:
            _spare = _start_worker()


def _start_worker() -> subprocess.Popen:
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_PACKAGE_ROOT, path) if p)}
    return subprocess.Popen(
        [sys.executable, "-m", "embedding_core.data.read_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )


def _bounded_bytes(source: Any, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of an open file (enough for ``read_csv`` to refuse)."""
    if not hasattr(source, "read"):
        raise TypeError(
            f"Expected a path, bytes or a binary file object. Received: {type(source).__name__}"
        )
    if hasattr(source, "seek"):
        try:
            source.seek(0)
        except (OSError, ValueError):
            pass
    data = source.read(max_bytes + 1)
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _file_name(source: Any) -> str | None:
    file_name = getattr(source, "name", None)
    return Path(file_name).name if isinstance(file_name, str) and file_name else None


def _exchange(worker: subprocess.Popen, header: bytes, data: bytes) -> pd.DataFrame | str | None:
    """Send the request; the frame read, the refusal's message, or None if the worker died.

    The request is the header's length, the header (path, name, limits) and the file's
    bytes as they are (no copy). The Arrow stream is read straight from the pipe into
    the frame's buffers: the frame's bytes are never held twice.
    """
    import pyarrow as pa

    stdin, stdout = worker.stdin, worker.stdout
    assert stdin is not None and stdout is not None
    try:  # the worker reads all of it before it writes anything
        stdin.write(len(header).to_bytes(8, "little") + header)
        stdin.write(data)
        stdin.close()
    except BrokenPipeError:
        return None
    status = stdout.read(len(_OK))
    if status == _REFUSED:
        return stdout.read().decode("utf-8")
    if status != _OK:
        return None
    try:
        return pa.ipc.open_stream(stdout).read_all().to_pandas()
    except (pa.ArrowInvalid, OSError):  # cut short: the worker died while writing
        return None


def _serve() -> None:
    """In the worker: read one request from stdin, answer on stdout, exit."""
    import pyarrow as pa

    from embedding_core.data.csv_reader import read_csv

    stdin = sys.stdin.buffer
    size = stdin.read(8)
    if len(size) < 8:  # the parent went away before using this spare worker
        return
    path, name, kwargs = pickle.loads(stdin.read(int.from_bytes(size, "little")))
    source = path if path is not None else stdin.read()
    out = sys.stdout.buffer
    try:
        frame = read_csv(source, name=name, **kwargs)
    except DataError as exc:
        out.write(_REFUSED + str(exc).encode("utf-8"))
        return
    del source
    table = pa.Table.from_pandas(frame, preserve_index=False)
    del frame
    out.write(_OK)
    with pa.ipc.new_stream(out, table.schema) as writer:
        writer.write_table(table)


if __name__ == "__main__":
    os.nice(WORKER_NICENESS)  # serving pages comes first; parsing takes the spare CPU
    _serve()
    sys.stdout.buffer.flush()
    sys.stderr.flush()
    os._exit(0)  # skip the interpreter's clean-up of pandas and pyarrow: seconds under load
