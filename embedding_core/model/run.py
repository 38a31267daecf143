"""A trained run: model, encoders, metrics and embedding tables; save, load, predict, embed.

A saved run is a directory::

    manifest.json       format_version, library/keras versions, file list
    model.keras         the Keras model (loaded with safe_mode=True)
    features.json       vocabularies, numeric scaling, target coding
    embeddings.parquet  every field's table (see ``embeddings``) with a ``field`` column
    config.json  roles.json  metrics.json  history.json  warnings.json
    numeric_bins.parquet  the numeric bins' tables (``model.bin_tables``), when there are any
    fm_pair_weights.json  the FM term's weight per pair of fields (``fm_field_weights``)
    early_weights.npz     the early-stopped model's weights, whose predictions ``predict``
                          averages with ``model.keras``'s (``TrainConfig.average_early``)

Nothing in the directory is executed on load: JSON, Parquet and a ``.keras`` file read
with Keras' safe mode (no lambdas, no pickle). ``load`` reads only the JSON and Parquet
files and never imports TensorFlow; the Keras model is loaded on first use (``predict``
or ``.model``), so tables, vocabularies, ``embed`` and exports stay light.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from embedding_core.atomic import atomic_directory
from embedding_core.data.encoding import CategoryEncoder
from embedding_core.data.roles import Roles
from embedding_core.errors import DataError, ModelFormatError
from embedding_core.model.config import TrainConfig
from embedding_core.model.embeddings import vectors
from embedding_core.model.embeddings_file import read_parquet_tables, tables_to_parquet
from embedding_core.model.features import FeatureEncoder
from embedding_core.output_columns import OutputNames, free_names
from embedding_core.strict_json import dumps

if TYPE_CHECKING:
    import keras

__all__ = ["TrainedRun", "FORMAT_VERSION", "RUN_FILES", "OPTIONAL_FILES", "extract_embeddings"]

#: Version of the saved-directory layout; ``load`` refuses any other.
FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
RUN_FILES = (
    "manifest.json",
    MODEL_FILE,
    "features.json",
    "embeddings.parquet",
    "config.json",
    "roles.json",
    "metrics.json",
    "history.json",
    "warnings.json",
)
#: Files ``load`` needs; runs saved before ``warnings.json`` existed still load.
REQUIRED_FILES = tuple(f for f in RUN_FILES if f != "warnings.json")
BIN_TABLES_FILE = "numeric_bins.parquet"
#: Files a run has only when it has something to put in them.
PAIR_WEIGHTS_FILE = "fm_pair_weights.json"
EARLY_WEIGHTS_FILE = "early_weights.npz"
OPTIONAL_FILES = (BIN_TABLES_FILE, PAIR_WEIGHTS_FILE, EARLY_WEIGHTS_FILE)


def _library_version() -> str:
    from embedding_core import __version__

    return str(__version__)


def _write_json(path: Path, value: Any, indent: int | None = 2) -> None:
    path.write_text(dumps(value, indent=indent) + "\n")


class TrainedRun:
    """Everything a training produced, ready to predict, embed, inspect or save.

    Parameters
    ----------
    model : keras.Model or None
        The DeepFM (see ``deepfm.build_deepfm``); ``None`` for a run read by ``load``,
        whose model is read from disk on first use.
    features : FeatureEncoder
        Fitted encoders: turn frames into model inputs.
    roles : Roles
        The column roles, task resolved.
    config : TrainConfig
    metrics : dict
        See ``train``; also written to ``metrics.json``.
    history : list of dict
        One entry per finished epoch (``epoch``, ``loss``, ``val_loss``, ``val_*``, ``seconds``).
    tables : dict of str to DataFrame
        Per-field embedding tables (see ``embeddings``).
    warnings : list of str, optional
        Data warnings from validation, for display.
    bin_tables : dict of str to DataFrame, optional
        Per binned numeric column, its bins as categories (see ``model.bin_tables``).
    pair_weights : DataFrame, optional
        A field-weighted FM's weight per pair of slots (``deepfm.fm_pair_weights``).
    early_weights : list of ndarray, optional
        The early-stopped model's weights (``model.get_weights()`` before the refit):
        ``predict`` then averages its predictions with ``model``'s
        (``TrainConfig.average_early``).
    """

    def __init__(
        self,
        model: keras.Model | None,
        features: FeatureEncoder,
        roles: Roles,
        config: TrainConfig,
        metrics: dict[str, Any],
        history: list[dict[str, Any]],
        tables: dict[str, pd.DataFrame],
        warnings: list[str] | None = None,
        bin_tables: dict[str, pd.DataFrame] | None = None,
        pair_weights: pd.DataFrame | None = None,
        early_weights: list[np.ndarray] | None = None,
    ) -> None:
        self._model = model
        self._model_file: Path | None = None
        self._keras_version: str | None = None
        self._early_weights = early_weights
        self._early_file: Path | None = None
        self._early_model: keras.Model | None = None
        self.features = features
        self.roles = roles
        self.config = config
        self.metrics = metrics
        self.history = history
        self._tables = tables
        self._bin_tables = dict(bin_tables or {})
        self._pair_weights = pair_weights
        self.warnings = list(warnings or [])

    # ------------------------------------------------------------------ model
    @property
    def model(self) -> keras.Model:
        """The Keras model; a loaded run reads ``model.keras`` here, once (imports TensorFlow).

        Raises
        ------
        ModelFormatError
            The saved model file cannot be loaded.
        """
        if self._model is None:
            if self._model_file is None:
                raise ModelFormatError("This run has no model: train one or load a saved run.")
            model = _load_model(self._model_file)
            _check_model_matches(
                model, self.features, self.config, self._model_file.parent, self._tables
            )
            if self._early_file is not None:
                self._early_weights = _read_early_weights(self._early_file, model)
            self._model = model
        return self._model

    @property
    def averages_early(self) -> bool:
        """Whether ``predict`` averages the early-stopped model with ``model``
        (``TrainConfig.average_early`` after a refit)."""
        return self._early_weights is not None or self._early_file is not None

    def _early_stopped_model(self) -> keras.Model:
        """The early-stopped model: a copy of ``model``'s network with the kept weights
        (a second instance, so concurrent ``predict`` calls never swap weights)."""
        if self._early_model is None:
            import keras

            model = self.model  # a loaded run reads its early-stopped weights with it
            assert self._early_weights is not None  # averages_early
            early = keras.models.clone_model(model)
            early.set_weights(self._early_weights)
            self._early_model = early
        return self._early_model

    # ------------------------------------------------------------------ views
    @property
    def fields(self) -> list[str]:
        """The categorical fields (one embedding table each), in model order."""
        return list(self.roles.categorical)

    @property
    def task(self) -> str:
        """``"binary"``, ``"regression"`` or ``"multiclass"``."""
        return str(self.roles.task)

    @property
    def embedding_dim(self) -> int:
        """Size k of the category vectors."""
        return int(self.config.embedding_dim)

    @property
    def embedding_dims(self) -> dict[str, int]:
        """Vector size of each field: ``embedding_dim`` for all of a DeepFM; each
        field's own for an entity network (``config.model == "entity"``)."""
        from embedding_core.model.embeddings import embedding_columns

        return {f: len(embedding_columns(t)) for f, t in self._tables.items()}

    @property
    def classes(self) -> list[str]:
        """Target labels in model order: ``[negative, positive]`` (binary), every class
        (multiclass, the column order of ``predict``), empty for regression."""
        return list(self.features.classes_)

    @property
    def positive_label(self) -> str | None:
        """The label whose probability ``predict`` gives (binary), else ``None``."""
        return self.features.positive_label_

    @property
    def binned_columns(self) -> list[str]:
        """Numeric columns whose bins have vectors (``numeric_encoding="bins"``), in model
        order: ``embeddings(column)`` gives their bins as categories."""
        return list(self._bin_tables)

    @property
    def crosses(self) -> list[tuple[str, str]]:
        """Pairs of columns crossed in the model (``TrainConfig.crosses``): each (value,
        value) cell has its own vector and first-order weight."""
        return list(self.features.crosses_)

    @property
    def frequency_fields(self) -> list[str]:
        """Fields whose categories' frequency bands have vectors in the model
        (``TrainConfig.frequency_bands``, ``model.frequency``)."""
        return list(self.features.frequency_fields_)

    def _field(self, field: str) -> str:
        if field not in self._tables:
            raise DataError(
                f"'{field}' is not a categorical field of this model; choose one of "
                f"{', '.join(repr(f) for f in self.fields)}."
            )
        return field

    def embeddings(self, field: str) -> pd.DataFrame:
        """The embedding table of one field (a copy; see ``embedding_core.model.embeddings``).

        ``field`` may also be one of ``binned_columns``: a numeric column's bins, one row
        each, with the same columns (see ``embedding_core.model.bin_tables``).

        Raises
        ------
        DataError
            ``field`` is neither a categorical field nor a binned column of this run.
        """
        if field in self._bin_tables:
            return self._bin_tables[field].copy()
        return self._tables[self._field(field)].copy()

    def fm_pair_weights(self) -> pd.DataFrame | None:
        """The learned weight of each pair of FM slots (``TrainConfig.fm_field_weights``):
        square, labelled by field, numeric column and crossed pair (``deepfm.fm_slot_names``);
        None when every pair weighs 1 (a plain FM term, or an entity network)."""
        return None if self._pair_weights is None else self._pair_weights.copy()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every field's embedding table (fresh copies), in the order of ``fields``."""
        return {field: self.embeddings(field) for field in self.fields}

    def encoder(self, field: str) -> CategoryEncoder:
        """The vocabulary of one field (category -> row of ``embedding_matrix``)."""
        return self.features.encoders_[self._field(field)]

    def vocabulary(self, field: str) -> list[str]:
        """Row labels of ``embedding_matrix(field)``, reserved rows (unknown, missing) first.

        Reserved rows are told apart by position (``encoder(field).is_reserved``), not
        by their label.
        """
        return list(self.encoder(field).labels_)

    def embedding_matrix(self, field: str) -> np.ndarray:
        """The vectors of one field, float32 ``(len(vocabulary(field)), k)``, row-aligned."""
        return vectors(self._tables[self._field(field)], field=field)

    def category_rows(self, field: str, values: pd.Series | list[Any]) -> np.ndarray:
        """Row of ``embedding_matrix(field)`` for each raw value (see ``data.encoding``);
        for one of ``binned_columns``, each value's bin (the ``index`` of its table).
        """
        if field in self._bin_tables:  # read as training read it; not a number: missing
            from embedding_core.data.values import parse_numeric

            numbers = parse_numeric(pd.Series(values))[0].to_numpy(np.float64)
            encoder = self.features.numeric_encoder_
            assert encoder is not None  # a run with bin tables has bins
            return encoder.bin_index(field, numbers)
        return self.encoder(field).transform(values)

    # ------------------------------------------------------------ predictions
    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predictions for the rows of ``frame`` (same order).

        Unseen or rare categories use the unknown vector; missing numeric values are
        imputed. Extra columns (such as the target) are ignored.

        Returns
        -------
        ndarray
            binary: P(positive class) of shape (n,); regression: values (n,) in the
            target's scale; multiclass: probabilities (n, C) in ``classes`` order.

        Raises
        ------
        DataError
            A feature column is absent or a numeric column holds text.
        """
        from embedding_core.model.deepfm import predict_raw

        inputs = self.features.transform(frame)
        models = [self.model]
        if self.averages_early:
            models.append(self._early_stopped_model())
        # each model's predictions in the target's scale (probabilities or values), averaged
        preds = [self._decoded(predict_raw(model, inputs)) for model in models]
        return preds[0] if len(preds) == 1 else (preds[0] + preds[1]) / 2.0

    def _decoded(self, raw: np.ndarray) -> np.ndarray:
        if self.task == "multiclass":
            return raw
        return np.asarray(self.features.decode_target(raw[:, 0]), dtype=np.float64)

    def embedding_names(self, columns: Iterable[object]) -> dict[str, OutputNames]:
        """The columns ``embed`` gives each field of a frame with these ``columns``.

        ``<field>_emb_0..k-1``; when the frame already has one of those names (a column
        ``embed`` passes through), each of the field's names gets ``_new`` appended
        (``output_columns.free_names``) and ``.note()`` says so.
        """
        columns = list(columns)
        taken: list[object] = [c for c in columns if c not in self._tables]
        dims = self.embedding_dims
        out: dict[str, OutputNames] = {}
        for col in columns:
            if col in self._tables and col not in out:
                chosen = free_names([f"{col}_emb_{d}" for d in range(dims[col])], taken)
                taken.extend(chosen.names)
                out[str(col)] = chosen
        return out

    def embed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with each categorical column replaced by its vector.

        Column ``c`` becomes ``c_emb_0 .. c_emb_{k-1}`` at the same position; every
        other column (numeric inputs, the target, IDs...) passes through unchanged.
        Rows keep their order and index; unseen categories get the unknown vector. A
        column of ``frame`` already named like a new one is kept; the new ones are then
        named as ``embedding_names`` says, so no two columns share a name.

        Raises
        ------
        DataError
            A categorical column of the model is absent from ``frame``, or appears twice.
        """
        missing = [c for c in self.fields if c not in frame.columns]
        if missing:
            raise DataError(
                f"The data has no column {', '.join(repr(c) for c in missing)}; embedding "
                f"needs every categorical column of the model ({', '.join(self.fields)})."
            )
        twice = [c for c in self.fields if list(frame.columns).count(c) > 1]
        if twice:
            raise DataError(
                f"The data has more than one column named {', '.join(repr(c) for c in twice)}; "
                "rename the copies so each categorical column of the model appears once."
            )
        names = self.embedding_names(frame.columns)
        pieces: list[pd.DataFrame] = []
        for i, col in enumerate(frame.columns):
            if col in self._tables:
                vec = self.embedding_matrix(col)[self.category_rows(col, frame.iloc[:, i])]
                pieces.append(pd.DataFrame(vec, columns=names[col].names, index=frame.index))
            else:
                pieces.append(frame.iloc[:, [i]])
        return pd.concat(pieces, axis=1)

    # ------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = True) -> Path:
        """Write the run to directory ``path``, atomically (a temporary folder, then a rename).

        Parameters
        ----------
        path : str or Path
            The run directory (its parent is created if needed).
        overwrite : bool, default=True
            Replace an existing non-empty directory; if false, such a directory is
            refused with a ``DataError``. A half-written run is never left at ``path``.

        Returns
        -------
        pathlib.Path
            The directory.
        """
        out = Path(path)
        with atomic_directory(out, overwrite=overwrite) as tmp:
            self._write(tmp)
        return out

    def _write(self, out: Path) -> None:
        if self._model is None and self._model_file is not None:  # never loaded: copy it
            shutil.copyfile(self._model_file, out / MODEL_FILE)
            keras_version = self._keras_version
        else:
            import keras

            self.model.save(out / MODEL_FILE)
            keras_version = keras.__version__
        # no indent: the vocabularies (1M rows x 20 fields: 5 MB) are dumped 6x faster
        _write_json(out / "features.json", self.features.to_dict(), indent=None)
        _write_json(out / "config.json", self.config.to_dict())
        _write_json(out / "roles.json", self.roles.to_dict())
        _write_json(out / "metrics.json", self.metrics)
        _write_json(out / "history.json", self.history)
        _write_json(out / "warnings.json", self.warnings)
        tables_to_parquet(self._tables, out / "embeddings.parquet")
        files = list(RUN_FILES)
        if self._bin_tables:
            tables_to_parquet(self._bin_tables, out / BIN_TABLES_FILE)
            files.append(BIN_TABLES_FILE)
        if self._pair_weights is not None:
            weights = self._pair_weights
            _write_json(
                out / PAIR_WEIGHTS_FILE,
                {"slots": list(weights.index), "weights": weights.to_numpy().tolist()},
            )
            files.append(PAIR_WEIGHTS_FILE)
        if self._early_weights is not None:
            np.savez(out / EARLY_WEIGHTS_FILE, *self._early_weights)
            files.append(EARLY_WEIGHTS_FILE)
        elif self._early_file is not None:  # never read: copy it
            shutil.copyfile(self._early_file, out / EARLY_WEIGHTS_FILE)
            files.append(EARLY_WEIGHTS_FILE)
        _write_json(
            out / "manifest.json",
            {
                "format_version": FORMAT_VERSION,
                "library": "embedding_core",
                "library_version": _library_version(),
                "keras_version": keras_version,
                "task": self.task,
                "files": files,
            },
        )

    @classmethod
    def load(cls, path: str | Path) -> TrainedRun:
        """Read a directory written by ``save`` (no code from it is executed).

        Raises
        ------
        ModelFormatError
            The directory or one of its files is missing or unreadable, or it was
            written in another format version.
        """
        root = Path(path)
        if not root.is_dir():
            raise ModelFormatError(
                f"No saved model directory at '{root}': train one first or check the path."
            )
        manifest = _read_json(root / "manifest.json")
        version = manifest.get("format_version") if isinstance(manifest, dict) else None
        if version != FORMAT_VERSION:
            raise ModelFormatError(
                f"'{root}' was saved in model format {version!r} (by embedding_core "
                f"{manifest.get('library_version', '?') if isinstance(manifest, dict) else '?'}), "
                f"but this version reads format {FORMAT_VERSION}: retrain the model with "
                "this version."
            )
        listed = manifest.get("files") if isinstance(manifest.get("files"), list) else []
        optional = [f for f in OPTIONAL_FILES if f in listed]  # written, so it must be there
        absent = [f for f in (*REQUIRED_FILES, *optional) if not (root / f).is_file()]
        if absent:
            raise ModelFormatError(
                f"'{root}' is incomplete (missing {', '.join(absent)}): save the run again."
            )
        try:
            features = FeatureEncoder.from_dict(_read_json(root / "features.json"))
            config = TrainConfig.from_dict(_read_json(root / "config.json"))
            roles = Roles.from_dict(_read_json(root / "roles.json"))
            metrics = _read_json(root / "metrics.json")
            history = _read_json(root / "history.json")
            warnings_file = root / "warnings.json"
            warnings = _read_json(warnings_file) if warnings_file.is_file() else []
            tables = _read_tables(root / "embeddings.parquet", features)
            bin_tables = {}
            if (root / BIN_TABLES_FILE).is_file():  # runs with numeric bins, since round 6
                bin_tables = read_parquet_tables(root / BIN_TABLES_FILE)
                for table in bin_tables.values():
                    table["category"] = table["category"].astype("str")
            pair_weights = None
            if (root / PAIR_WEIGHTS_FILE).is_file():  # field-weighted FM, since round 12
                pair_weights = _pair_weights_frame(_read_json(root / PAIR_WEIGHTS_FILE))
        except ModelFormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - any broken file is a format problem
            raise ModelFormatError(
                f"'{root}' could not be read ({type(exc).__name__}: {exc}): save the run again."
            ) from exc
        run = cls(
            None,
            features,
            roles,
            config,
            metrics,
            history,
            tables,
            warnings,
            bin_tables,
            pair_weights,
        )
        run._model_file = root / MODEL_FILE
        if (root / EARLY_WEIGHTS_FILE).is_file():  # read with the model, on first predict
            run._early_file = root / EARLY_WEIGHTS_FILE
        run._keras_version = manifest.get("keras_version")
        return run

    def __repr__(self) -> str:
        return (
            f"TrainedRun(task={self.task!r}, fields={self.fields}, "
            f"numeric={list(self.roles.numeric)}, k={self.embedding_dim})"
        )


def _pair_weights_frame(saved: Any) -> pd.DataFrame:
    """``fm_pair_weights.json`` as a square frame labelled by slot; ValueError if it is not."""
    names = pd.Index([str(n) for n in saved["slots"]])
    values = np.asarray(saved["weights"], dtype=np.float64)
    if values.shape != (len(names), len(names)) or not np.isfinite(values).all():
        raise ValueError(f"expected a finite {len(names)} x {len(names)} matrix")
    return pd.DataFrame(values, index=names, columns=names)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise ModelFormatError(
            f"'{path.parent}' has no {path.name}: it is not a directory saved by embedding_core."
        )
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{path} is not valid JSON ({exc}): save the run again.") from exc
    except RecursionError:
        raise ModelFormatError(
            f"{path} is nested too deeply to be a saved run's file: save the run again."
        ) from None


def _read_early_weights(path: Path, model: keras.Model) -> list[np.ndarray]:
    """``early_weights.npz``'s arrays in saved order (no pickled objects are read),
    checked against ``model``'s weights; ModelFormatError if unreadable or not a fit."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a format problem
        raise ModelFormatError(
            f"{path} is damaged (not a saved run's weights): save the run again."
        ) from exc
    expected = [(tuple(w.shape), w.dtype) for w in model.get_weights()]
    if [(tuple(w.shape), w.dtype) for w in weights] != expected:
        raise ModelFormatError(
            f"{path} does not fit the run's model (other weights): save the run again."
        )
    return weights


def _read_tables(path: Path, features: FeatureEncoder) -> dict[str, pd.DataFrame]:
    combined = read_parquet_tables(path)
    tables: dict[str, pd.DataFrame] = {}
    for col in features.fields:
        table = combined.get(col)
        if table is None or len(table) != features.encoders_[col].size:
            raise ModelFormatError(
                f"{path} does not match the saved vocabularies (field '{col}'): save the run again."
            )
        table["category"] = table["category"].astype("str")
        tables[col] = table
    return tables


def _load_model(path: Path) -> keras.Model:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    import embedding_core.model.deepfm  # noqa: F401  (registers the custom layers)
    import embedding_core.model.entity  # noqa: F401

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 - report any unreadable model file the same way
        raise ModelFormatError(
            f"The model file {path} could not be loaded ({type(exc).__name__}): save the run again."
        ) from exc


def extract_embeddings(run: TrainedRun) -> dict[str, pd.DataFrame]:
    """Per-field embedding tables of a trained run: ``run.tables()`` (kept for callers).

    Examples
    --------
    >>> tables = extract_embeddings(run)                 # doctest: +SKIP
    >>> tables["purpose"].sort_values("count").tail(3)   # doctest: +SKIP
    """
    return run.tables()


def _check_model_matches(
    model: keras.Model,
    features: FeatureEncoder,
    config: TrainConfig,
    root: Path,
    tables: dict[str, pd.DataFrame],
) -> None:
    """Refuse a ``model.keras`` that does not belong to the run's vocabularies and tables."""
    from embedding_core.model.deepfm import EMBEDDING_LAYER
    from embedding_core.model.embeddings import embedding_columns
    from embedding_core.model.entity import ENTITY_LAYER

    widths = [len(embedding_columns(tables[f])) for f in features.fields]
    try:
        if config.model == "entity":
            layer = model.get_layer(ENTITY_LAYER)
            dims = list(layer.output_dims)
        else:
            layer = model.get_layer(EMBEDDING_LAYER)
            dims = [int(layer.embeddings.shape[1])] * len(widths)
            widths = [config.embedding_dim] * len(widths) if widths else widths
        sizes = list(layer.field_sizes)
    except Exception:  # noqa: BLE001 - any other model is a mismatch
        sizes, dims = [], []
    if sizes != list(features.field_sizes) or dims != widths:
        raise ModelFormatError(
            f"The model file in '{root}' does not belong to this run (its embedding tables do "
            "not match the saved vocabularies): save the run again."
        )
