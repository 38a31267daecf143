"""RunStore: round trip, atomic saves (even when killed), unreadable folders, zips."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from embedding_core.errors import DataError, ModelFormatError
from embedding_core.model.store import IMPORTED_NAME, RUN_JSON, RunStore, default_store_path

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def filled(tiny_binary_run, binary_frame, tmp_path_factory) -> tuple[RunStore, str]:
    """A store holding one saved run (with its data); treat as read-only."""
    store = RunStore(tmp_path_factory.mktemp("store"))
    record = store.save(
        tiny_binary_run, name="first", data=binary_frame, dataset="binary.csv", dataset_key="k1"
    )
    return store, record.id


def test_round_trip_keeps_tables_data_and_metadata(filled, tiny_binary_run, binary_frame) -> None:
    store, run_id = filled
    (record,) = store.list()
    assert record.ok and record.id == run_id and len(run_id) >= 16  # >= 64 random bits
    assert record.name == "first" and record.dataset == "binary.csv"
    assert record.task == "binary" and record.metric == "valid_auc"
    assert record.metric_value == pytest.approx(tiny_binary_run.metrics["valid_auc"])
    assert record.fields == tiny_binary_run.fields and record.has_data
    assert record.size_bytes > 0 and record.created
    meta = json.loads((store.root / run_id / "run.json").read_text())
    assert meta["config"] == tiny_binary_run.config.to_dict() and meta["rows"] is not None
    opened = store.open(run_id)
    for f in tiny_binary_run.fields:
        pd.testing.assert_frame_equal(opened.embeddings(f), tiny_binary_run.embeddings(f))
    pd.testing.assert_frame_equal(store.data(run_id), binary_frame.reset_index(drop=True))


def test_opening_a_run_reads_tables_without_tensorflow(filled) -> None:
    store, run_id = filled
    script = (
        "import sys; from embedding_core.model.store import RunStore; "
        f"run = RunStore({str(store.root)!r}).open({run_id!r}); "
        "tables = [run.embeddings(f) for f in run.fields]; "
        "print(len(tables), 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "False", "False"]


def test_ids_are_random_and_names_can_change(filled, tiny_binary_run, tmp_path) -> None:
    store = RunStore(tmp_path)
    a = store.save(tiny_binary_run)
    b = store.save(tiny_binary_run, name="b")
    assert a.id != b.id and a.name == a.id and store.data(a.id) is None
    assert [r.id for r in store.list()] == [b.id, a.id] or a.created == b.created
    renamed = store.rename(a.id, "  a  new\nname ")
    assert renamed.name == "a new name" and store.record(a.id).name == "a new name"
    with pytest.raises(DataError, match="empty"):
        store.rename(a.id, "   ")
    store.delete(a.id)
    assert [r.id for r in store.list()] == [b.id]
    with pytest.raises(ModelFormatError, match="no run"):
        store.open(a.id)


@pytest.mark.parametrize("bad", ["../etc", "/etc", ".hidden", "", "a/b", "x" * 200])
def test_ids_cannot_leave_the_store(tmp_path, bad) -> None:
    with pytest.raises(ModelFormatError, match="no run"):
        RunStore(tmp_path).path(bad)


def test_unreadable_folders_are_listed_with_the_reason(filled, tmp_path) -> None:
    store, run_id = filled
    copy = RunStore(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / "manifest.json").write_text("{not json")
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"format_version": 0}))
    part = tmp_path / "partial"
    part.mkdir()
    for f in ("manifest.json", "metrics.json"):
        (part / f).write_bytes((store.root / run_id / f).read_bytes())
    (tmp_path / "a-file.txt").write_text("not a folder")
    records = {r.id: r for r in copy.list()}
    assert set(records) == {"empty", "garbage", "old", "partial"}
    assert "no manifest.json" in records["empty"].error
    assert "not valid JSON" in records["garbage"].error
    assert "format 0" in records["old"].error
    assert "missing" in records["partial"].error and "model.keras" in records["partial"].error
    assert not any(r.ok for r in records.values())


def test_a_run_written_by_train_save_appears_without_run_json(tiny_binary_run, tmp_path) -> None:
    tiny_binary_run.save(tmp_path / "my-run")  # what `train --out runs/my-run` writes
    (record,) = RunStore(tmp_path).list()
    assert record.ok and record.id == "my-run" and record.name == "my-run"
    assert record.task == "binary" and record.rows and not record.has_data


def test_default_location_follows_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("EMBEDDING_CORE_RUNS", raising=False)
    assert default_store_path() == Path("runs")
    monkeypatch.setenv("EMBEDDING_CORE_RUNS", str(tmp_path))
    assert RunStore().root == tmp_path


def test_a_failing_save_leaves_nothing(tmp_path) -> None:
    class Broken:
        def save(self, path: Path) -> None:
            (Path(path) / "manifest.json").write_text("{}")
            raise OSError(28, "No space left on device")

    store = RunStore(tmp_path)
    with pytest.raises(OSError, match="No space"):
        store.save(Broken())  # type: ignore[arg-type]
    assert store.list() == [] and list(tmp_path.iterdir()) == []


def test_a_save_killed_halfway_never_shows_in_the_list(tmp_path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from embedding_core.model.store import RunStore

        class Slow:  # writes part of a run, then hangs until killed
            def save(self, path):
                (Path(path) / "manifest.json").write_text('{{"format_version": 1}}')
                print("half", flush=True)
                time.sleep(60)

        RunStore({str(tmp_path)!r}).save(Slow())
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"half"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    store = RunStore(tmp_path)
    assert store.list() == []
    leftovers = list(tmp_path.iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".")
    assert store.clean_temporary(older_than=0) == 1 and list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ zips


def test_zip_round_trip_gives_a_new_run(filled, tiny_binary_run, tmp_path) -> None:
    store, run_id = filled
    data = store.zip_bytes(run_id)
    other = RunStore(tmp_path)
    record = other.import_zip(data, name="from a colleague")
    assert record.ok and record.id != run_id and record.name == "from a colleague"
    assert record.has_data and record.fields == tiny_binary_run.fields
    f = tiny_binary_run.fields[0]
    opened = other.open(record.id)
    pd.testing.assert_frame_equal(opened.embeddings(f), tiny_binary_run.embeddings(f))


def test_an_imported_run_keeps_the_zips_own_name(filled, tiny_binary_run, tmp_path) -> None:
    """Without a name, the zip names its run: its run.json, else its folder, else a
    fixed name (never the store's temporary folder); the original id is remembered."""
    store, run_id = filled
    other = RunStore(tmp_path / "other")
    record = other.import_zip(store.zip_bytes(run_id))
    assert record.name == "first" and record.dataset == "binary.csv"
    meta = json.loads((other.root / record.id / RUN_JSON).read_text())
    assert meta["imported_from"] == run_id
    plain = tmp_path / "plain"
    tiny_binary_run.save(plain)  # a library save: no run.json
    files = {p.name: p.read_bytes() for p in plain.iterdir()}
    in_folder = other.import_zip(_zip({f"claims model/{n}": b for n, b in files.items()}))
    assert in_folder.name == "claims model" and in_folder.dataset == ""
    assert other.import_zip(_zip(files)).name == IMPORTED_NAME
    # a fallback name (the uploaded file's) never beats the run's own
    assert other.import_zip(_zip(files), default_name="claims v2").name == "claims v2"
    assert other.import_zip(store.zip_bytes(run_id), default_name="claims v2").name == "first"
    assert other.import_zip(_zip(files), name=" a\nb  c ").name == "a b c"


def _zip(files: dict[str, bytes], **kwargs) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, **kwargs) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _run_files(store: RunStore, run_id: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (store.root / run_id).iterdir()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: {**f, "../../evil.py": b"x"}, "unsafe path"),
        (lambda f: {**f, "/etc/passwd": b"x"}, "unsafe path"),
        (lambda f: {**f, "notes.py": b"print(1)"}, "does not have"),
        (lambda f: {k: v for k, v in f.items() if k != "features.json"}, "missing features"),
        (lambda f: {**f, "features.json": b"{}"}, "not a readable saved run"),
        (lambda f: {**f, "data.parquet": b"\0" * 3_000_000}, "zip bomb"),
        (lambda f: {f"a/{k}": v for k, v in f.items()} | {"b/x.json": b"{}"}, "nested|mixes"),
    ],
)
def test_untrusted_zips_are_refused(filled, tmp_path, change, message) -> None:
    store, run_id = filled
    target = RunStore(tmp_path)
    with pytest.raises(DataError, match=message):
        target.import_zip(_zip(change(_run_files(store, run_id))))
    assert target.list() == [] and not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_not_a_zip_and_links_are_refused(tmp_path) -> None:
    store = RunStore(tmp_path)
    with pytest.raises(DataError, match="not a zip"):
        store.import_zip(b"PK\x03\x04 nonsense")
    info = zipfile.ZipInfo("manifest.json")
    info.external_attr = (0o120777 << 16) | 0  # a symlink entry
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(DataError, match="link"):
        store.import_zip(buffer.getvalue())


def test_uploads_are_kept_under_their_digest(tmp_path) -> None:
    store = RunStore(tmp_path)
    digest = store.save_upload("my data.csv", b"a,b\n1,2\n")
    assert len(digest) == 64 and store.load_upload(digest) == ("my data.csv", b"a,b\n1,2\n")
    assert store.load_upload("0" * 64) is None and store.load_upload("../x") is None
    assert store.list() == []  # the uploads folder is not a run


def test_meta_reads_run_json_and_update_adds_to_it(filled, tmp_path) -> None:
    store, run_id = filled
    other = RunStore(tmp_path)
    copy = other.import_zip(store.zip_bytes(run_id))
    assert other.meta(copy.id)["name"] == "first"
    other.update(copy.id, scratch_comparison=[{"variant": "a", "value": 0.5}])
    assert other.meta(copy.id)["scratch_comparison"] == [{"variant": "a", "value": 0.5}]
    with pytest.raises(ModelFormatError, match="There is no run"):
        other.meta("0" * 24)
