"""Do the embeddings help? Downstream-model lift, measured without leakage.

``run_lift`` feeds four scikit-learn models (logistic/ridge regression, histogram
gradient boosting, k-nearest neighbours, random forest) with four encodings of the same
categorical columns, next to the same numeric columns:

``onehot``
    ``OneHotEncoder`` with ``min_frequency`` (rarer categories share an "infrequent"
    column, unseen ones map there too). Sparse and uncapped for logistic regression;
    gradient boosting (which needs dense input), kNN and the random forest (much slower
    on sparse input) get a dense version with at most ``ONEHOT_DENSE_WIDTH`` columns
    in all (``ONEHOT_DENSE_WIDTH // n_fields`` per field, between 4 and 32).
``ordinal``
    ``OrdinalEncoder`` (categories sorted as text, unseen -> -1), then standardised.
``target``
    scikit-learn's ``TargetEncoder``. Its ``fit_transform`` cross-fits on the training
    rows (5 folds), so a row's own target never leaks into its encoding.
``embedding``
    A DeepFM trained **only on the training rows** of the split (holdout or fold); each
    categorical column is replaced by its ``k`` vector components (``TrainedRun.embed``),
    then standardised.

Numeric columns are imputed (median, plus a missing flag) and standardised on the
training rows, identically for every encoding. DeepFM's own predictions are reported as
a reference (``LiftResult.reference``), outside the lift list.

Two modes:

* **holdout** (``folds=None``, the fast mode): one seeded split, ``holdout_fraction`` of
  the rows held out (stratified for classification). ``mean`` is the metric on the
  holdout rows; ``std`` is the standard deviation of that metric over
  ``BOOTSTRAP_RESAMPLES`` bootstrap resamples of the holdout rows (predictions fixed,
  same resamples for every cell). The lift's ``std`` is the bootstrap std of the paired
  difference. It measures the noise of the test set, not of the training.
* **cv** (``folds=k``): k-fold cross-validation (stratified for classification), DeepFM
  retrained in every fold. ``mean``/``std`` are across folds (``ddof=1``); the lift's
  ``std`` is the std of the per-fold differences.

To keep a run within a couple of minutes on a small machine, the slow models are fitted
on a seeded random subsample of the training rows (``MAX_TRAIN_ROWS``; the same subsample
for every encoding of a model). Every subsample is listed in ``LiftResult.notes`` and in
the JSON (``subsample``). Scoring always uses every held-out row.

Verdicts: one sentence per model. A lift within two standard deviations of zero is
reported as "about level ... within the noise"; otherwise as a gain or a loss.

Stopping: the progress callback may return ``False``. The run stops at the next step (a
DeepFM training stops within a batch). If at least one (model, encoding) result is
complete, a partial ``LiftResult`` with ``complete=False`` is returned; otherwise
``TrainingCancelled`` is raised.

The package, one idea per module:

``zoo``       the encodings and models (names, labels, caps), fitted the same way per cell
``splits``    holdout/k-fold rows and the target in the run's own coding
``scoring``   metrics on held-out rows, weighted by bootstrap counts
``summary``   per-split predictions -> cell scores, error bars and lifts
``verdict``   the plain-language sentences
``result``    ``LiftResult`` and its JSON/CSV contract
``progress``  ``LiftProgress`` reports
``runner``    ``run_lift``

Examples
--------
>>> result = run_lift(frame, roles)                       # doctest: +SKIP
>>> result.to_frame()                                     # doctest: +SKIP
>>> json.dumps(result.to_json_dict())                     # doctest: +SKIP
"""

from __future__ import annotations

from embedding_core.analysis.lift.progress import LiftProgress
from embedding_core.analysis.lift.result import LiftResult
from embedding_core.analysis.lift.runner import BOOTSTRAP_RESAMPLES, run_lift
from embedding_core.analysis.lift.scoring import score
from embedding_core.analysis.lift.splits import lift_splits
from embedding_core.analysis.lift.zoo import (
    ENCODING_LABELS,
    ENCODINGS,
    MAX_TRAIN_ROWS,
    MODEL_LABELS,
    MODELS,
    model_label,
    network_name,
)

__all__ = [
    "MODELS",
    "ENCODINGS",
    "MODEL_LABELS",
    "network_name",
    "model_label",
    "ENCODING_LABELS",
    "MAX_TRAIN_ROWS",
    "BOOTSTRAP_RESAMPLES",
    "LiftProgress",
    "LiftResult",
    "run_lift",
    "lift_splits",
    "score",
]
