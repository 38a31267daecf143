"""Train on a table bigger than memory: rows stream from disk through ``tf.data``.

``train_streaming`` is ``train`` for data that is never loaded whole:

1. **Vocabulary** (``scan_vocabulary``, or a file written by the ``vocab`` command):
   one pass, counts only.
2. **Encode once**: a second pass turns every row into the model's integer and float
   arrays (the same ``FeatureEncoder.transform`` the in-memory path uses) and appends
   them to flat binary files in a temporary folder: about ``4 * (fields + 2 * numeric
   + 1)`` bytes per row on disk, nothing kept in memory. The validation rows
   (``split_mask``) go to their own files. Per-category counts and target means of the
   embedding tables are accumulated on the way.
3. **Epochs** read the encoded files in blocks of ``BLOCK_BATCHES`` batches: each epoch
   visits the blocks in a new random order, pools ``POOL_BLOCKS`` of them and shuffles
   the rows of the pool (indices, not elements: see NOTES), then yields batches into a
   ``tf.data`` pipeline with prefetching. Memory holds one pool, whatever the row count.

Early stopping, the final fit on all rows and the embedding tables work as in
``train``; the result is a normal ``TrainedRun``.

Distribution (``strategy``): ``"mirrored"`` runs the same loop under
``tf.distribute.MirroredStrategy`` (several GPUs of one host). ``"multiworker"`` runs
under ``MultiWorkerMirroredStrategy``, configured by ``TF_CONFIG``: worker ``i`` of
``n`` trains on every ``n``-th file (``TableSource.shard``), every worker runs the same
number of steps per epoch (from the row counts of the vocabulary), and all workers run
exactly ``config.epochs`` epochs: no early stopping and no final fit, because workers
must step together and a stop decided on one worker would leave the others waiting.
Worker 0 (the chief) also reads the validation rows of every file, computes the
validation figures once at the end and returns the run (to save); the others return
``None``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from embedding_core.data.roles import Roles
from embedding_core.data.stream import TableSource, open_table
from embedding_core.errors import DataError, TrainingCancelled
from embedding_core.model.batches import pipeline_options
from embedding_core.model.config import TrainConfig
from embedding_core.model.features import CATEGORICAL_INPUT, NUMERIC_INPUT, FeatureEncoder
from embedding_core.model.frequency import set_bands_of
from embedding_core.model.networks import check_network_size
from embedding_core.model.train import Progress, ProgressCallback
from embedding_core.model.vocabulary import StatusCallback, StreamVocabulary, scan_vocabulary

if TYPE_CHECKING:
    from embedding_core.model.run import TrainedRun

__all__ = ["train_streaming", "Strategy", "STRATEGIES", "BLOCK_BATCHES", "POOL_BLOCKS"]

Strategy = Literal["none", "mirrored", "multiworker"]
STRATEGIES: tuple[str, ...] = ("none", "mirrored", "multiworker")
#: Batches per block read from the encoded files (the unit of shuffling across the file).
BLOCK_BATCHES = 32
#: Blocks pooled and shuffled together (rows in memory: POOL_BLOCKS * BLOCK_BATCHES * batch).
POOL_BLOCKS = 4
#: Rows scored per step when computing validation figures.
_SCORE_ROWS = 65_536


@dataclass
class _Part:
    """One split's encoded rows in flat binary files: ``categorical``, ``numeric``, ``y``."""

    folder: Path
    n_fields: int
    n_numeric: int
    y_dtype: str
    rows: int = 0

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.bin"

    def create(self) -> _Part:
        self.folder.mkdir(parents=True, exist_ok=True)
        for name in ("categorical", "numeric", "y"):
            self._path(name).write_bytes(b"")
        return self

    def append(self, x: dict[str, np.ndarray], y: np.ndarray) -> None:
        if not len(y):
            return
        with self._path("categorical").open("ab") as fh:
            fh.write(np.ascontiguousarray(x[CATEGORICAL_INPUT], dtype=np.int32).tobytes())
        if self.n_numeric:
            with self._path("numeric").open("ab") as fh:
                fh.write(np.ascontiguousarray(x[NUMERIC_INPUT], dtype=np.float32).tobytes())
        with self._path("y").open("ab") as fh:
            fh.write(np.ascontiguousarray(y, dtype=self.y_dtype).tobytes())
        self.rows += len(y)

    def read(self, start: int, stop: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Rows ``start:stop`` (plain reads, no memory map: the page cache is not RSS)."""
        stop = min(stop, self.rows)
        n = max(0, stop - start)
        x = {
            CATEGORICAL_INPUT: _read(
                self._path("categorical"), np.int32, start * self.n_fields, n * self.n_fields
            ).reshape(n, self.n_fields)
        }
        if self.n_numeric:
            x[NUMERIC_INPUT] = _read(
                self._path("numeric"), np.float32, start * self.n_numeric, n * self.n_numeric
            ).reshape(n, self.n_numeric)
        return x, _read(self._path("y"), np.dtype(self.y_dtype), start, n)

    def targets(self) -> np.ndarray:
        return self.read(0, self.rows)[1]


def _read(path: Path, dtype: Any, offset: int, count: int) -> np.ndarray:
    dtype = np.dtype(dtype)
    with path.open("rb") as fh:
        return np.fromfile(fh, dtype=dtype, count=count, offset=offset * dtype.itemsize)


class _TableStats:
    """Per-category row counts and target sums (for the embedding tables), batch by batch."""

    def __init__(self, features: FeatureEncoder) -> None:
        self.features = features
        self.count = {f: np.zeros(features.encoders_[f].size, np.int64) for f in features.fields}
        self.sums = {f: np.zeros(features.encoders_[f].size) for f in features.fields}

    def add(self, categorical: np.ndarray, y_stats: np.ndarray) -> None:
        from embedding_core.model.embeddings import field_statistics

        if not len(categorical):
            return
        for f, s in field_statistics(self.features, categorical, y_stats).items():
            self.count[f] += s["count"]
            self.sums[f] += np.nan_to_num(s["target_mean"] * s["count"])

    def merged(self, other: _TableStats | None = None) -> dict[str, dict[str, np.ndarray]]:
        from embedding_core.model.embeddings import category_statistics

        out = {}
        for f in self.features.fields:
            count = self.count[f] + (other.count[f] if other else 0)
            sums = self.sums[f] + (other.sums[f] if other else 0)
            out[f] = category_statistics(count, sums, multiclass=self.features.task == "multiclass")
        return out


def _encode(
    source: TableSource,
    vocab: StreamVocabulary,
    folder: Path,
    *,
    train_files: set[int],
    keep_valid: bool,
    max_rows: int | None,
    on_status: StatusCallback | None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[_Part, _Part, _TableStats, _TableStats]:
    """Second pass: encode rows to disk (training rows of ``train_files``; validation rows
    of every file when ``keep_valid``) and count the table statistics of all files."""
    from embedding_core.model.features import target_text

    features = vocab.features
    roles = features.roles_
    y_dtype = "int32" if features.task == "multiclass" else "float32"
    parts = [
        _Part(folder / name, len(features.fields), features.n_numeric_inputs, y_dtype).create()
        for name in ("train", "valid")
    ]
    stats = (_TableStats(features), _TableStats(features))
    batches = source.split_batches(
        roles.features,
        roles.target,
        valid_fraction=vocab.valid_fraction,
        seed=vocab.seed,
        max_rows=max_rows,
        only=None if keep_valid else train_files,  # statistics and validation: every file
        should_stop=should_stop,
        on_status=on_status,
        label="encoding",
    )
    for batch in batches:
        frame, valid = batch.frame[batch.labelled], batch.valid[batch.labelled]
        x = features.transform(frame)
        target = frame[roles.target]
        y = features.encode_target(target if features.task == "regression" else target_text(target))
        y_stats = y if features.task == "multiclass" else features.user_target(y)
        for part, stat, rows in ((parts[0], stats[0], ~valid), (parts[1], stats[1], valid)):
            stat.add(x[CATEGORICAL_INPUT][rows], y_stats[rows])
            if part is parts[0] and batch.file not in train_files:
                continue
            if part is parts[1] and not keep_valid:
                continue
            part.append({k: v[rows] for k, v in x.items()}, y[rows])
    return parts[0], parts[1], stats[0], stats[1]


def _batches(
    parts: list[_Part], batch_size: int, seed: int, epoch: int
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """One epoch of shuffled batches over ``parts`` (blocks in random order, rows of a
    pool of blocks permuted); every row once, the last batch possibly smaller."""
    rng = np.random.default_rng([seed, epoch])
    block = batch_size * BLOCK_BATCHES
    blocks = [(p, s) for p in parts for s in range(0, p.rows, block)]
    order = rng.permutation(len(blocks))
    carry: tuple[dict[str, np.ndarray], np.ndarray] | None = None
    for g in range(0, len(order), POOL_BLOCKS):
        pieces = [
            blocks[i][0].read(blocks[i][1], blocks[i][1] + block)
            for i in order[g : g + POOL_BLOCKS]
        ]
        if carry is not None:
            pieces.append(carry)
        x = {k: np.concatenate([p[0][k] for p in pieces]) for k in pieces[0][0]}
        y = np.concatenate([p[1] for p in pieces])
        perm = rng.permutation(len(y))
        x, y = {k: v[perm] for k, v in x.items()}, y[perm]
        last = g + POOL_BLOCKS >= len(order)
        full = len(y) if last else len(y) - len(y) % batch_size
        for i in range(0, full, batch_size):
            yield {k: v[i : i + batch_size] for k, v in x.items()}, y[i : i + batch_size]
        carry = None if last or full == len(y) else ({k: v[full:] for k, v in x.items()}, y[full:])


def _dataset(parts: list[_Part], batch_size: int, seed: int) -> Any:
    """An endless ``tf.data.Dataset`` of shuffled batches, a new shuffle on every pass.

    One generator runs every pass in turn (rather than ``repeat()`` restarting it): at
    the end of ``fit`` a restarted generator stalled for 20-30 s on 1M rows.
    """
    import tensorflow as tf

    first = parts[0]
    spec = {CATEGORICAL_INPUT: tf.TensorSpec((None, first.n_fields), tf.int32)}
    if first.n_numeric:
        spec[NUMERIC_INPUT] = tf.TensorSpec((None, first.n_numeric), tf.float32)
    signature = (spec, tf.TensorSpec((None,), tf.as_dtype(first.y_dtype)))

    def generate() -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        _undo_generator_malloc_patch()
        for epoch in range(1 << 62):
            yield from _batches(parts, batch_size, seed, epoch)

    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return data.prefetch(4).with_options(pipeline_options())


#: glibc ``mallopt`` parameters, and the values its own dynamic tuning ends at on 64-bit.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_TRIM_BYTES, _MMAP_BYTES = 64 << 20, 32 << 20


def _undo_generator_malloc_patch() -> None:
    """Give malloc back the thresholds TensorFlow's generator dataset takes away (glibc).

    When a ``Dataset.from_generator`` runs, TensorFlow sets glibc's ``M_TRIM_THRESHOLD``
    to 128 kB ("Memory patch applied" in its log). Setting it also pins the mmap
    threshold at 128 kB, so from then on every array above 128 kB (each batch, each
    gradient, in the whole process) is a fresh ``mmap`` returned to the system when
    freed, and the next one faults its pages in again. Measured on 3 epochs of 200k rows
    x 20 fields: 1.9M page faults and 7.4 s of system time with the patch, 40k and 1.0 s
    with these values (where glibc's own tuning ends up), and epochs about 2x faster.
    Elsewhere than glibc this does nothing.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_BYTES)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_BYTES)
    except (OSError, AttributeError):
        return


def _predict(model: Any, features: FeatureEncoder, part: _Part, *, traced: bool) -> np.ndarray:
    from embedding_core.model.deepfm import predict_raw
    from embedding_core.model.train import _user_prediction

    pieces = [
        _user_prediction(
            features, predict_raw(model, part.read(s, s + _SCORE_ROWS)[0], traced=traced)
        )
        for s in range(0, part.rows, _SCORE_ROWS)
    ]
    return np.concatenate(pieces)


def _cluster() -> tuple[int, int]:
    """``(worker index, number of workers)`` from ``TF_CONFIG``."""
    try:
        config = json.loads(os.environ.get("TF_CONFIG", ""))
        workers = len(config["cluster"]["worker"])
        task = config["task"]
        index = int(task["index"])
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(
            "--strategy multiworker needs TF_CONFIG set on every worker, e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}} (see README, Scaling out).'
        ) from exc
    if task.get("type") not in ("worker", "chief"):
        raise DataError("TF_CONFIG's task type must be 'worker' for --strategy multiworker.")
    return index, workers


def _build_before_distributed_fit(model: Any, part: _Part) -> None:
    """Build the model's training state from a local batch, not a distributed one.

    Keras 3 (3.15) builds it in ``fit`` by reducing a distributed batch with
    ``strategy.reduce``, which fails for structured batches such as ``(dict, y)``
    ("Attempt to convert a value ({...: PerReplica...}) ... to a Tensor"; keras-team/keras
    issues 20329 and 20585). Building from a local batch first and skipping that step is
    the same build without the reduction.
    """
    import tensorflow as tf

    x, y = part.read(0, 2)
    sample = ({k: tf.constant(v) for k, v in x.items()}, tf.constant(y))
    build = model._maybe_symbolic_build
    build(data_batch=sample)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def _multiworker_epochs(
    model: Any,
    tf_strategy: Any,
    data: Any,
    task: str,
    epochs: int,
    batches: int,
    reporter: Any,
) -> None:
    """The training loop of a multi-worker run: ``epochs`` x ``batches`` synchronous steps.

    Keras 3.15's ``fit`` cannot run under ``MultiWorkerMirroredStrategy`` (it reduces
    scalar logs "along axis 0" and fails; keras-team/keras issue 20585), so this is the
    custom loop of TensorFlow's multi-worker guide: ``strategy.run`` of a replica step
    whose loss is averaged over the global batch, gradients all-reduced by the
    optimizer. Progress goes through the same ``reporter`` callback as ``fit``'s; a stop
    request is not honoured here (one worker stopping alone would leave the others
    waiting).
    """
    import keras
    import tensorflow as tf

    from embedding_core.model.train import _loss

    loss_fn = keras.losses.get(_loss(task))
    optimizer = model.optimizer

    def replica_step(x: Any, y: Any) -> Any:
        if task != "multiclass":
            y = tf.reshape(y, (-1, 1))
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            loss = tf.nn.compute_average_loss(loss_fn(y, pred))  # over the global batch
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    @tf.function
    def step(iterator: Any) -> Any:
        x, y = next(iterator)
        return tf_strategy.reduce("SUM", tf_strategy.run(replica_step, args=(x, y)), axis=None)

    iterator = iter(tf_strategy.experimental_distribute_dataset(data))
    reporter.set_model(model)
    for epoch in range(epochs):
        reporter.on_epoch_begin(epoch)
        total = 0.0
        for b in range(batches):
            total += float(step(iterator))
            reporter.on_train_batch_end(b, {"loss": total / (b + 1)})
        reporter.on_epoch_end(epoch, {"loss": total / batches})


def _make_strategy(name: Strategy) -> Any:
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def train_streaming(
    data: str | Path | TableSource,
    roles: Roles,
    config: TrainConfig | None = None,
    *,
    vocabulary: StreamVocabulary | None = None,
    strategy: Strategy = "none",
    max_rows: int | None = None,
    on_progress: ProgressCallback | None = None,
    on_status: StatusCallback | None = None,
    work_dir: str | Path | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainedRun | None:
    """Train a DeepFM on a table streamed from disk; the same run ``train`` returns.

    Parameters
    ----------
    data : str, Path or TableSource
        A CSV or Parquet file, a folder or a glob of shards (see ``open_table``).
    roles : Roles
        The columns; ``task=None`` infers it from the target.
    config : TrainConfig, optional
        As for ``train``; ``min_count``, ``max_vocabulary``, ``valid_fraction`` and
        ``seed`` shape the vocabulary unless ``vocabulary`` is given.
    vocabulary : StreamVocabulary, optional
        Computed beforehand (``scan_vocabulary`` or the ``vocab`` command); required in
        spirit for ``"multiworker"``, where it saves every worker a pass over all files.
    strategy : {"none", "mirrored", "multiworker"}, default="none"
        See the module docstring.
    max_rows : int, optional
        Use at most this many rows (the first ones).
    on_progress : callable, optional
        ``Progress`` events as in ``train`` (``rows`` says how many rows an epoch has done).
    on_status : callable, optional
        Lines of text about the data passes (rows read, rows per second).
    work_dir : str or Path, optional
        Where the encoded rows are written (a temporary folder inside it, removed at the
        end); the system's temporary folder by default.
    should_stop : callable, optional
        Checked at every batch of the two data passes: returning True stops them
        (``TrainingCancelled``). Once training starts, ``on_progress`` returning
        ``False`` stops it, as in ``train``.

    Returns
    -------
    TrainedRun or None
        ``None`` on the workers other than worker 0 of a multi-worker run.

    Raises
    ------
    DataError
        Bad data or roles (as ``train``), or a vocabulary made for other data.
    TrainingCancelled
        ``should_stop`` returned True during a data pass, or ``on_progress`` returned
        ``False`` before the first epoch finished.
    """
    if strategy not in STRATEGIES:
        raise DataError(f"Unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.")
    t_call = time.perf_counter()
    config = config or TrainConfig()
    notes: list[str] = []
    if config.numeric_encoding != "scaled" and roles.numeric:
        notes.append(
            "Streamed training takes numeric columns as scaled values only "
            f"(numeric_encoding={config.numeric_encoding!r} learns bin edges from all rows "
            "in memory): this run used 'scaled'. Train in memory for bins or PLE."
        )
        config = config.replace(numeric_encoding="scaled")
    source = data if isinstance(data, TableSource) else open_table(data)
    index, workers = _cluster() if strategy == "multiworker" else (0, 1)
    if workers > 1:
        source.shard(index, workers)  # refuses fewer files than workers, before any pass
    if vocabulary is None:
        vocabulary = scan_vocabulary(
            source,
            roles,
            min_count=config.min_count,
            max_vocabulary=config.max_vocabulary,
            valid_fraction=config.valid_fraction,
            seed=config.seed,
            max_rows=max_rows,
            on_status=on_status,
            should_stop=should_stop,
        )
    else:
        vocabulary.check_matches(source, roles)
    if notes:
        vocabulary = dataclasses.replace(vocabulary, warnings=[*vocabulary.warnings, *notes])
    features = vocabulary.features
    set_bands_of(features, config)  # set either way: a vocabulary may be reused
    check_network_size(features, config)  # before the rows are encoded or a model built
    chief = index == 0
    my_files = set(range(index, len(source.files), workers))
    distributed = strategy == "multiworker"

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf_strategy = _make_strategy(strategy)  # before any other TensorFlow op (multiworker)
    folder = Path(tempfile.mkdtemp(prefix="embedding_core_rows_", dir=work_dir))
    try:
        train_part, valid_part, train_stats, valid_stats = _encode(
            source,
            vocabulary,
            folder,
            train_files=my_files,
            keep_valid=chief,
            max_rows=max_rows,
            on_status=on_status,
            should_stop=should_stop,
        )
        return _fit(
            features,
            config,
            vocabulary,
            train_part,
            valid_part,
            (train_stats, valid_stats),
            tf_strategy=tf_strategy,
            strategy_name=strategy,
            distributed=distributed,
            workers=workers,
            index=index,
            on_progress=on_progress,
            t_call=t_call,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fit(
    features: FeatureEncoder,
    config: TrainConfig,
    vocabulary: StreamVocabulary,
    train_part: _Part,
    valid_part: _Part,
    stats: tuple[_TableStats, _TableStats],
    *,
    tf_strategy: Any,
    strategy_name: str,
    distributed: bool,
    workers: int,
    index: int,
    on_progress: ProgressCallback | None,
    t_call: float,
) -> TrainedRun | None:
    from embedding_core.model.final_fit import resolve_final_fit, resolve_patience
    from embedding_core.model.metrics import baseline_metrics, task_metrics
    from embedding_core.model.stopping import early_stopper
    from embedding_core.model.train import (
        _baseline_target,
        _compiled_network,
        _early_weights,
        _finish_run,
        _make_reporter,
        _model_metrics,
        _refit,
        _refit_metrics,
        effective_batch_size,
        validation_figures,
    )

    task = features.task
    chief = index == 0
    n_classes = features.n_outputs if task == "multiclass" else 1
    y_train = train_part.targets()
    if distributed:
        # Every worker must run the same number of steps: the smallest share decides.
        shares = [
            sum(f["train_rows"] for f in vocabulary.files[w::workers]) for w in range(workers)
        ]
        rows_per_epoch = min(shares)
    else:
        rows_per_epoch = train_part.rows
    batch_size = effective_batch_size(config.batch_size, rows_per_epoch * workers)
    worker_batch = max(1, batch_size // workers)
    batches = max(1, math.ceil(rows_per_epoch / worker_batch))

    with tf_strategy.scope():
        model, plan = _compiled_network(
            features,
            config,
            task,
            n_classes,
            y_train,
            batches,
            build_slots=strategy_name == "none",  # distributed runs build them in their step
        )
    final_fit = None if distributed else resolve_final_fit(config, train_part.rows, task)
    initial_weights = model.get_weights() if final_fit == "refit" else None
    y_valid = valid_part.targets() if chief else np.empty(0)
    y_valid_user = features.user_target(y_valid) if task != "multiclass" else y_valid

    def validation_logs() -> dict[str, float]:
        if distributed:
            return {}  # figures once at the end, on worker 0 (workers must not wait)
        pred = _predict(model, features, valid_part, traced=True)
        y_scored = y_valid_user if task != "multiclass" else y_valid
        return validation_figures(task, features, y_scored, y_valid, pred)

    reporter = _make_reporter(
        on_progress, config.epochs, batches, validation_logs, t_call, batch_size=worker_batch
    )
    callbacks = [reporter]
    stopper = None
    if not distributed:
        stopper = early_stopper(
            resolve_patience(config, train_part.rows), config.epoch_tolerance, task
        )
        callbacks.append(stopper)
    if not reporter.send(Progress("start", 0, config.epochs, 0, batches)):
        raise TrainingCancelled("Training was cancelled before it started; no model was kept.")

    # Each worker's pipeline reads only its own encoded rows: no auto-sharding. Its
    # batches are global-sized; tf.distribute splits them over the replicas in sync.
    train_data = _dataset([train_part], batch_size, config.seed + index)
    t_fit = time.perf_counter()
    if distributed:
        _multiworker_epochs(model, tf_strategy, train_data, task, config.epochs, batches, reporter)
    else:
        if strategy_name != "none":
            _build_before_distributed_fit(model, train_part)
        model.fit(
            train_data,
            epochs=config.epochs,
            steps_per_epoch=batches,
            shuffle=False,
            verbose=0,
            callbacks=callbacks,
        )
    train_seconds = time.perf_counter() - t_fit
    epochs_run = len(reporter.history)
    if epochs_run == 0:
        raise TrainingCancelled(
            "Training was cancelled before the first epoch finished; no model was kept."
        )
    if not chief:
        return None

    pred = _predict(model, features, valid_part, traced=not distributed)
    final = task_metrics(task, y_valid_user if task != "multiclass" else y_valid, pred)
    best_epoch = int(stopper.best_epoch) + 1 if stopper is not None else epochs_run
    rows_done = rows_per_epoch * workers
    metrics: dict[str, Any] = {
        "task": task,
        "n_train": int(vocabulary.train_rows),
        "n_valid": int(valid_part.rows),
        "epochs_run": epochs_run,
        "batch_size": batch_size,
        "best_epoch": best_epoch,
        "stopped_early": bool(stopper is not None and stopper.stopped_epoch > 0),
        "stopped_by_user": reporter.stopped_by_user,
        "train_seconds": round(train_seconds, 3),
        "rows_per_second": round(rows_done * epochs_run / train_seconds, 1),
        "steady_rows_per_second": None,
        "time_to_first_epoch_seconds": round(reporter.first_epoch_at - t_call, 3),
        "refit": False,
        "final_fit": None,
        "refit_epochs": 0,
        "refit_rows": 0,
        "refit_seconds": 0.0,
        "streamed": True,
        "strategy": strategy_name,
        "workers": workers,
        **_model_metrics(config, plan, model),
    }
    later = reporter.epoch_seconds[1:]
    if later:
        metrics["steady_rows_per_second"] = round(rows_done / float(np.mean(later)), 1)
    metrics.update({f"valid_{k}": v for k, v in final.items()})
    baseline = baseline_metrics(
        task,
        _baseline_target(
            task, y_train, features.user_target(y_train) if task != "multiclass" else y_train
        ),
        y_valid_user if task != "multiclass" else y_valid,
        n_classes=n_classes,
    )
    metrics.update({f"baseline_{k}": v for k, v in baseline.items()})

    table_stats = stats[0].merged()
    early_weights = None
    if final_fit is not None and not reporter.stopped_by_user:
        early_weights = _early_weights(model, config, final_fit)
        # "refit": all rows from the initial weights; "holdout": one pass over the held-out rows
        parts = [valid_part] if final_fit == "holdout" else [train_part, valid_part]
        all_data = _dataset(parts, batch_size, config.seed + 1)
        all_rows = train_part.rows + valid_part.rows
        fitted_rows = sum(part.rows for part in parts)
        all_batches = math.ceil(fitted_rows / batch_size)
        refit_epochs = 1 if final_fit == "holdout" else best_epoch
        t_refit = time.perf_counter()
        done = _refit(
            model,
            initial_weights,
            {"x": all_data, "steps_per_epoch": all_batches, "shuffle": False},
            all_batches,
            refit_epochs,
            reporter.send,
            batch_size=batch_size,
        )
        refit_seconds = time.perf_counter() - t_refit
        if not done:
            metrics["stopped_by_user"] = True
            early_weights = None  # the early-stopped model is the kept one
        else:
            table_stats = stats[0].merged(stats[1])
            metrics.update(
                _refit_metrics(
                    train_part.rows,
                    epochs_run,
                    train_seconds,
                    all_rows,
                    refit_epochs,
                    refit_seconds,
                    final_fit=final_fit,
                    fitted_rows=fitted_rows,
                )
            )
    return _finish_run(
        model,
        features,
        features.roles_,
        config,
        metrics,
        reporter,
        table_stats,
        list(vocabulary.warnings),
        batches,
        early_weights=early_weights,
    )
