"""The run store: a folder of saved runs, listed, opened, renamed and deleted by id.

A store is a plain directory (``./runs`` by default, or ``$EMBEDDING_CORE_RUNS``); no
database. Each run is the directory ``TrainedRun.save`` writes, named by the run's id,
plus:

``run.json``
    id, name, created (UTC, ISO 8601), dataset name and row count, task, target, headline
    metric, fields, config, and the runs it was initialised from, compared with or is a
    seed sibling of (see ``RunRecord``).
``data.parquet`` (optional)
    The training frame, so pages that need rows (What-if, Lift) work after reopening.

Any run directory inside the store counts, including one written by the CLI (``train
--out runs/my-run``): its id is the folder name and missing ``run.json`` fields are read
from the run's own JSON files. Saving is atomic (``embedding_core.atomic``): a temporary
folder renamed into place, so a crash never leaves a half-written run, and two savers
never clash (new ids are random, 96 bits). A folder that is not a readable run is listed
with the reason, never raised.

>>> store = RunStore("runs")                               # doctest: +SKIP
>>> record = store.save(run, name="bank, k=8", data=frame)  # doctest: +SKIP
>>> store.open(record.id).embeddings("job")                 # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import stat
import time
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pandas as pd

from embedding_core.atomic import atomic_directory, atomic_file
from embedding_core.errors import DataError, ModelFormatError
from embedding_core.text import printable

if TYPE_CHECKING:
    from embedding_core.model.run import TrainedRun

__all__ = [
    "RunStore",
    "RunRecord",
    "default_store_path",
    "write_run_json",
    "describe_run_dir",
    "HEADLINE_METRICS",
    "STORE_ENV",
]

STORE_ENV = "EMBEDDING_CORE_RUNS"
RUN_JSON = "run.json"
DATA_FILE = "data.parquet"
STABILITY_FILE = "stability.parquet"
UPLOADS_DIR = ".uploads"
#: What a store may hold besides the files ``TrainedRun.save`` writes.
STORE_FILES = (RUN_JSON, DATA_FILE, STABILITY_FILE)
#: The name of a run imported from a zip that names it nowhere (no ``run.json``, no name).
IMPORTED_NAME = "imported run"
#: The metric shown in lists, per task (read from ``metrics.json``).
HEADLINE_METRICS = {
    "binary": "valid_auc",
    "regression": "valid_rmse",
    "multiclass": "valid_accuracy",
}
#: Names ``embedding_core.atomic`` gives its temporary folders and files.
_TEMPORARY = re.compile(r"^\..*\.(tmp|old)-[0-9a-f]+$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
#: Limits for an uploaded run zip (an untrusted file).
MAX_ZIP_ENTRIES = 32
MAX_UNZIPPED_BYTES = 1_000_000_000
MAX_RATIO = 200  # uncompressed / compressed, for entries over 1 MB


def default_store_path() -> Path:
    """``$EMBEDDING_CORE_RUNS`` if set, else ``./runs`` (relative to the working directory)."""
    return Path(os.environ.get(STORE_ENV) or "runs")


def new_run_id() -> str:
    """A random, unguessable run id (96 bits, 24 hex characters)."""
    return secrets.token_hex(12)


@dataclass
class RunRecord:
    """One entry of the store's list (read from ``run.json`` and the run's JSON files).

    ``error`` is None for a readable run; otherwise it says why the folder is not one,
    and most other attributes are empty.
    """

    id: str
    path: Path
    name: str = ""
    created: str = ""
    dataset: str = ""
    rows: int | None = None
    task: str = ""
    target: str = ""
    metric: str = ""
    metric_value: float | None = None
    fields: list[str] = field(default_factory=list)
    size_bytes: int = 0
    has_data: bool = False
    dataset_key: str = ""
    initialised_from: str | None = None
    compared_with: str | None = None
    sibling_of: str | None = None
    siblings: list[str] = field(default_factory=list)
    seed: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the folder is a readable run."""
        return self.error is None

    @property
    def created_ts(self) -> float:
        """``created`` as a POSIX timestamp (0 when unknown), for sorting."""
        try:
            return datetime.fromisoformat(self.created).timestamp()
        except ValueError:
            return 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``path`` as text)."""
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFormatError(f"no {path.name}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFormatError(f"{path.name} is not valid JSON ({type(exc).__name__})") from None


def _write_json_atomic(path: Path, value: Any) -> None:
    from embedding_core.strict_json import dumps

    with atomic_file(path, encoding="utf-8") as fh:
        fh.write(dumps(value, indent=2) + "\n")


def _size(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def headline(task: str, metrics: dict[str, Any]) -> tuple[str, float | None]:
    """(metric name, value) shown for a run of ``task``."""
    name = HEADLINE_METRICS.get(task, "")
    value = metrics.get(name)
    return name, float(value) if isinstance(value, int | float) else None


def run_metadata(
    run: TrainedRun,
    *,
    run_id: str,
    name: str = "",
    dataset: str = "",
    rows: int | None = None,
    dataset_key: str = "",
    has_data: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``run.json`` for ``run`` (see ``RunRecord`` for the keys)."""
    metric, value = headline(run.task, run.metrics)
    if rows is None:
        n = run.metrics.get("n_train", 0) + run.metrics.get("n_valid", 0)
        rows = int(n) if n else None
    meta: dict[str, Any] = {
        "id": run_id,
        "name": name or run_id,
        "created": _now(),
        "dataset": dataset,
        "rows": rows,
        "dataset_key": dataset_key,
        "task": run.task,
        "target": run.roles.target,
        "metric": metric,
        "metric_value": value,
        "fields": run.fields,
        "config": run.config.to_dict(),
        "has_data": has_data,
        "initialised_from": run.metrics.get("init_embeddings"),
        "compared_with": None,
        "sibling_of": None,
        "siblings": [],
        "seed": int(run.config.seed),
    }
    meta.update(extra or {})
    return meta


def write_run_json(directory: str | Path, meta: dict[str, Any]) -> Path:
    """Write ``run.json`` into a run directory (atomically); returns its path."""
    path = Path(directory) / RUN_JSON
    _write_json_atomic(path, meta)
    return path


def describe_run_dir(path: str | Path) -> RunRecord:
    """A ``RunRecord`` for one directory; never raises (problems go to ``error``).

    Reads only JSON files (no TensorFlow, no Parquet): ``run.json`` when present, else
    what the run's own files say. The folder counts as a run when its manifest has the
    current format version and every file ``TrainedRun.save`` writes is there.
    """
    from embedding_core.model.run import FORMAT_VERSION, RUN_FILES

    root = Path(path)
    record = RunRecord(id=root.name, path=root)
    try:
        record.size_bytes = _size(root)
        manifest = _read_json(root / "manifest.json")
        version = manifest.get("format_version") if isinstance(manifest, dict) else None
        if version != FORMAT_VERSION:
            raise ModelFormatError(
                f"saved in model format {version!r}; this version reads {FORMAT_VERSION}"
            )
        absent = [f for f in RUN_FILES if not (root / f).is_file()]
        if absent:
            raise ModelFormatError(f"incomplete (missing {', '.join(absent)})")
        metrics = _read_json(root / "metrics.json")
        roles = _read_json(root / "roles.json")
        config = _read_json(root / "config.json")
        if not all(isinstance(v, dict) for v in (metrics, roles, config)):
            raise ModelFormatError("metrics.json, roles.json or config.json is not an object")
        meta = _read_json(root / RUN_JSON) if (root / RUN_JSON).is_file() else {}
        if not isinstance(meta, dict):
            raise ModelFormatError("run.json is not an object")
    except ModelFormatError as exc:
        record.error = str(exc)
        return record
    task = str(roles.get("task") or "")
    metric, value = headline(task, metrics)
    n = (metrics.get("n_train") or 0) + (metrics.get("n_valid") or 0)
    created = meta.get("created")
    if not isinstance(created, str):
        mtime = (root / "manifest.json").stat().st_mtime
        created = datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds")
    record.name = str(meta.get("name") or root.name)
    record.created = created
    record.dataset = str(meta.get("dataset") or "")
    record.rows = meta.get("rows") if isinstance(meta.get("rows"), int) else (int(n) or None)
    record.task = task
    record.target = str(roles.get("target") or "")
    record.metric = str(meta.get("metric") or metric)
    record.metric_value = meta.get("metric_value", value)
    record.fields = [str(f) for f in roles.get("categorical") or []]
    record.has_data = (root / DATA_FILE).is_file()
    record.dataset_key = str(meta.get("dataset_key") or "")
    record.initialised_from = meta.get("initialised_from") or metrics.get("init_embeddings")
    record.compared_with = meta.get("compared_with")
    record.sibling_of = meta.get("sibling_of")
    record.siblings = [str(s) for s in meta.get("siblings") or []]
    record.seed = config.get("seed") if isinstance(config.get("seed"), int) else None
    record.config = config
    return record


class RunStore:
    """A folder of saved runs.

    Parameters
    ----------
    path : str or Path, optional
        The folder (created on the first save). Default: ``default_store_path()``.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.root = Path(path) if path is not None else default_store_path()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    # ------------------------------------------------------------------ reading
    def path(self, run_id: str) -> Path:
        """The directory of run ``run_id`` (checked to be a plain name inside the store).

        Raises
        ------
        ModelFormatError
            ``run_id`` is not a valid id or no such run exists.
        """
        if not isinstance(run_id, str) or not _ID.match(run_id):
            raise ModelFormatError(
                f"There is no run '{printable(run_id, 80)}' in the run store: it may have been "
                "deleted, or the link is wrong. The Runs page (or `runs list`) shows the runs."
            )
        folder = self.root / run_id
        if not folder.is_dir():
            raise ModelFormatError(
                f"There is no run '{run_id}' in the run store ({self.root}): it may have "
                "been deleted, or the link is wrong. The Runs page (or `runs list`) shows the runs."
            )
        return folder

    def list(self) -> list[RunRecord]:
        """Every run folder, newest first; unreadable folders at the end with ``error``."""
        if not self.root.is_dir():
            return []
        records = [
            describe_run_dir(p)
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith((".", "_")) and not p.is_symlink()
        ]
        return sorted(records, key=lambda r: (not r.ok, -r.created_ts, r.id))

    def record(self, run_id: str) -> RunRecord:
        """The ``RunRecord`` of one run (``error`` set when it is unreadable)."""
        return describe_run_dir(self.path(run_id))

    def record_at(self, folder: str | Path) -> RunRecord | None:
        """The readable run of this store at ``folder`` (as ``init_embeddings`` records a
        stored source), or None when ``folder`` is not one."""
        path = Path(folder)
        if path.parent.resolve() != self.root.resolve() or not (self.root / path.name).is_dir():
            return None
        record = self.record(path.name)
        return record if record.ok else None

    def copies(self, run_id: str) -> list[RunRecord]:
        """The other readable runs that are the same run as ``run_id`` by origin (its
        ``imported_from``): the run it was imported from, or other imports of it."""
        origin = self.meta(run_id).get("imported_from")
        if not origin:
            return []
        out = []
        for record in self.list():
            if record.ok and record.id != run_id:
                try:
                    same = (
                        record.id == origin or self.meta(record.id).get("imported_from") == origin
                    )
                except ModelFormatError:
                    continue
                if same:
                    out.append(record)
        return out

    def open(self, run_id: str) -> TrainedRun:
        """Load run ``run_id`` with ``TrainedRun.load`` (no retraining).

        Raises
        ------
        ModelFormatError
            No such run, or it cannot be read.
        """
        from embedding_core.model.run import TrainedRun

        return TrainedRun.load(self.path(run_id))

    def data(self, run_id: str) -> pd.DataFrame | None:
        """The training frame stored with the run, or None when it was not kept."""
        file = self.path(run_id) / DATA_FILE
        if not file.is_file():
            return None
        try:
            return pd.read_parquet(file)
        except Exception as exc:  # noqa: BLE001 - any broken file is a format problem
            raise ModelFormatError(
                f"The data stored with run '{run_id}' cannot be read ({type(exc).__name__})."
            ) from exc

    # ------------------------------------------------------------------ writing
    def save(
        self,
        run: TrainedRun,
        *,
        name: str = "",
        data: pd.DataFrame | None = None,
        dataset: str = "",
        dataset_key: str = "",
        rows: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Save ``run`` under a new random id (atomically) and return its record.

        Parameters
        ----------
        run : TrainedRun
        name : str, optional
            Shown in lists (default: the id).
        data : DataFrame, optional
            The training frame, stored as ``data.parquet`` (None: not stored).
        dataset, dataset_key : str
            The dataset's display name and identity (e.g. ``upload:<digest>``).
        rows : int, optional
            Rows of the dataset (default: the rows the run trained on).
        extra : dict, optional
            More ``run.json`` entries (``sibling_of``, ``compared_with``, ...).
        """
        run_id = new_run_id()
        target = self.root / run_id
        with atomic_directory(target) as tmp:
            run.save(tmp)
            if data is not None:
                _write_frame(data, tmp / DATA_FILE)
            meta = run_metadata(
                run,
                run_id=run_id,
                name=name,
                dataset=dataset,
                rows=rows,
                dataset_key=dataset_key,
                has_data=data is not None,
                extra=extra,
            )
            write_run_json(tmp, meta)
        return describe_run_dir(target)

    def meta(self, run_id: str) -> dict[str, Any]:
        """The run's ``run.json`` as a dict (empty when it has none).

        Raises
        ------
        ModelFormatError
            No such run, or its ``run.json`` is not a JSON object.
        """
        meta_file = self.path(run_id) / RUN_JSON
        meta = _read_json(meta_file) if meta_file.is_file() else {}
        if not isinstance(meta, dict):
            raise ModelFormatError(f"Run '{run_id}': run.json is not an object.")
        return meta

    def update(self, run_id: str, **changes: Any) -> RunRecord:
        """Change entries of a run's ``run.json`` (atomically), e.g. ``siblings``."""
        folder = self.path(run_id)
        record = describe_run_dir(folder)
        if not record.ok:
            raise ModelFormatError(f"Run '{run_id}' cannot be changed: {record.error}.")
        meta_file = folder / RUN_JSON
        meta = _read_json(meta_file) if meta_file.is_file() else {"id": run_id}
        meta.setdefault("name", record.name)
        meta.setdefault("created", record.created)
        meta.update(changes)
        write_run_json(folder, meta)
        return describe_run_dir(folder)

    def rename(self, run_id: str, name: str) -> RunRecord:
        """Give a run a new display name (its id, and so its links, stay)."""
        name = _display_name(name)
        if not name:
            raise DataError("A run name cannot be empty.")
        return self.update(run_id, name=name)

    def delete(self, run_id: str) -> None:
        """Remove a run: first renamed out of the list (atomic), then deleted."""
        folder = self.path(run_id)
        trash = self.root / f".{run_id}.old-{secrets.token_hex(6)}"
        os.replace(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def clean_temporary(self, older_than: float = 3600.0) -> int:
        """Delete leftovers of interrupted saves older than ``older_than`` seconds."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for p in self.root.iterdir():
            if _TEMPORARY.match(p.name) and time.time() - p.stat().st_mtime > older_than:
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                removed += 1
        return removed

    # ------------------------------------------------------------------ uploads
    def save_upload(self, name: str, data: bytes) -> str:
        """Keep an uploaded file's bytes under their SHA-256 digest; returns the digest.

        The digest is the file's only handle (unguessable without the file itself), so
        a reloaded page can ask for the same data with ``load_upload``.
        """
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        folder = self.root / UPLOADS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / digest).is_file():
            with atomic_file(folder / digest, "wb") as fh:
                fh.write(data)
        _write_json_atomic(folder / f"{digest}.json", {"name": str(name)[:255]})
        return digest

    def load_upload(self, digest: str) -> tuple[str, bytes] | None:
        """(file name, bytes) of an upload kept by ``save_upload``, or None."""
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return None
        folder = self.root / UPLOADS_DIR
        try:
            meta = _read_json(folder / f"{digest}.json")
            return str(meta.get("name") or "upload.csv"), (folder / digest).read_bytes()
        except (ModelFormatError, OSError, AttributeError):
            return None

    def save_upload_roles(self, digest: str, roles: dict[str, Any]) -> None:
        """Remember the roles a user confirmed for a kept upload (``save_upload``), so a
        reloaded page restores them instead of asking again. Unknown digests are ignored."""
        folder = self.root / UPLOADS_DIR
        if re.fullmatch(r"[0-9a-f]{64}", str(digest)) and (folder / digest).is_file():
            _write_json_atomic(folder / f"{digest}.roles.json", dict(roles))

    def upload_roles(self, digest: str) -> dict[str, Any] | None:
        """The roles last confirmed for a kept upload (``Roles.to_dict``), or None."""
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return None
        try:
            roles = _read_json(self.root / UPLOADS_DIR / f"{digest}.roles.json")
        except ModelFormatError:
            return None
        return roles if isinstance(roles, dict) else None

    # ------------------------------------------------------------------ zips
    def zip_bytes(self, run_id: str) -> bytes:
        """The run directory as a zip (files at the top level), for a download."""
        folder = self.path(run_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                if path.is_file() and not path.is_symlink():
                    archive.write(path, arcname=path.name)
        return buffer.getvalue()

    def import_zip(self, data: bytes, *, name: str = "", default_name: str = "") -> RunRecord:
        """Add a run from a zip (an untrusted upload) under a new id.

        The zip may hold the run's files at its top level or in one folder. Refused,
        with a message saying why: not a zip, too many entries, absolute or ``..``
        paths, links, files a run does not have, more than ``MAX_UNZIPPED_BYTES`` once
        unpacked or a suspicious compression ratio, or files that do not make a readable
        run. Nothing in it is executed; the model is later loaded in Keras' safe mode.

        ``name`` names the new run; without it, the zip's own name does (its
        ``run.json``), else ``default_name`` (e.g. the uploaded file's), else the folder
        the files are in, else ``IMPORTED_NAME``.
        """
        from embedding_core.model.run import OPTIONAL_FILES, RUN_FILES

        allowed = {*RUN_FILES, *OPTIONAL_FILES, *STORE_FILES}
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError) as exc:
            raise DataError(f"This file is not a zip archive ({exc}).") from None
        with archive:
            entries = [i for i in archive.infolist() if not i.is_dir()]
            if len(entries) > MAX_ZIP_ENTRIES:
                raise DataError(
                    f"The zip holds {len(entries)} files; a saved run has at most "
                    f"{len(allowed)}. Upload a zip made by the Runs page or `train --out`."
                )
            names = [_member_name(i) for i in entries]
            prefixes = {n.parts[0] for n in names if len(n.parts) == 2}
            if len(prefixes) > 1 or any(len(n.parts) > 2 for n in names):
                raise DataError("The zip has nested folders; a saved run is one flat folder.")
            if prefixes and any(len(n.parts) == 1 for n in names):
                raise DataError("The zip mixes top-level files and a folder; expected one run.")
            folder = next(iter(prefixes), "")
            unexpected = sorted({n.name for n in names} - allowed)
            if unexpected:
                shown = ", ".join(repr(u[:60]) for u in unexpected[:5])
                raise DataError(
                    f"The zip holds files a saved run does not have ({shown}): refusing it."
                )
            if len({n.name for n in names}) != len(names):
                raise DataError("The zip holds the same file twice: refusing it.")
            declared = sum(i.file_size for i in entries)
            if declared > MAX_UNZIPPED_BYTES:
                raise DataError(
                    f"The zip unpacks to {declared / 1e6:,.0f} MB; the limit is "
                    f"{MAX_UNZIPPED_BYTES / 1e6:,.0f} MB."
                )
            for info in entries:
                if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(
                    info.compress_size, 1
                ):
                    raise DataError(
                        f"'{info.filename[:60]}' in the zip is compressed "
                        f"{info.file_size / max(info.compress_size, 1):,.0f} to 1 (a zip "
                        "bomb?): refusing it."
                    )
            self.root.mkdir(parents=True, exist_ok=True)
            run_id = new_run_id()
            target = self.root / run_id
            with atomic_directory(target) as tmp:
                budget = MAX_UNZIPPED_BYTES
                for info, member in zip(entries, names, strict=True):
                    budget -= _extract(archive, info, tmp / member.name, budget)
                record = describe_run_dir(tmp)
                if not record.ok:
                    raise DataError(f"The zip is not a readable saved run: {record.error}.")
                _check_run(tmp)
                old_meta = _read_json(tmp / RUN_JSON) if (tmp / RUN_JSON).is_file() else {}
                old = old_meta if isinstance(old_meta, dict) else {}
                meta = {
                    **old,
                    "id": run_id,
                    "name": _display_name(
                        name or str(old.get("name") or "") or default_name or folder
                    )
                    or IMPORTED_NAME,
                    "created": str(old.get("created") or "") or _now(),  # when trained
                    "imported_from": str(old.get("id") or "") or name or None,
                }
                # a copy is a new run: links to the original's siblings do not follow
                meta.update(sibling_of=None, siblings=[])
                write_run_json(tmp, meta)
        return describe_run_dir(target)


def _display_name(name: str) -> str:
    """A run name as the store keeps it: one line, single spaces, at most 200 characters."""
    return " ".join(str(name).split())[:200]


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame as Parquet; mixed-type object columns are stored as text."""
    try:
        frame.to_parquet(path, index=False)
    except (TypeError, ValueError, ImportError):
        safe = frame.copy()
        for col in safe.columns:
            if safe[col].dtype == object:
                safe[col] = safe[col].map(lambda v: v if v is None else str(v))
        safe.columns = [str(c) for c in safe.columns]
        safe.to_parquet(path, index=False)
    except Exception as exc:  # pyarrow's own errors
        raise DataError(f"The training data could not be stored ({type(exc).__name__}).") from exc


def _member_name(info: zipfile.ZipInfo) -> PurePosixPath:
    raw = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise DataError(f"The zip holds a link ('{raw[:60]}'): refusing it.")
    path = PurePosixPath(raw.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in raw or not path.parts:
        raise DataError(f"The zip holds an unsafe path ('{raw[:60]}'): refusing it.")
    return path


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int) -> int:
    """Copy one member, counting the bytes really written (headers can lie)."""
    written = 0
    with archive.open(info) as source, open(dest, "wb") as sink:
        while chunk := source.read(1 << 20):
            written += len(chunk)
            if written > budget or written > info.file_size:
                raise DataError(
                    f"'{info.filename[:60]}' unpacks to more than the zip declares or the "
                    "limit allows: refusing it."
                )
            sink.write(chunk)
    return written


def _check_run(root: Path) -> None:
    """Load an unpacked run the way the app will (JSON, Parquet; the model in safe mode)."""
    from embedding_core.model.run import TrainedRun

    try:
        _ = TrainedRun.load(root).model  # loading is lazy: check the model file too
        if (root / DATA_FILE).is_file():
            pd.read_parquet(root / DATA_FILE)
    except ModelFormatError as exc:
        # the unpacked folder is a temporary one on the server: name the files, not it
        said = str(exc).replace(f"'{root}'", "its run").replace(f"{root}{os.sep}", "")
        said = said.replace("save the run again", "download or save the run again")
        raise DataError(f"The zip is not a readable saved run: {said}") from None
    except Exception as exc:  # noqa: BLE001 - any broken file
        raise DataError(
            f"The zip is not a readable saved run ({type(exc).__name__}): refusing it."
        ) from None
