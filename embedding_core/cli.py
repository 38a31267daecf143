"""Command line interface: ``python -m embedding_core {train,predict,embed,info,lift,...}``.

The commands, their options and their outputs are a contract other tools script
against: add options, never rename. Bad arguments or data give one line on stderr
and exit code 2; set ``EMBEDDING_CORE_DEBUG=1`` to see a traceback for real bugs.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from embedding_core.errors import DataError, EmbeddingCoreError
from embedding_core.formatting import pairs
from embedding_core.model.config import (
    CROSSES,
    DEEP_PRECISIONS,
    FREQUENCY_BANDS,
    MAX_EPOCHS,
    MAX_SEED,
    parse_hidden_units,
)
from embedding_core.model.final_fit import BIG_TABLE_ROWS
from embedding_core.model.frequency import MIN_CATEGORIES
from embedding_core.model.metrics import missing_metric_note
from embedding_core.model.mlp import BF16_MIN_ROWS
from embedding_core.model.numeric import NUMERIC_ENCODINGS
from embedding_core.strict_json import dumps
from embedding_core.text import NAME_LIMIT, printable

if TYPE_CHECKING:
    from embedding_core.model.run import TrainedRun

__all__ = ["main", "build_parser"]

EXIT_USAGE = 2
#: A single CSV larger than this on disk is streamed rather than read into memory.
STREAM_CSV_ABOVE_BYTES = 100_000_000


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _columns(text: str) -> tuple[str, ...]:
    """Column names separated by commas; a name containing a comma goes in double quotes."""
    try:
        fields = next(csv.reader([text], skipinitialspace=True), [])
    except csv.Error:
        raise argparse.ArgumentTypeError(
            "expected comma-separated column names, e.g. a,b or '\"name, with comma\",b'"
        ) from None
    cols = tuple(c.strip() for c in fields if c.strip())
    if not cols:
        raise argparse.ArgumentTypeError("expected a comma-separated list of column names")
    return cols


class _ExtendColumns(argparse.Action):
    """``--categorical`` may be repeated; each value is a list (see ``_columns``)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        previous = getattr(namespace, self.dest, None)
        if previous is None or previous is self.default:
            previous = ()
        setattr(namespace, self.dest, (*previous, *values))


def _whole(low: int, high: int | None = None) -> Any:
    """An argparse type: a whole number in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low:,} and {high:,}" if high is not None else f"at least {low:,}"
            raise argparse.ArgumentTypeError(f"expected a whole number {bound}, got {text}")
        return value

    return parse


def _finite(text: str) -> float:
    """An argparse type: a finite number (no inf, no nan)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def _units(text: str) -> tuple[int, ...]:
    try:
        return parse_hidden_units(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers, e.g. 256,128,64, got {text!r}"
        ) from None


def _seeds(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError("expected comma-separated integers, e.g. 0,1,2") from None
    if len(seeds) < 2 or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise argparse.ArgumentTypeError("expected at least two different seeds >= 0, e.g. 0,1,2")
    return seeds


def _add_roles(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="CSV file (gzip, ; tab | separators accepted)")
    p.add_argument(
        "--categorical",
        required=True,
        type=_columns,
        action=_ExtendColumns,
        help="A,B,C; repeat the option or quote a name that has a comma: '\"a, b\",C'",
    )
    p.add_argument(
        "--numeric", type=_columns, action=_ExtendColumns, default=(), help="X,Y (optional)"
    )
    p.add_argument("--target", required=True)
    p.add_argument("--task", choices=("auto", "binary", "regression", "multiclass"), default="auto")
    p.add_argument(
        "--max-rows", type=_whole(1), default=None, help="refuse files with more rows than this"
    )


def _add_vocabulary(p: argparse.ArgumentParser) -> None:
    p.add_argument("--min-count", type=_whole(1), default=None, help="rarer categories -> unknown")
    p.add_argument(
        "--max-vocabulary",
        type=_whole(1),
        default=None,
        help="most categories kept per field (default 1000000); the rest -> unknown",
    )


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--embedding-dim", type=_whole(1), default=None, help="vector size k (default 16)"
    )
    p.add_argument("--epochs", type=_whole(1), default=None, help="max epochs (early stopping)")
    p.add_argument("--batch-size", type=_whole(1), default=None)
    p.add_argument("--learning-rate", type=_finite, default=None)
    p.add_argument("--dropout", type=_finite, default=None)
    p.add_argument("--l2", type=_finite, default=None, help="L2 penalty on embeddings")
    _add_vocabulary(p)
    p.add_argument("--patience", type=_whole(0), default=None, help="early-stopping patience")
    p.add_argument(
        "--valid-fraction",
        type=_finite,
        default=None,
        help="share of the training rows held out for early stopping and the validation "
        "figures (default 0.2)",
    )
    p.add_argument(
        "--epoch-tolerance",
        type=_finite,
        default=None,
        help="later epochs within this fraction of the lowest validation loss tie with it; "
        "early stopping keeps the tied epoch with the highest AUC (accuracy for classes) "
        "(default 0.005; 0: the lowest-loss epoch)",
    )
    p.add_argument("--hidden-units", type=_units, default=None, help="e.g. 256,128,64")
    p.add_argument(
        "--numeric-encoding",
        choices=NUMERIC_ENCODINGS,
        default=None,
        help="numeric columns as scaled values, or also as vectors (quantile bins or "
        "piecewise-linear encoding) that the FM part pairs with the categories",
    )
    p.add_argument(
        "--numeric-bins",
        type=_whole(1),
        default=None,
        help="most quantile bins per numeric column with --numeric-encoding bins or ple "
        "(default 32; fewer on small data)",
    )
    p.add_argument(
        "--crosses",
        choices=CROSSES,
        default=None,
        help="auto (default): cross pairs of columns of small whole numbers (month x day) "
        "whose cells act on the target together, a vector per cell; none: never",
    )
    p.add_argument(
        "--frequency-bands",
        choices=FREQUENCY_BANDS,
        default=None,
        help=f"auto: fields of at least {MIN_CATEGORIES} categories also get a vector per "
        "frequency band (how many training rows a category has, on a log scale), so rare "
        "categories are known as rare: better predictions where rarity matters, worse "
        "neighbours; none (default): never",
    )
    p.add_argument(
        "--category-dropout",
        type=_finite,
        default=None,
        help=f"in training, replace a row's category of a field of at least {MIN_CATEGORIES} "
        "categories by the field's unknown vector with this probability, so that vector, "
        "which unseen categories get, learns from every category's rows (DeepFM)",
    )
    p.add_argument(
        "--deep-precision",
        choices=DEEP_PRECISIONS,
        default=None,
        help="what the MLP's hidden layers compute in: auto (default) is bfloat16 from "
        f"{BF16_MIN_ROWS:,} training rows up on a CPU with bfloat16 instructions "
        "(AVX512-BF16, AMX), else float32",
    )
    p.add_argument(
        "--ema-epochs",
        type=_finite,
        default=None,
        help="weight averaging: validate and keep a moving average of the weights with "
        "this time constant in epochs (0: off)",
    )
    p.add_argument(
        "--no-refit",
        dest="refit",
        action="store_false",
        help="keep the early-stopped model instead of a final fit on all rows (faster)",
    )
    p.add_argument(
        "--final-fit",
        choices=("auto", "refit", "holdout"),
        default=None,
        help="the final fit after early stopping: refit on all rows for the best epoch "
        "count, or one pass over the validation rows (auto: refit below "
        f"{BIG_TABLE_ROWS:,} training rows and for regression)",
    )
    p.add_argument(
        "--no-average-early",
        dest="average_early",
        action="store_false",
        help="predict with the refit model alone (default: average its predictions with "
        "the early-stopped model's)",
    )
    p.add_argument(
        "--row-bias-correction",
        action="store_true",
        help="correct Adam per category row by its own update count (steadier rare rows)",
    )
    p.add_argument(
        "--embedding-lr-factor",
        type=float,
        default=None,
        help="the category tables learn at this multiple of the learning rate (default "
        "1; 3 gives rare categories better neighbours, at some test AUC on tables of "
        "many small fields)",
    )
    p.add_argument(
        "--fm-field-weights",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="learn a weight per pair of fields in the FM term, so pairs the target does "
        "not need fade out (default: the library's, TrainConfig.fm_field_weights)",
    )
    p.add_argument("--seed", type=_whole(0, MAX_SEED), default=0)
    p.add_argument(
        "--model",
        choices=("deepfm", "entity"),
        default=None,
        help="deepfm (default; one shared vector size) or entity (a size per field)",
    )
    p.add_argument(
        "--embedding-dims",
        default=None,
        help="entity model: per-field sizes, e.g. job=12,month=4 (default min(50, ceil(n/2)))",
    )
    p.add_argument(
        "--init-embeddings",
        default=None,
        metavar="DIR",
        help="start from the vectors of a saved run (directory or zip), matched by category",
    )
    p.add_argument(
        "--freeze-embeddings",
        action="store_true",
        help="with --init-embeddings: keep the loaded vectors fixed instead of fine-tuning",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m embedding_core``."""
    parser = _Parser(
        prog="python -m embedding_core",
        description="Learn, inspect and reuse DeepFM embeddings of categorical columns.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("train", help="train DeepFM and save the run to a directory")
    _add_roles(p)
    _add_config(p)
    p.add_argument("--out", required=True, help="output directory (created)")
    _add_overwrite(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument(
        "--seeds",
        type=_seeds,
        default=None,
        help="e.g. 0,1,2: train once per seed (first at --out, the others at OUT-seed<N>) "
        "and write stability.parquet into --out (replaces --seed)",
    )
    p.add_argument(
        "--stream",
        action="store_true",
        help="stream rows from disk even for a small CSV (Parquet, folders, globs and "
        f"CSV files over {STREAM_CSV_ABOVE_BYTES // 1_000_000} MB always stream)",
    )
    p.add_argument("--vocabulary", default=None, help="file written by `vocab` (implies streaming)")
    p.add_argument(
        "--strategy",
        choices=("none", "mirrored", "multiworker"),
        default="none",
        help="tf.distribute strategy (implies streaming); multiworker reads TF_CONFIG",
    )
    p.add_argument("--work-dir", default=None, help="folder for the encoded rows (streaming)")

    p = sub.add_parser("vocab", help="one pass over the data: the vocabulary file workers read")
    _add_roles(p)
    _add_vocabulary(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the validation split")
    p.add_argument("--out", required=True, help="vocabulary file to write (JSON)")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("predict", help="predict with a saved run")
    p.add_argument("--model", required=True, help="directory written by `train`")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="CSV: the input rows plus `prediction`")
    _add_raw(p)

    p = sub.add_parser("embed", help="replace categorical columns by their vectors")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="CSV with <column>_emb_<i> columns")
    _add_raw(p)

    p = sub.add_parser("info", help="show fields, vocabulary sizes, task and metrics")
    p.add_argument("--model", required=True)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("lift", help="do embeddings improve plain models? (no leakage)")
    _add_roles(p)
    p.add_argument("--folds", type=int, default=None, help="k-fold CV (default: holdout)")
    p.add_argument("--models", type=_columns, default=("logistic", "hgb", "knn", "rf"))
    p.add_argument(
        "--epochs", type=_whole(1, MAX_EPOCHS), default=None, help="max DeepFM epochs per fit"
    )
    p.add_argument("--seed", type=_whole(0, MAX_SEED), default=0)
    p.add_argument("--out", required=True, help="JSON file (the lift contract)")
    p.add_argument("--quiet", action="store_true")

    p = sub.add_parser("profile", help="profile a CSV's columns and suggest roles")
    p.add_argument("--data", required=True)
    p.add_argument("--max-rows", type=_whole(1), default=None)

    p = sub.add_parser("export", help="export embeddings (Projector TSV, Parquet, CSV, report)")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--format",
        choices=("projector", "parquet", "csv", "report"),
        default="projector",
        help="projector: TSV + projector_config.pbtxt (tensorboard --logdir OUT); "
        "csv: one CSV per field; report: one self-contained report.html",
    )
    p.add_argument("--lift", default=None, help="report: include this `lift` JSON file")
    _add_overwrite(p)

    p = sub.add_parser("runs", help="list or delete the runs of the run store")
    runs = p.add_subparsers(dest="runs_command", required=True, parser_class=_Parser)
    for name, text in [("list", "list the runs, newest first"), ("delete", "delete one run")]:
        q = runs.add_parser(name, help=text)
        q.add_argument(
            "--store",
            default=None,
            help="run store folder (default: $EMBEDDING_CORE_RUNS or ./runs)",
        )
        if name == "list":
            q.add_argument("--json", action="store_true", help="machine-readable output")
        else:
            q.add_argument("id", help="the run's id (its folder name)")

    p = sub.add_parser("neighbours", help="the categories whose vectors are nearest one category")
    p.add_argument("--model", required=True, help="run directory")
    p.add_argument("--field", required=True, help="categorical field or binned numeric column")
    p.add_argument(
        "--category", default=None, help="the query (default: the field's most frequent category)"
    )
    p.add_argument("--k", type=_whole(1, 1000), default=10, help="how many neighbours")
    p.add_argument("--metric", choices=("cosine", "euclidean"), default="cosine")
    p.add_argument(
        "--among",
        default=None,
        help="look among another field's categories or a numeric column's bins (DeepFM runs)",
    )
    p.add_argument(
        "--reliable-count",
        type=_whole(1),
        default=30,
        help="neighbours seen fewer times in training are marked unreliable",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--out", default=None, help="also write the neighbours to this CSV")

    p = sub.add_parser("compare", help="compare the embeddings of two runs, field by field")
    p.add_argument("--a", required=True, help="run directory A (rotated onto B)")
    p.add_argument("--b", required=True, help="run directory B")
    p.add_argument("--field", default=None, help="one field (default: every shared field)")
    p.add_argument("--k", type=_whole(1, 1000), default=10, help="neighbours compared per category")
    p.add_argument("--out", required=True, help="CSV: one row per field and category")
    return parser


def _add_overwrite(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overwrite", action="store_true", help="replace --out if it is a non-empty directory"
    )


def _add_raw(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--raw",
        action="store_true",
        help="write text exactly as read (no ' before cells a spreadsheet would run as formulas)",
    )


def _write_csv(frame: Any, path: str, raw: bool) -> None:
    """Write ``frame`` to ``path`` atomically, formula-guarded unless ``raw``."""
    from embedding_core.atomic import atomic_file
    from embedding_core.reuse.formula_guard import guard_frame

    with atomic_file(path, "w", encoding="utf-8", newline="") as fh:
        (frame if raw else guard_frame(frame)).to_csv(fh, index=False)


def _read(path: str, max_rows: int | None = None) -> Any:
    from embedding_core.data.csv_reader import read_csv

    if not Path(path).is_file():
        raise DataError(f"Cannot read {_path(path)}: no such file.")
    frame = read_csv(path, max_rows=max_rows)
    for note in frame.attrs.get("notes", []):  # decimal commas read, a title line skipped...
        print(f"note: {_one_line(note)}", file=sys.stderr)
    return frame


def _path(path: str | Path) -> str:
    return repr(printable(path, NAME_LIMIT))


def _roles(args: argparse.Namespace) -> Any:
    from embedding_core.data.roles import Roles

    task = None if args.task == "auto" else args.task
    return Roles(categorical=args.categorical, numeric=args.numeric, target=args.target, task=task)


def _config(args: argparse.Namespace) -> Any:
    from embedding_core.model.config import TrainConfig

    changes: dict[str, Any] = {
        "seed": args.seed,
        "refit": getattr(args, "refit", True),
        "average_early": getattr(args, "average_early", True),
    }
    for arg, name in [
        ("embedding_dim", "embedding_dim"),
        ("epochs", "epochs"),
        ("batch_size", "batch_size"),
        ("learning_rate", "learning_rate"),
        ("dropout", "dropout"),
        ("l2", "l2_embedding"),
        ("min_count", "min_count"),
        ("max_vocabulary", "max_vocabulary"),
        ("patience", "patience"),
        ("valid_fraction", "valid_fraction"),
        ("epoch_tolerance", "epoch_tolerance"),
        ("numeric_encoding", "numeric_encoding"),
        ("numeric_bins", "numeric_bins"),
        ("final_fit", "final_fit"),
        ("ema_epochs", "ema_epochs"),
        ("crosses", "crosses"),
        ("frequency_bands", "frequency_bands"),
        ("category_dropout", "category_dropout"),
        ("deep_precision", "deep_precision"),
        ("embedding_lr_factor", "embedding_lr_factor"),
    ]:
        value = getattr(args, arg, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "row_bias_correction", False):
        changes["row_bias_correction"] = True
    if getattr(args, "fm_field_weights", None) is not None:
        changes["fm_field_weights"] = args.fm_field_weights
    if getattr(args, "hidden_units", None):
        changes["hidden_units"] = args.hidden_units
    if getattr(args, "model", None):
        changes["model"] = args.model
    if getattr(args, "embedding_dims", None):
        from embedding_core.model.sizes import parse_embedding_dims

        changes["embedding_dims"] = parse_embedding_dims(args.embedding_dims)
    if getattr(args, "init_embeddings", None):
        if not Path(args.init_embeddings).exists():
            raise DataError(
                f"--init-embeddings {args.init_embeddings}: no such directory; give the "
                "--out directory of an earlier `train` (or a zip of it)."
            )
        changes["init_embeddings"] = args.init_embeddings
    if getattr(args, "freeze_embeddings", False):
        if not getattr(args, "init_embeddings", None):
            raise DataError("--freeze-embeddings needs --init-embeddings DIR (what to freeze).")
        changes["freeze_embeddings"] = True
    try:
        return TrainConfig().replace(**changes)
    except ValueError as e:
        raise DataError(str(e)) from None


class _ProgressPrinter:
    """A one-line progress bar on a terminal; one line per epoch otherwise."""

    def __init__(self, stream: TextIO, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.started = time.perf_counter()
        self._phase: tuple[str, int] | None = None
        self._phase_start = (0.0, 0)  # (time, rows) at the first event of an epoch
        self._fit_start: dict[str, float] = {}

    def status(self, line: str) -> None:
        """A line about the data passes of streaming training."""
        if not self.quiet:
            self.stream.write(f"{line}\n")
            self.stream.flush()

    def _speed(self, p: Any) -> str:
        """Rows per second in the current epoch and the time left (an upper bound while
        early stopping may still end training sooner)."""
        now = time.perf_counter()
        kind = "refit" if p.kind == "refit" else "fit"
        start = self._fit_start.setdefault(kind, now)
        if self._phase != (kind, p.epoch):
            self._phase, self._phase_start = (kind, p.epoch), (now, p.rows)
        t0, rows0 = self._phase_start
        parts = []
        if now > t0 and p.rows > rows0:
            parts.append(f"{(p.rows - rows0) / (now - t0):,.0f} rows/s")
        if p.fraction > 0 and now > start:
            left = (now - start) * (1 - p.fraction) / p.fraction
            bound = "<= " if kind == "fit" else ""
            parts.append(f"ETA {bound}{int(left // 60)}:{int(left % 60):02d}")
        return " ".join(parts)

    def __call__(self, p: Any) -> None:
        if self.quiet:
            return
        logs = " ".join(f"{k} {v:.4f}" for k, v in sorted(p.logs.items()) if _is_number(v))
        name = "epoch"
        if p.kind == "refit":
            name = "final fit on all rows, epoch"
            if p.final_fit == "holdout":
                name = "final fit on the validation rows, pass"
        if p.kind in ("batch", "refit") and p.batches:
            speed = self._speed(p)
        if p.kind in ("batch", "refit") and self.tty and p.batches:
            bar = "#" * int(30 * p.fraction)
            line = f"{name} {p.epoch}/{p.epochs} [{bar:<30}] {p.fraction:4.0%} {speed} {logs}"
            self.stream.write(f"\r{line}\033[K")
            self.stream.flush()
        if p.kind == "refit" and p.batch == p.batches:
            elapsed = time.perf_counter() - self.started
            prefix = "\r" if self.tty else ""
            self.stream.write(f"{prefix}{name} {p.epoch}/{p.epochs} {elapsed:6.1f}s {logs}\n")
            self.stream.flush()
        elif p.kind == "epoch":
            elapsed = time.perf_counter() - self.started
            prefix = "\r" if self.tty else ""
            self.stream.write(f"{prefix}epoch {p.epoch}/{p.epochs} {elapsed:6.1f}s {logs}\n")
            self.stream.flush()


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float)


def _streams(args: argparse.Namespace) -> bool:
    from embedding_core.data.stream import is_streaming_source

    if args.stream or args.vocabulary or args.strategy != "none":
        return True
    return is_streaming_source(args.data, csv_above_bytes=STREAM_CSV_ABOVE_BYTES)


def _open_table(spec: str) -> Any:
    """``open_table``, with notes on stderr: the files a folder or pattern matched, what the
    reader did (a title line skipped)."""
    from embedding_core.data.stream import files_note, open_table

    source = open_table(spec)
    for note in [files_note(spec, source), *source.notes]:
        if note:
            print(f"note: {_one_line(note)}", file=sys.stderr)
    return source


def _train_streamed(args: argparse.Namespace, roles: Any, config: Any, printer: Any) -> Any:
    """``train_streaming`` for ``train``; ``None`` on workers other than worker 0."""
    from embedding_core.model.vocabulary import StreamVocabulary

    if args.seeds and len(args.seeds) > 1:
        raise DataError("--seeds trains in memory only: with streamed data, train once per --seed.")
    vocabulary = StreamVocabulary.load(args.vocabulary) if args.vocabulary else None
    source = _open_table(args.data)  # a file that cannot be read is refused before the import
    _quiet_tensorflow_import()
    from embedding_core.model.streaming import train_streaming

    return train_streaming(
        source,
        roles,
        config,
        vocabulary=vocabulary,
        strategy=args.strategy,
        max_rows=args.max_rows,
        on_progress=printer,
        on_status=printer.status,
        work_dir=args.work_dir,
    )


def _cmd_train(args: argparse.Namespace) -> int:
    from embedding_core.atomic import check_output_dir

    roles, config = _roles(args), _config(args)
    seeds = args.seeds or (config.seed,)
    check_output_dir(args.out, overwrite=args.overwrite)
    outs = [Path(args.out), *(Path(f"{args.out}-seed{s}") for s in seeds[1:])]
    for out in outs[1:]:
        check_output_dir(out, overwrite=args.overwrite)
    runs = []
    if _streams(args):
        run = _train_streamed(args, roles, config, _ProgressPrinter(sys.stderr, args.quiet))
        if run is None:  # a worker other than worker 0: the chief writes the run
            print(dumps({"out": None, "worker": "done"}))
            return 0
        run.save(outs[0], overwrite=args.overwrite)
        rows = int(run.metrics["n_train"] + run.metrics["n_valid"])
        _write_run_json(run, outs[0], args.data, rows, outs)
        runs.append(run)
    else:
        from embedding_core.model.train import train

        frame = _read(args.data, args.max_rows)
        _quiet_tensorflow_import()
        for seed, out in zip(seeds, outs, strict=True):
            run = train(
                frame,
                roles,
                config.replace(seed=seed),
                on_progress=_ProgressPrinter(sys.stderr, args.quiet),
            )
            run.save(out, overwrite=args.overwrite)
            _write_run_json(run, out, args.data, len(frame), outs)
            runs.append(run)
    run = runs[0]
    from embedding_core.analysis.signal import too_good

    suspect = too_good(run.metrics, run.roles.task)
    for warning in [*run.warnings, *([suspect] if suspect else [])]:  # notes on stderr
        _note(warning)
    summary = {k: v for k, v in run.metrics.items() if k.startswith("valid_")}
    for name, value in summary.items():  # null in the JSON below: say why
        if isinstance(value, float) and not math.isfinite(value):
            _note(missing_metric_note(name))
    extra: dict[str, Any] = {"crosses": [list(p) for p in run.crosses]} if run.crosses else {}
    if run.frequency_fields:
        extra["frequency_fields"] = run.frequency_fields
    if len(runs) > 1:
        from embedding_core.analysis.stability import stability_all_fields
        from embedding_core.model.store import STABILITY_FILE

        stability_all_fields(runs).to_parquet(outs[0] / STABILITY_FILE, index=False)
        extra["siblings"] = [str(o) for o in outs[1:]]
        extra["stability"] = str(outs[0] / STABILITY_FILE)
    print(dumps({"out": str(args.out), "task": run.roles.task, **summary, **extra}))
    return 0


def _cmd_vocab(args: argparse.Namespace) -> int:
    from embedding_core.model.vocabulary import scan_vocabulary

    config = _config(args)
    printer = _ProgressPrinter(sys.stderr, args.quiet)
    vocabulary = scan_vocabulary(
        _open_table(args.data),
        _roles(args),
        min_count=config.min_count,
        max_vocabulary=config.max_vocabulary,
        valid_fraction=config.valid_fraction,
        seed=config.seed,
        max_rows=args.max_rows,
        on_status=printer.status,
    )
    vocabulary.save(args.out)
    features = vocabulary.features
    sizes = {f: features.encoders_[f].size for f in features.fields}
    print(
        dumps(
            {
                "out": str(args.out),
                "task": features.task,
                "train_rows": vocabulary.train_rows,
                "valid_rows": vocabulary.valid_rows,
                "files": len(vocabulary.files),
                "vocabulary_sizes": sizes,
            }
        )
    )
    return 0


def _write_run_json(run: TrainedRun, out: Path, data: str, rows: int, group: list[Path]) -> None:
    """``run.json`` next to the run, so the run store lists it with its dataset."""
    from embedding_core.model.store import run_metadata, write_run_json

    extra: dict[str, Any] = {}
    if len(group) > 1:
        primary = group[0].name
        extra = (
            {"siblings": [g.name for g in group[1:]]}
            if out == group[0]
            else {"sibling_of": primary}
        )
    meta = run_metadata(run, run_id=out.name, dataset=Path(data).name, rows=rows, extra=extra)
    write_run_json(out, meta)


def _load_run(path: str, *, model: bool = False) -> TrainedRun:
    """``TrainedRun.load`` (tables and JSON only; the Keras model loads lazily). With
    ``model=True`` (``predict``), TensorFlow is imported first, quietly."""
    if model:
        _quiet_tensorflow_import()
    from embedding_core.model.run import TrainedRun

    return TrainedRun.load(path)


def _quiet_tensorflow_import() -> None:
    """Import TensorFlow with its C++ start-up lines kept off stderr, so stderr keeps the
    one-line contract (``quiet_stderr.native_stderr_silenced``)."""
    if "tensorflow" in sys.modules:
        return
    from embedding_core.quiet_stderr import native_stderr_silenced

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_silenced():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


def _cmd_predict(args: argparse.Namespace) -> int:
    from embedding_core.atomic import check_output_file

    check_output_file(args.out, inputs=(args.data,))
    run = _load_run(args.model, model=True)
    import pandas as pd

    from embedding_core.output_columns import free_names

    frame = _read(args.data)
    pred = run.predict(frame)
    if pred.ndim == 2:
        classes = run.classes
        labels = [classes[i] for i in pred.argmax(axis=1)]
        values = [*(pred[:, j] for j in range(len(classes))), labels]
        wanted = [*(f"proba_{label}" for label in classes), "prediction"]
    else:
        values, wanted = [pred], ["prediction"]
    chosen = free_names(wanted, frame.columns)  # the user's columns are never overwritten
    added = pd.DataFrame(dict(zip(chosen.names, values, strict=True)), index=frame.index)
    _note(chosen.note())
    _write_csv(pd.concat([frame, added], axis=1), args.out, args.raw)
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from embedding_core.atomic import check_output_file

    check_output_file(args.out, inputs=(args.data,))
    run = _load_run(args.model)
    frame = _read(args.data)
    embedded = run.embed(frame)
    for chosen in run.embedding_names(frame.columns).values():
        _note(chosen.note())
    _write_csv(embedded, args.out, args.raw)
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    run = _load_run(args.model)
    fields = {f: len(run.vocabulary(f)) for f in run.fields}
    dims = run.embedding_dims
    info = {
        "task": run.roles.task,
        "target": run.roles.target,
        "categorical": fields,
        "numeric": list(run.roles.numeric),
        "embedding_dim": run.config.embedding_dim,
        "model": run.config.model,
        "embedding_dims": dims,
        "crosses": [list(p) for p in run.crosses],
        "frequency_fields": run.frequency_fields,
        "metrics": run.metrics,
        "averages_early": run.averages_early,
    }
    if args.json:
        print(dumps(info, indent=2, default=str))
        return 0
    print(f"task:          {info['task']} (target: {printable(info['target'], NAME_LIMIT)})")
    if run.config.model == "entity":
        print("model:         entity embeddings (a vector size per field)")
    else:
        print(f"embedding dim: {info['embedding_dim']}")
    print("fields (vocabulary size incl. reserved rows, vector size):")
    for f, n in fields.items():
        print(f"  {printable(f, NAME_LIMIT)}: {n}, {dims[f]}")
    if info["numeric"]:
        print(f"numeric:       {', '.join(printable(c, NAME_LIMIT) for c in info['numeric'])}")
    if run.crosses:
        crossed = pairs(run.crosses, lambda column: printable(column, NAME_LIMIT))
        print(f"crossed:       {crossed}")
    if run.frequency_fields:
        banded = ", ".join(printable(f, NAME_LIMIT) for f in run.frequency_fields)
        print(f"frequency bands: {banded}")
    if run.averages_early:
        print("predictions:   the average of the early-stopped and the refit model")
    else:
        print("predictions:   one model (no early-stopped model to average with)")
    print("metrics:")
    for k, v in run.metrics.items():
        print(f"  {k}: {v:.4f}" if isinstance(v, float) else f"  {k}: {v}")
    return 0


def _cmd_lift(args: argparse.Namespace) -> int:
    from embedding_core.atomic import check_output_file
    from embedding_core.model.config import TrainConfig

    if args.folds is not None and not 2 <= args.folds <= 100:
        raise DataError(f"--folds must be 2 to 100 (got {args.folds}); omit it for holdout.")
    check_output_file(args.out, inputs=(args.data,))
    roles = _roles(args)
    frame = _read(args.data, args.max_rows)
    _quiet_tensorflow_import()
    from embedding_core.analysis.lift import run_lift

    config = TrainConfig(seed=args.seed)
    if args.epochs is not None:
        config = config.replace(epochs=args.epochs)

    def progress(p: Any) -> None:
        if not args.quiet:
            print(f"lift: {printable(getattr(p, 'message', p))}", file=sys.stderr, flush=True)

    result = run_lift(
        frame,
        roles,
        folds=args.folds,
        models=args.models,
        config=config,
        seed=args.seed,
        on_progress=progress,
    )
    from embedding_core.atomic import atomic_file

    with atomic_file(args.out, "w", encoding="utf-8") as fh:
        fh.write(dumps(result.to_json_dict(), indent=2))
    for sentence in result.to_json_dict().get("verdicts", []):
        print(printable(sentence))
    return 0


def _cmd_profile(args: argparse.Namespace) -> int:
    from embedding_core.data.profile import (
        no_target_note,
        profile_columns,
        suggest_roles,
        suggested_leaks,
        target_guess,
    )

    frame = _read(args.data, args.max_rows)
    profile = profile_columns(frame)
    shown = profile.map(lambda v: printable(v, 40) if isinstance(v, str) else v)
    print(shown.to_string(index=False))
    roles = suggest_roles(frame, profile)
    if roles is not None:
        print(f"\nsuggested (check the target):\n{printable(_train_command(args.data, roles))}")
        for leak in suggested_leaks(frame, roles.target, profile):  # left out of the command
            _note(leak.sentence(roles.target))
    elif target_guess(profile) is None:
        _note(no_target_note(profile))
    return 0


def _train_command(data: str, roles: Any) -> str:
    """A ``train`` command line for ``roles`` that a POSIX shell takes as it is."""
    parts = ["python -m embedding_core train", "--data", shlex.quote(data)]
    parts += ["--categorical", shlex.quote(",".join(roles.categorical))]
    if roles.numeric:
        parts += ["--numeric", shlex.quote(",".join(roles.numeric))]
    parts += ["--target", shlex.quote(roles.target), "--out", "run"]
    return " ".join(parts)


def _cmd_export(args: argparse.Namespace) -> int:
    from embedding_core.atomic import atomic_directory, check_output_dir
    from embedding_core.reuse import export

    out = check_output_dir(args.out, overwrite=args.overwrite)
    if out.resolve() == Path(args.model).resolve():
        raise DataError("--out is the model directory: choose another directory for the export.")
    run = _load_run(args.model)
    tables = run.tables()
    lift = None
    if args.format == "report" and args.lift:
        try:
            lift = json.loads(Path(args.lift).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(f"--lift {args.lift}: not a readable lift JSON ({e}).") from None
        if not isinstance(lift, dict):
            raise DataError(f"--lift {args.lift}: expected the JSON object `lift` writes.")
    with atomic_directory(out, overwrite=args.overwrite) as tmp:
        if args.format == "projector":
            export.write_projector_files(tables, tmp)
        elif args.format == "csv":
            export.write_csv_files(tables, tmp)
        elif args.format == "report":
            from embedding_core.model.store import describe_run_dir
            from embedding_core.reuse.report import about_run, build_report

            record = describe_run_dir(args.model)
            about = about_run(record.name, record.dataset, record.created_ts)
            page = build_report(run, lift=lift, about=about)
            (tmp / "report.html").write_text(page, encoding="utf-8")
        else:
            export.tables_to_parquet(tables, tmp / "embeddings.parquet")
    print(printable(out))
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from embedding_core.model.store import RunStore

    store = RunStore(args.store)
    if args.runs_command == "delete":
        store.delete(args.id)
        print(f"deleted {args.id}")
        return 0
    records = store.list()
    if args.json:
        print(dumps([r.to_dict() for r in records], indent=2, default=str))
        return 0
    if not records:
        print(f"no runs in {store.root}")
        return 0
    for r in records:
        if not r.ok:
            print(printable(f"{r.id}  UNREADABLE: {r.error}"))
            continue
        value = f"{r.metric} {r.metric_value:.4f}" if r.metric_value is not None else ""
        rows = f"{r.rows:,} rows" if r.rows else ""
        line = [r.id, r.created, repr(r.name), r.dataset, rows, r.task, value]
        print(printable("  ".join(x for x in line if x)))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from embedding_core.analysis.compare import compare_runs
    from embedding_core.atomic import check_output_file

    check_output_file(args.out)
    a, b = _load_run(args.a), _load_run(args.b)
    shared = [f for f in a.fields if f in b.fields]
    if args.field is not None:
        if args.field not in shared:
            raise DataError(
                f"--field {args.field!r} is not a categorical field of both runs; shared: "
                f"{', '.join(shared) or 'none'}."
            )
        shared = [args.field]
    if not shared:
        raise DataError("The two runs share no categorical field: nothing to compare.")
    parts = []
    for field in shared:
        table = compare_runs(a, b, field, k=args.k)
        both = table.dropna(subset=["overlap"])
        top = ", ".join(both["category"].head(3))
        print(
            f"{printable(field, NAME_LIMIT)}: {table.attrs['shared']} shared categories, "
            f"overlap@{table.attrs['k']} "
            f"{both['overlap'].mean():.2f}, moved most: {printable(top, 200)}"
        )
        parts.append(table.assign(field=field, k=table.attrs["k"]))
    out = pd.concat(parts, ignore_index=True)
    # "share" (added in round 22) last, after the columns scripts already read by place
    out = out[["field", *[c for c in out.columns if c not in ("field", "share")], "share"]]
    _write_csv(out, args.out, raw=False)
    return 0


def _cmd_neighbours(args: argparse.Namespace) -> int:
    from embedding_core.analysis.neighbours import categories_by_count, nearest_neighbours
    from embedding_core.atomic import check_output_file

    if args.out is not None:
        check_output_file(args.out)
    run = _load_run(args.model)
    places = [*run.fields, *run.binned_columns]
    for option, name in (("--field", args.field), ("--among", args.among)):
        if name is not None and name not in places:
            raise DataError(
                f"{option} '{printable(name, NAME_LIMIT)}' is not a field or binned numeric "
                f"column of this run; choose one of: {printable(', '.join(places), 400)}."
            )
    across = args.among is not None and args.among != args.field
    if across and run.config.model != "deepfm":
        raise DataError(
            "--among needs a DeepFM run: an entity network reads each field in its own place, "
            "so its fields' vectors are not comparable."
        )
    table = run.embeddings(args.field)
    category = args.category
    if category is None:
        learned = categories_by_count(table)
        if not learned:
            raise DataError(
                f"Field '{printable(args.field, NAME_LIMIT)}' has no learned category (every "
                "one was rarer than the run's min_count): nothing to compare."
            )
        category = learned[0]
    result = nearest_neighbours(
        table,
        category,
        k=args.k,
        metric=args.metric,
        reliable_min_count=args.reliable_count,
        field=args.field,
        among=run.embeddings(args.among) if across else None,
        include_unused=False,
    )
    searched = args.among if across else args.field
    if args.out is not None:
        _write_csv(result, args.out, raw=False)
    if args.json:
        payload = {
            "field": args.field,
            "category": category,
            "among": searched,
            "metric": args.metric,
            "neighbours": json.loads(result.to_json(orient="records")),
        }
        print(dumps(payload, indent=2))
        return 0
    value = "similarity" if args.metric == "cosine" else "distance"
    where = f" among {printable(searched, NAME_LIMIT)}" if across else ""
    print(
        f"nearest to {printable(category, NAME_LIMIT)} ({printable(args.field, NAME_LIMIT)})"
        f"{where}, by {args.metric}:"
    )
    for row in result.to_dict("records"):
        name = printable(row["category"], NAME_LIMIT)
        rare = "" if row["reliable"] else "  (rare)"
        print(f"  {row[value]:6.3f}  {name}  seen {int(row['count']):,} times{rare}")
    return 0


_COMMANDS = {
    "train": _cmd_train,
    "vocab": _cmd_vocab,
    "predict": _cmd_predict,
    "embed": _cmd_embed,
    "info": _cmd_info,
    "lift": _cmd_lift,
    "profile": _cmd_profile,
    "export": _cmd_export,
    "runs": _cmd_runs,
    "compare": _cmd_compare,
    "neighbours": _cmd_neighbours,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except EmbeddingCoreError as e:
        print(f"error: {_one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        text = f"{e.strerror or e}: {e.filename or ''}".rstrip(": ")
        print(f"error: {_one_line(text)}", file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print(
            "error: out of memory: use fewer rows (--max-rows) or a smaller model", file=sys.stderr
        )
        return EXIT_USAGE
    except Exception as e:  # a bug: still one line, unless debugging
        if os.environ.get("EMBEDDING_CORE_DEBUG"):
            raise
        print(f"error: unexpected {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1


def _note(message: object | None) -> None:
    """One ``note:`` line on stderr (nothing for ``None``)."""
    if message is not None:
        print(f"note: {_one_line(message)}", file=sys.stderr)


def _one_line(message: object, limit: int = 600) -> str:
    """A message on one line with control characters escaped; long ones keep head and tail."""
    text = printable(message)
    if len(text) <= limit:
        return text
    return f"{text[: limit * 2 // 3]} … {text[-(limit // 3) :]}"
