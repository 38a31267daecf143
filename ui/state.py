"""The one module that names session keys.

Every per-user value the app keeps lives in ``st.session_state`` and is read and written
through the typed getters and setters below, so a reader finds every key in one place
and a typo in a key name is an ``AttributeError``, not a silent new key.

Widget keys are named here too (``Keys`` and the small ``*_key`` helpers): pages pass
them to ``key=`` so values survive reruns and, with ``persist_state="session"``, page
switches.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import streamlit as st

from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig

if TYPE_CHECKING:  # pragma: no cover - typing only; importing run would not load TF anyway
    from embedding_core.analysis.lift import LiftResult
    from embedding_core.model.run import TrainedRun
    from ui.comparison import ScratchJob
    from ui.lift_job import LiftJob
    from ui.training import TrainingJob

__all__ = [
    "Keys",
    "Dataset",
    "RunInfo",
    "widget_key",
    "get_dataset",
    "set_dataset",
    "get_roles",
    "set_roles",
    "get_roles_choice",
    "get_roles_error",
    "target_confirmed",
    "confirm_target",
    "get_config",
    "set_config",
    "get_run_info",
    "get_run",
    "set_run",
    "clear_run",
    "get_job",
    "set_job",
    "adopt_finished_job",
    "get_last_upload",
    "set_last_upload",
    "get_lift_job",
    "set_lift_job",
    "get_lift_result",
    "set_lift_result",
    "get_lift_data",
    "adopt_finished_lift_job",
    "get_scenarios",
    "set_scenarios",
    "get_whatif_row",
    "set_whatif_row",
    "neighbour_category_key",
    "get_session_runs",
    "get_init_upload_path",
    "set_init_upload_path",
    "get_scratch_job",
    "set_scratch_job",
    "get_link_error",
    "set_link_error",
    "url_restored",
    "mark_url_restored",
    "get_store_data",
    "get_stability_job",
    "set_stability_job",
]


class Keys:
    """Names of every session-state entry (values and widgets)."""

    # values
    SESSION = "session_key"
    DATASET = "dataset"
    ROLES = "roles"
    ROLES_ERROR = "roles_error"
    TARGET_CONFIRMED = "target_confirmed"  # set of Dataset.key whose target the user saw
    CONFIG = "train_config"
    RUN_INFO = "run_info"
    JOB = "training_job"
    LAST_UPLOAD = "last_upload"
    UPLOADS_READ = "uploads_read"  # uploads read so far: names the uploader (upload_key)
    LIFT_JOB = "lift_job"
    LIFT_RESULT = "lift_result"
    LIFT_DATA = "lift_data"  # {"key", "label"} of the data the lift result measured
    SCENARIOS = "whatif_scenarios"
    SCENARIOS_HANDLE = "whatif_scenarios_handle"  # ui/scenario_store.py
    ROLES_HANDLE = "roles_handle"  # (dataset key, handle) of a sample's kept roles, ui/runs.py
    WHATIF_ROW = "whatif_row"
    SESSION_RUNS = "session_runs"
    INIT_UPLOAD_PATH = "init_upload_path"
    SCRATCH_JOB = "scratch_job"
    # widgets (pages pass these as ``key=``)
    UPLOAD = "upload"
    SAMPLE = "sample_choice"
    SERVER_TABLE = "server_table"
    ROLE_TARGET = "role_target"  # widget_key(..., dataset key)
    ROLE_TASK = "role_task"
    ROLE_CATEGORICAL = "role_categorical"
    ROLE_NUMERIC = "role_numeric"
    ROLE_CONFIRM = "role_confirm"
    EXPLORE_FIELD = "explore_field"
    EXPLORE_METHOD = "explore_method"
    EXPLORE_3D = "explore_3d"
    EXPLORE_COLOUR = "explore_colour"
    EXPLORE_CLASS = "explore_class"
    EXPLORE_CLUSTERS = "explore_clusters"
    EXPLORE_PERPLEXITY = "explore_perplexity"
    EXPLORE_NEIGHBOURS = "explore_umap_neighbours"
    EXPLORE_MIN_DIST = "explore_umap_min_dist"
    EXPLORE_SEARCH = "explore_search"
    EXPLORE_MIN_COUNT = "explore_min_count"
    NB_FIELD = "nb_field"
    NB_K = "nb_k"
    NB_METRIC = "nb_metric"
    NB_MIN_COUNT = "nb_reliable_count"
    NB_GOTO = "nb_goto"
    NB_AMONG = "nb_among"
    TRAIN_BUTTON = "train_button"
    STOP_BUTTON = "stop_button"
    CFG_DIM = "cfg_dim"
    CFG_EPOCHS = "cfg_epochs"
    CFG_LR = "cfg_lr"
    CFG_BATCH = "cfg_batch"
    CFG_DROPOUT = "cfg_dropout"
    CFG_L2 = "cfg_l2"
    CFG_MIN_COUNT = "cfg_min_count"
    CFG_SEED = "cfg_seed"
    CFG_REFIT = "cfg_refit"
    CFG_NUMERIC_ENCODING = "cfg_numeric_encoding"
    CFG_CROSSES = "cfg_crosses"
    CFG_FREQUENCY_BANDS = "cfg_frequency_bands"
    CFG_CATEGORY_DROPOUT = "cfg_category_dropout"
    CFG_FM_FIELD_WEIGHTS = "cfg_fm_field_weights"
    CFG_EMBEDDING_LR_FACTOR = "cfg_embedding_lr_factor"
    CFG_NUMERIC_BINS = "cfg_numeric_bins"
    CFG_MODEL = "cfg_model"
    CFG_DIMS = "cfg_embedding_dims"
    CFG_HIDDEN = "cfg_hidden_units"
    CFG_PATIENCE = "cfg_patience"
    CFG_VALID_FRACTION = "cfg_valid_fraction"
    CFG_EPOCH_TOLERANCE = "cfg_epoch_tolerance"
    INIT_ENABLE = "init_enable"
    INIT_SOURCE = "init_source"
    INIT_UPLOAD = "init_upload"
    INIT_FREEZE = "init_freeze"
    SCRATCH_MODE = "scratch_mode"
    SCRATCH_RUN = "scratch_run"
    DL_CSV_ZIP = "dl_csv_zip"
    DL_REPORT = "dl_report"
    DL_PROJECTOR_ZIP = "dl_projector_zip"
    DL_VECTORS = "dl_vectors"  # + field name
    DL_METADATA = "dl_metadata"  # + field name
    DL_PARQUET = "dl_parquet"
    DL_RUN = "dl_run"
    DL_EMBEDDED = "dl_embedded"
    LIFT_MODE = "lift_mode"
    LIFT_FOLDS = "lift_folds"
    LIFT_MODELS = "lift_models"
    LIFT_RUN = "lift_run"
    LIFT_STOP = "lift_stop"
    LIFT_CHART = "lift_chart"
    LIFT_CSV = "lift_csv"
    LIFT_JSON = "lift_json"
    WHATIF_START = "whatif_start"
    WHATIF_ROW_NUMBER = "whatif_row_number"
    WHATIF_CLASS = "whatif_class"
    WHATIF_VALUE = "whatif"  # + "_<column>", then widget_key(..., run and base row)
    WHATIF_KEEP = "whatif_keep"
    WHATIF_CLEAR = "whatif_clear"
    WHATIF_SWEEP_FIELD = "whatif_sweep_field"
    WHATIF_SWEEP_N = "whatif_sweep_n"
    WHATIF_SWEEP_OVER = "whatif_sweep_over"
    WHATIF_SWEEP_CHART = "whatif_sweep_chart"
    # run store, links, compare, stability (ui/runs.py, pages/runs.py, pages/compare.py)
    URL_RESTORED = "url_restored"
    VIEW_SET = "view_set"  # the view parameters the page set in this script run
    LINK_ERROR = "link_error"
    LIFT_HANDLE = "lift_handle"  # ui/lift_store.py
    STORE_DATA = "store_data"
    STABILITY_JOB = "stability_job"
    STABILITY_BUTTON = "stability_button"
    RUNS_UPLOAD = "runs_upload"
    RUNS_CHOICE = "runs_choice"
    RUNS_OPEN = "runs_open"  # + run id (so are the next ones)
    RUNS_ZIP = "runs_zip"
    RUNS_RENAME = "runs_rename"
    RUNS_DELETE = "runs_delete"
    RUNS_IMPORTED = "runs_imported"  # + upload file id
    RUNS_CONFIRM = "runs_confirm"  # + run id
    RUNS_NAME = "runs_name"  # + run id
    RUNS_NOTICE = "runs_notice"  # (kind, text) of the last rename or delete
    COMPARE_A = "compare_a"
    COMPARE_B = "compare_b"
    COMPARE_FIELD = "compare_field"
    COMPARE_K = "compare_k"
    COMPARE_CSV = "compare_csv"


def widget_key(name: str, scope: str) -> str:
    """A widget key tied to a scope (e.g. the dataset), so new data get fresh defaults."""
    digest = hashlib.sha1(scope.encode("utf-8")).hexdigest()[:10]
    return f"{name}::{digest}"


def neighbour_category_key(field_name: str) -> str:
    """Key of the Neighbours page's category picker for one field (set by click-through)."""
    run_info = get_run_info()
    run_id = run_info.run_id if run_info else "none"
    return widget_key("nb_category", f"{run_id}/{field_name}")


# --------------------------------------------------------------------------- data


@dataclass
class Dataset:
    """The table the user works on.

    Attributes
    ----------
    key : str
        Unique identity: ``"sample:<name>"`` or ``"upload:<sha256 of the bytes>"``.
    label : str
        What the user sees ("Bank marketing (sample)", "my_file.csv").
    frame : pandas.DataFrame
        Every column as read (strings; missing as NaN).
    suggested : Roles or None
        The roles to preselect (sample metadata or profile suggestion).
    source : {"sample", "upload", "server"}
        ``"server"``: a table in the server's data folder; ``frame`` is then a sample of
        its first rows (for the profile, the roles and the analyses) and training
        streams every row from ``path``.
    path : str or None
        The table on the server (``"server"`` datasets only).
    total_rows : int or None
        Rows of the whole table when known (Parquet), for ``"server"`` datasets.
    """

    key: str
    label: str
    frame: pd.DataFrame
    suggested: Roles | None
    source: Literal["sample", "upload", "server"]
    path: str | None = None
    total_rows: int | None = None


def session_key() -> str:
    """A key of this session, made on first use (tells sessions apart on the server)."""
    return st.session_state.setdefault(Keys.SESSION, uuid.uuid4().hex)


def get_dataset() -> Dataset | None:
    """The current dataset, or None before one is loaded."""
    return st.session_state.get(Keys.DATASET)


def set_dataset(dataset: Dataset) -> None:
    """Replace the current dataset; the chosen roles are reset to its suggestion."""
    st.session_state[Keys.DATASET] = dataset
    st.session_state[Keys.ROLES] = dataset.suggested
    error = None if dataset.suggested else "Choose the columns."
    if not target_confirmed(dataset):
        error = "Confirm the target on the Data page."
    st.session_state[Keys.ROLES_ERROR] = error


def target_confirmed(dataset: Dataset) -> bool:
    """Whether the user has seen and kept the target of ``dataset``.

    Always for samples, and for data the current run was trained on (its target was
    chosen then).
    """
    if dataset.source != "upload" or dataset.key in st.session_state.get(
        Keys.TARGET_CONFIRMED, set()
    ):
        return True
    info = get_run_info()
    return info is not None and info.dataset_key == dataset.key


def confirm_target(dataset: Dataset) -> None:
    """Record that the user has seen the target of ``dataset``."""
    confirmed = set(st.session_state.get(Keys.TARGET_CONFIRMED, set()))
    st.session_state[Keys.TARGET_CONFIRMED] = confirmed | {dataset.key}


def get_roles() -> Roles | None:
    """Roles chosen on the Data page that passed validation (None if not valid)."""
    if st.session_state.get(Keys.ROLES_ERROR):
        return None
    return st.session_state.get(Keys.ROLES)


def get_roles_choice() -> Roles | None:
    """The user's latest choice of roles, valid or not (for preselecting widgets)."""
    return st.session_state.get(Keys.ROLES)


def get_roles_error() -> str | None:
    """Why the current choice of roles cannot be used, or None."""
    return st.session_state.get(Keys.ROLES_ERROR)


def set_roles(roles: Roles | None, error: str | None = None) -> None:
    """Store the user's choice; ``error`` says why it cannot be trained on (None if fine)."""
    st.session_state[Keys.ROLES] = roles
    st.session_state[Keys.ROLES_ERROR] = error


def get_last_upload() -> tuple[str | None, str | None]:
    """(file id, error message or None) of the last upload that was read."""
    return st.session_state.get(Keys.LAST_UPLOAD, (None, None))


def upload_key() -> str:
    """Key of the Data page's uploader: a new one after each upload read (``upload_read``).

    Streamlit deep-copies an uploader's file at every rerun of its page (a 160 MB upload:
    160 MB copied at every click on the Data page); once read, the data lives in the
    Dataset, so the page shows an empty uploader instead.
    """
    n = int(st.session_state.get(Keys.UPLOADS_READ, 0))
    return Keys.UPLOAD if n == 0 else f"{Keys.UPLOAD}::{n}"


def upload_read() -> None:
    """Count an upload as read: the next run draws a new, empty uploader."""
    st.session_state[Keys.UPLOADS_READ] = int(st.session_state.get(Keys.UPLOADS_READ, 0)) + 1


def set_last_upload(file_id: str | None, error: str | None = None) -> None:
    """Remember which upload has been read (and why it failed), so a rerun does not
    read it again and its error stays visible while the file is in the uploader."""
    st.session_state[Keys.LAST_UPLOAD] = (file_id, error)


# --------------------------------------------------------------------------- training


def get_config() -> TrainConfig:
    """The training configuration: the Train page's, and until that page is shown the
    settings it starts from (the open run's, else the defaults), so Lift trains with what
    Train shows."""
    config = st.session_state.get(Keys.CONFIG)
    if isinstance(config, TrainConfig):
        return config
    from ui.train_settings import start_values  # it reads the run info from here

    return start_values(get_run_info())


def set_config(config: TrainConfig) -> None:
    """Store the training configuration."""
    st.session_state[Keys.CONFIG] = config


@dataclass
class RunInfo:
    """A trained run and where it came from.

    Attributes
    ----------
    run : TrainedRun
    run_id : str
        Unique per training; part of every cache key that depends on the run.
    dataset_label : str
    dataset_key : str
        ``Dataset.key`` of the data it was trained on ("" if unknown).
    n_rows : int
        Rows in the frame handed to training.
    seconds : float
        Wall time of ``train`` (excluding the TensorFlow import).
    total_seconds : float
        Wall time from the click to the end, TensorFlow import included.
    created : float
        ``time.time()`` when the run was stored.
    name : str
        The run's name in the run store ("" if it was not saved there).
    stored : bool
        True when ``run_id`` is the run's id in the run store (links can name it).
    save_error : str
        Why saving to the run store failed ("" if it did not).
    """

    run: TrainedRun
    run_id: str
    dataset_label: str
    n_rows: int
    seconds: float
    total_seconds: float
    dataset_key: str = ""
    created: float = field(default_factory=time.time)
    name: str = ""
    stored: bool = False
    save_error: str = ""


def get_run_info() -> RunInfo | None:
    """The current trained run with its metadata, or None."""
    return st.session_state.get(Keys.RUN_INFO)


def get_run() -> TrainedRun | None:
    """The current trained run, or None."""
    info = get_run_info()
    return info.run if info else None


def set_run(
    run: TrainedRun,
    *,
    dataset_label: str = "",
    dataset_key: str = "",
    n_rows: int = 0,
    seconds: float = 0.0,
    total_seconds: float | None = None,
    run_id: str = "",
    **store: Any,
) -> RunInfo:
    """Make ``run`` the current run (replacing any earlier one) and return its info.

    ``run_id`` is the run store's id when the run is stored (a fresh random id
    otherwise); ``store`` passes ``name``, ``stored``, ``save_error`` and ``created``.
    """
    info = RunInfo(
        run=run,
        run_id=run_id or uuid.uuid4().hex,
        dataset_label=dataset_label,
        dataset_key=dataset_key,
        n_rows=n_rows,
        seconds=seconds,
        total_seconds=seconds if total_seconds is None else total_seconds,
        **store,
    )
    st.session_state[Keys.RUN_INFO] = info
    st.session_state.pop(Keys.LINK_ERROR, None)
    earlier = [r for r in get_session_runs() if r.run is not run]
    st.session_state[Keys.SESSION_RUNS] = [info, *earlier][:MAX_SESSION_RUNS]
    return info


#: Runs of this session kept for "start from a saved run's embeddings" (newest first).
MAX_SESSION_RUNS = 5


def get_session_runs() -> list[RunInfo]:
    """The runs trained or opened in this session, newest first (the current one included)."""
    return list(st.session_state.get(Keys.SESSION_RUNS, []))


def get_init_upload_path() -> tuple[str, str] | None:
    """(upload file id, path of its copy on disk) of the saved-run zip to start from."""
    return st.session_state.get(Keys.INIT_UPLOAD_PATH)


def set_init_upload_path(value: tuple[str, str] | None) -> None:
    """Remember where the uploaded saved-run zip was written (None forgets it)."""
    st.session_state[Keys.INIT_UPLOAD_PATH] = value


def get_scratch_job() -> ScratchJob | None:
    """The latest "compare with training from scratch" job, or None."""
    return st.session_state.get(Keys.SCRATCH_JOB)


def set_scratch_job(job: ScratchJob | None) -> None:
    """Store the comparison job started on the Train page."""
    st.session_state[Keys.SCRATCH_JOB] = job


def clear_run() -> None:
    """Forget the current run."""
    st.session_state.pop(Keys.RUN_INFO, None)


def get_job() -> TrainingJob | None:
    """The latest training job (running or finished), or None."""
    return st.session_state.get(Keys.JOB)


def set_job(job: TrainingJob | None) -> None:
    """Store the training job started by the Train button."""
    st.session_state[Keys.JOB] = job


def adopt_finished_job() -> RunInfo | None:
    """If the training job has finished with a run not stored yet, store it as the run.

    Called at the top of every script run (app.py), so a run finished while the user was
    on another page is never lost. Returns the new RunInfo when one was adopted.
    """
    job = get_job()
    if job is None or not job.done or job.adopted or job.result is None:
        return None
    job.adopted = True
    record = job.record
    return set_run(
        job.result,
        dataset_label=job.dataset_label,
        dataset_key=job.dataset_key,
        n_rows=job.n_rows,
        seconds=job.train_seconds,
        total_seconds=job.total_seconds,
        run_id=record.id if record is not None else "",
        name=record.name if record is not None else "",
        stored=record is not None,
        save_error=job.save_error,
    )


# --------------------------------------------------------------------------- lift / what-if


def get_lift_job() -> LiftJob | None:
    """The latest lift job (running or finished), or None."""
    return st.session_state.get(Keys.LIFT_JOB)


def set_lift_job(job: LiftJob | None) -> None:
    """Store the lift job started by the Lift page's Run button."""
    st.session_state[Keys.LIFT_JOB] = job


def get_lift_result() -> LiftResult | None:
    """The latest finished lift result (complete or stopped early), or None."""
    return st.session_state.get(Keys.LIFT_RESULT)


def set_lift_result(result: LiftResult | None, data: dict[str, str] | None = None) -> None:
    """Store a finished lift result and ``data``, the ``{"key", "label"}`` of the
    dataset it measured (None: not known)."""
    st.session_state[Keys.LIFT_RESULT] = result
    st.session_state[Keys.LIFT_DATA] = data


def get_lift_data() -> dict[str, str] | None:
    """``{"key", "label"}`` of the data the lift result measured, or None if not known."""
    return st.session_state.get(Keys.LIFT_DATA)


def adopt_finished_lift_job() -> LiftResult | None:
    """If the lift job has finished with a result not stored yet, store it as the result.

    Called at the top of every script run (app.py), like ``adopt_finished_job``. A job
    that ended without a result (an error, or stopped before the first cell) leaves the
    previous result in place. Returns the newly stored result, if any.
    """
    job = get_lift_job()
    if job is None or not job.done or job.adopted or job.result is None:
        return None
    job.adopted = True
    set_lift_result(job.result, {"key": job.dataset_key, "label": job.dataset_label})
    return job.result


def get_scenarios() -> list[dict[str, Any]]:
    """What-if scenarios kept for comparison (a new list if none)."""
    scenarios = st.session_state.get(Keys.SCENARIOS)
    if scenarios is None:
        scenarios = []
        st.session_state[Keys.SCENARIOS] = scenarios
    return scenarios


def set_scenarios(scenarios: list[dict[str, Any]]) -> None:
    """Replace the list of what-if scenarios."""
    st.session_state[Keys.SCENARIOS] = list(scenarios)


def get_link_error() -> str | None:
    """Why the run named in the page's link could not be opened (None if it could)."""
    return st.session_state.get(Keys.LINK_ERROR)


def set_link_error(message: str | None) -> None:
    """Remember (or forget) why the link's run could not be opened."""
    st.session_state[Keys.LINK_ERROR] = message


def url_restored() -> bool:
    """True once this session has applied its first URL (``ui.runs.restore_from_url``)."""
    return bool(st.session_state.get(Keys.URL_RESTORED))


def mark_url_restored() -> None:
    """Record that this session's first URL has been applied (all of it, or it failed):
    a first run stopped half-way, by a rerun that came in, applies it again."""
    st.session_state[Keys.URL_RESTORED] = True


def get_store_data() -> bool:
    """Whether new runs are saved with their training data (the Train page's checkbox)."""
    return bool(st.session_state.get(Keys.STORE_DATA, True))


def get_stability_job() -> Any:
    """The latest "check stability" job (``ui.training.StabilityJob``), or None."""
    return st.session_state.get(Keys.STABILITY_JOB)


def set_stability_job(job: Any) -> None:
    """Store the "check stability" job started on the Neighbours page."""
    st.session_state[Keys.STABILITY_JOB] = job


def get_whatif_row() -> dict[str, Any] | None:
    """The what-if base row (column -> value), or None."""
    return st.session_state.get(Keys.WHATIF_ROW)


def set_whatif_row(row: dict[str, Any] | None) -> None:
    """Store the what-if base row."""
    st.session_state[Keys.WHATIF_ROW] = None if row is None else dict(row)
