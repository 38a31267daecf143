"""lean_graph_passes: one round of graph optimisation for this thread, then back."""

from __future__ import annotations

import threading

import pytest
import tensorflow as tf
from synthetic import BINARY_ROLES, TINY_CONFIG, make_binary_frame
from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
from tensorflow.python.eager import context

from embedding_core.model.graph_passes import lean_graph_passes
from embedding_core.model.prepare import prepare_training
from embedding_core.model.train import Progress, train

RW = rewriter_config_pb2.RewriterConfig


def _rewrite_options() -> rewriter_config_pb2.RewriterConfig:
    config = config_pb2.ConfigProto()
    config.ParseFromString(context.context().function_call_options.config_proto_serialized)
    return config.graph_options.rewrite_options


def test_the_block_sets_this_thread_only_and_puts_its_options_back() -> None:
    before = context.context().function_call_options.config_proto_serialized
    seen_elsewhere: list[int] = []
    with lean_graph_passes():
        inside = _rewrite_options()
        assert inside.meta_optimizer_iterations == RW.ONE
        assert inside.memory_optimization == RW.NO_MEM_OPT
        assert inside.layout_optimizer == RW.OFF
        assert inside.remapping != RW.OFF  # the fused kernels stay
        other = threading.Thread(
            target=lambda: seen_elsewhere.append(_rewrite_options().meta_optimizer_iterations)
        )
        other.start()
        other.join()

        @tf.function
        def double(x: tf.Tensor) -> tf.Tensor:
            return x * 2.0

        assert float(double(tf.constant(1.5))) == 3.0  # functions run as usual inside
    assert seen_elsewhere == [RW.DEFAULT_NUM_ITERS]
    assert context.context().function_call_options.config_proto_serialized == before
    with pytest.raises(RuntimeError), lean_graph_passes():
        raise RuntimeError("boom")
    assert context.context().function_call_options.config_proto_serialized == before


def test_training_and_its_warm_up_run_in_the_block() -> None:
    """Every training event (the epochs and the final fit) comes from inside the block,
    as does the warm-up that traces the same step ahead; the caller's options are back
    after each."""
    before = context.context().function_call_options.config_proto_serialized
    rounds: dict[str, set[int]] = {}

    def on_progress(progress: Progress) -> None:
        rounds.setdefault(progress.kind, set()).add(_rewrite_options().meta_optimizer_iterations)

    frame, config = make_binary_frame(), TINY_CONFIG.replace(epochs=2, refit=True)
    prepared = prepare_training(frame, BINARY_ROLES, config)
    assert context.context().function_call_options.config_proto_serialized == before
    run = train(frame, BINARY_ROLES, config, on_progress=on_progress, prepared=prepared)
    assert run.metrics["prepared_ahead"] and run.metrics["refit"]
    assert {"start", "epoch", "refit", "end"} <= set(rounds)
    assert set().union(*rounds.values()) == {RW.ONE}
    assert context.context().function_call_options.config_proto_serialized == before
