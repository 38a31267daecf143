"""Fewer graph-optimisation passes for the functions a training traces.

TensorFlow optimises a traced function on its first call (Grappler): by default two
rounds of about a dozen passes. For the training step of a DeepFM (about 500 ops) the
passes took about 0.3 s of a 1.5-2 s training on 40,000 rows. Most of what they give
comes in the first round (the fused matmul kernels, folded constants, pruned
dependencies); the second round removed 23 of 485 nodes. Two passes are built
for accelerators: the memory optimiser (swapping and recomputing activations to fit
GPU memory, 40 ms here) and the layout optimiser (convolution data layouts). On a CPU,
for these networks, they change nothing.

``lean_graph_passes`` runs the functions first called inside it with one round and
without those two passes. It sets this for the calling thread only (TensorFlow's
per-thread function options) and puts the thread's options back on exit, so a user's
own models in the same process keep TensorFlow's defaults. A function keeps the
options it was first called with: training, the final fit and the ahead-of-time
warm-up all use it, so they share one optimised step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["lean_graph_passes"]


@contextmanager
def lean_graph_passes() -> Iterator[None]:
    """Within the block, this thread's traced functions are optimised in one round,
    without the memory and layout optimisers (see the module docstring)."""
    from tensorflow.core.protobuf import config_pb2, rewriter_config_pb2
    from tensorflow.python.eager import context

    ctx = context.context()
    saved = ctx.function_call_options
    config = config_pb2.ConfigProto()
    config.ParseFromString(saved.config_proto_serialized)
    rewrite = config.graph_options.rewrite_options
    rewrite.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.ONE
    rewrite.memory_optimization = rewriter_config_pb2.RewriterConfig.NO_MEM_OPT
    rewrite.layout_optimizer = rewriter_config_pb2.RewriterConfig.OFF
    ctx.function_call_options = context.FunctionCallOptions(
        executor_type=saved.executor_type, config_proto=config
    )
    try:
        yield
    finally:
        ctx.function_call_options = saved
