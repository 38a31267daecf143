"""What a kept lift result was measured on, against the session now (``ui.lift_source``)."""

from __future__ import annotations

from embedding_core.analysis.lift import LiftResult
from embedding_core.data.roles import Roles
from embedding_core.model.config import TrainConfig
from ui.lift_source import changes_since
from ui.literal import literal

ROLES = Roles(("city", "plan"), "churned", ("age",), "binary")
CONFIG = TrainConfig(epochs=2)
SOURCE = {"key": "upload:abc", "label": "claims.csv"}


def _result(roles: Roles = ROLES, config: TrainConfig = CONFIG) -> LiftResult:
    # what run_lift records: the roles as given, the settings with its own refit choice
    return LiftResult(
        task="binary", mode="holdout", metric="auc", secondary_metrics=(), results=[],
        lift=[], reference=None, verdicts=[], notes=[], complete=True, folds=None,
        holdout_fraction=0.2, n_rows=100, n_train=80, n_test=20, seed=0, subsample={},
        bootstrap_resamples=None, deepfm_train_seconds=None,
        config=config.replace(refit=False).to_dict(), roles=roles.to_dict(),
        created_at="2026-12-02T05:00:00", total_seconds=1.0,
    )  # fmt: skip


def test_a_result_for_the_data_roles_and_settings_in_use_has_no_changes():
    assert changes_since(_result(), SOURCE, "upload:abc", "claims.csv", ROLES, CONFIG) == []
    # an unknown source (kept before the app noted it) is not compared
    assert changes_since(_result(), None, "sample:bank", "Bank", ROLES, CONFIG) == []
    # roles whose task was resolved later are the same roles
    same = Roles(ROLES.categorical, ROLES.target, ROLES.numeric, None)
    assert changes_since(_result(), SOURCE, "upload:abc", "claims.csv", same, CONFIG) == []


def test_other_data_is_named_with_both_labels_escaped():
    source = {"key": "upload:old", "label": "*old*.csv"}
    said = changes_since(_result(), source, "upload:abc", "claims.csv", ROLES, CONFIG)
    assert said == [
        f"These results are for **{literal('*old*.csv')}**, not the data loaded now "
        f"(**{literal('claims.csv')}**)."
    ]
    assert "\\*old\\*" in said[0]  # Markdown cannot turn the name into emphasis


def test_other_columns_and_settings_are_both_said():
    roles = Roles(("city",), "left", (), "binary")
    config = CONFIG.replace(seed=3, hidden_units=(8,))
    said = changes_since(_result(), SOURCE, "upload:abc", "claims.csv", roles, config)
    assert said[0] == (
        "They were measured with other columns (target **churned**; 2 categorical, 1 numeric)."
    )
    assert said[1].replace("\\", "") == (
        "The Train page's settings have changed since: **hidden_units**, **seed**."
    )
    # the settings the Lift page sets itself are never a change
    own = CONFIG.replace(refit=True)
    assert changes_since(_result(), SOURCE, "upload:abc", "claims.csv", ROLES, own) == []
