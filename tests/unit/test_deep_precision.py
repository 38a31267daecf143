"""The MLP's precision (``TrainConfig.deep_precision``, ``model.mlp``): chosen from the
CPU, applied to the hidden layers only, recorded in the run, reachable from the CLI."""

from __future__ import annotations

import keras  # a hard dependency: these tests never skip
import numpy as np
import pytest
from synthetic import BINARY_ROLES, make_binary_frame

from embedding_core.model import mlp
from embedding_core.model.config import TrainConfig
from embedding_core.model.deepfm import build_deepfm
from embedding_core.model.entity import build_entity
from embedding_core.model.features import FeatureEncoder
from embedding_core.model.train import train

FLAGS = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f {extra}\nbugs\t\t: spectre\n"
SMALL = TrainConfig(embedding_dim=4, hidden_units=(16, 8), dropout=0.1)


@pytest.mark.parametrize(
    ("extra", "native"),
    [("avx512_bf16 avx512_vnni", True), ("amx_bf16 amx_tile", True), ("avx512_vnni", False)],
)
def test_bfloat16_instructions_are_read_from_the_cpu_flags(extra: str, native: bool) -> None:
    assert mlp.native_bfloat16(FLAGS.format(extra=extra)) is native


def test_no_flags_line_means_no_bfloat16() -> None:
    assert mlp.native_bfloat16("processor\t: 0\nmodel name\t: avx512_bf16 in a name\n") is False
    assert mlp.native_bfloat16("") is False


@pytest.mark.parametrize("native", [True, False])
def test_auto_follows_the_cpu_and_explicit_choices_do_not(
    monkeypatch: pytest.MonkeyPatch, native: bool
) -> None:
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.setattr(mlp, "native_bfloat16", lambda: native)
    assert mlp.deep_dtype("auto") == ("mixed_bfloat16" if native else "float32")
    assert mlp.deep_dtype("bfloat16") == "mixed_bfloat16"
    assert mlp.deep_dtype("float32") == "float32"


def test_auto_keeps_float32_on_small_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.setattr(mlp, "native_bfloat16", lambda: True)
    assert mlp.resolve_precision("auto", mlp.BF16_MIN_ROWS - 1) == "float32"
    assert mlp.resolve_precision("auto", mlp.BF16_MIN_ROWS) == "bfloat16"
    assert mlp.resolve_precision("auto") == "bfloat16"
    assert mlp.resolve_precision("bfloat16", 10) == "bfloat16"


def test_auto_keeps_float32_when_onednn_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mlp, "native_bfloat16", lambda: True)
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert mlp.deep_dtype("auto") == "float32"


def test_an_unknown_precision_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="deep_precision in"):
        TrainConfig(deep_precision="half")


def test_a_config_saved_before_the_option_ran_in_float32() -> None:
    saved = TrainConfig().to_dict()
    del saved["deep_precision"]
    assert TrainConfig.from_dict(saved).deep_precision == "float32"
    assert TrainConfig.from_dict(TrainConfig().to_dict()).deep_precision == "auto"


@pytest.mark.parametrize("build", [build_deepfm, build_entity])
def test_bfloat16_runs_the_hidden_layers_only_and_predicts_like_float32(build) -> None:
    frame = make_binary_frame()
    fe = FeatureEncoder().fit(frame, BINARY_ROLES)
    kwargs = {"embedding_dims": {f: 4 for f in fe.fields}} if build is build_entity else {}
    half = build(fe, SMALL.replace(deep_precision="bfloat16"), **kwargs)
    full = build(fe, SMALL.replace(deep_precision="float32"), **kwargs)
    full.set_weights(half.get_weights())
    hidden = [layer for layer in half.layers if layer.name.startswith("deep_") and layer.weights]
    assert [layer.name for layer in hidden] == ["deep_0", "deep_1", "deep_out"]
    for layer in hidden[:-1]:
        assert (layer.compute_dtype, layer.kernel.dtype) == ("bfloat16", "float32")
    assert half.get_layer("deep_out").compute_dtype == "float32"
    assert all(w.dtype == "float32" for w in half.weights)
    for layer in full.layers:
        assert layer.compute_dtype == "float32"
    inputs = fe.transform(frame.head(64))
    p_half = keras.ops.convert_to_numpy(half(inputs, training=False))
    p_full = keras.ops.convert_to_numpy(full(inputs, training=False))
    assert p_half.dtype == np.float32
    # bfloat16 keeps 8 bits of mantissa: close to float32, but not the same numbers
    np.testing.assert_allclose(p_half, p_full, atol=0.02)
    assert not np.array_equal(p_half, p_full)


@pytest.mark.parametrize(
    ("precision", "ran"),
    [("bfloat16", "bfloat16"), ("float32", "float32"), ("auto", "float32")],
)
def test_the_run_says_which_precision_trained_it(precision: str, ran: str) -> None:
    frame = make_binary_frame()
    assert len(frame) < mlp.BF16_MIN_ROWS  # "auto": too few rows for bfloat16 to pay
    run = train(frame, BINARY_ROLES, SMALL.replace(epochs=1, deep_precision=precision))
    assert run.metrics["deep_precision"] == ran
    assert run.model.get_layer("deep_0").compute_dtype == ran
    assert np.isfinite(run.metrics["valid_logloss"])


def test_the_cli_passes_the_precision() -> None:
    from embedding_core.cli import _config, build_parser

    argv = ["train", "--data", "d.csv", "--categorical", "a", "--target", "y", "--out", "o"]
    assert _config(build_parser().parse_args(argv)).deep_precision == "auto"
    args = build_parser().parse_args([*argv, "--deep-precision", "float32"])
    assert _config(args).deep_precision == "float32"
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--deep-precision", "half"])
