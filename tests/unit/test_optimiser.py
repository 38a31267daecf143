"""LazyAdam: Keras Adam's maths, one fused op for dense weights, lazy rows for lookups."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from embedding_core.model.deepfm import LazyAdam


def _run(optimizer: keras.optimizers.Optimizer, start: np.ndarray, grads: list) -> np.ndarray:
    var = keras.Variable(start.copy())
    optimizer.build([var])

    @tf.function
    def step(grad: object) -> None:
        optimizer.apply_gradients([(grad, var)])

    for grad in grads:
        step(grad)
    return var.numpy()


def test_dense_step_is_keras_adam() -> None:
    rng = np.random.default_rng(0)
    start = rng.normal(size=(16, 4)).astype("float32")
    grads = [tf.constant(rng.normal(size=start.shape).astype("float32")) for _ in range(20)]
    ours = _run(LazyAdam(1e-2), start, grads)
    keras_adam = _run(keras.optimizers.Adam(1e-2), start, grads)
    assert not np.allclose(ours, start, atol=1e-3)  # the weights did move
    np.testing.assert_allclose(ours, keras_adam, rtol=1e-5, atol=1e-6)


def test_sparse_step_moves_only_the_rows_used_and_sums_duplicates() -> None:
    rng = np.random.default_rng(1)
    start = rng.normal(size=(6, 3)).astype("float32")
    values = rng.normal(size=(3, 3)).astype("float32")
    rows = tf.constant([4, 1, 4])  # row 4 twice: its gradients add up
    sparse = tf.IndexedSlices(tf.constant(values), rows, tf.constant(start.shape))
    dense = tf.convert_to_tensor(sparse)
    # First step from zero moments: lazy and dense Adam agree on every row.
    np.testing.assert_allclose(
        _run(LazyAdam(1e-2), start, [sparse]),
        _run(keras.optimizers.Adam(1e-2), start, [dense]),
        rtol=1e-6,
    )
    # A later step that uses only row 0: rows 1 and 4 keep their values (dense Adam's
    # momentum would move them), rows never used stay exactly at their start.
    later = tf.IndexedSlices(tf.constant(values[:1]), tf.constant([0]), tf.constant(start.shape))
    after_one = _run(LazyAdam(1e-2), start, [sparse])
    after_two = _run(LazyAdam(1e-2), start, [sparse, later])
    np.testing.assert_array_equal(after_two[[1, 2, 3, 4, 5]], after_one[[1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(after_two[[2, 3, 5]], start[[2, 3, 5]])
    assert not np.array_equal(after_two[0], start[0])


def test_embedding_lr_factor_scales_only_the_looked_up_rows() -> None:
    """A factor of 3 moves the rows of a sparse (table) gradient three times as far and
    leaves dense weights exactly as the plain optimiser moves them."""
    rng = np.random.default_rng(2)
    start = rng.normal(size=(6, 3)).astype("float32")
    sparse = tf.IndexedSlices(
        tf.constant(rng.normal(size=(2, 3)).astype("float32")),
        tf.constant([1, 4]),
        tf.constant(start.shape),
    )
    plain = _run(LazyAdam(1e-2), start, [sparse]) - start
    faster = _run(LazyAdam(1e-2, embedding_lr_factor=3.0), start, [sparse]) - start
    assert np.abs(plain[[1, 4]]).min() > 0
    np.testing.assert_allclose(faster, 3 * plain, rtol=1e-5, atol=1e-7)
    dense = [tf.constant(rng.normal(size=start.shape).astype("float32")) for _ in range(3)]
    np.testing.assert_array_equal(
        _run(LazyAdam(1e-2, embedding_lr_factor=3.0), start, dense),
        _run(LazyAdam(1e-2), start, dense),
    )
    config = LazyAdam(1e-2, embedding_lr_factor=3.0).get_config()
    assert LazyAdam.from_config(config).embedding_lr_factor == 3.0
    with pytest.raises(ValueError, match="embedding_lr_factor"):
        LazyAdam(1e-2, embedding_lr_factor=0)


def test_one_step_over_many_variables_shares_its_scalars() -> None:
    """A step over several weights (dense and looked-up, two dtypes) moves each as Keras
    Adam moves it alone, and the traced step computes the bias corrections once per
    dtype, not once per variable."""
    rng = np.random.default_rng(3)
    starts = [rng.normal(size=shape).astype("float32") for shape in [(5, 3), (3,), (7, 2)]]
    grads = [rng.normal(size=s.shape).astype("float32") for s in starts]
    sparse = tf.IndexedSlices(tf.constant(grads[2][:2]), tf.constant([6, 1]), tf.constant((7, 2)))
    wide = rng.normal(size=(4,))  # float64: its own scalars

    def run(optimizer: keras.optimizers.Optimizer) -> tuple[list[np.ndarray], tf.Graph]:
        variables = [keras.Variable(s.copy()) for s in starts]
        variables.append(keras.Variable(wide.copy(), dtype="float64"))
        optimizer.build(variables)
        step_grads = [tf.constant(grads[0]), tf.constant(grads[1]), sparse, tf.constant(wide)]

        @tf.function
        def step() -> None:
            optimizer.apply_gradients(zip(step_grads, variables, strict=True))

        for _ in range(3):
            step()
        return [v.numpy() for v in variables], step.get_concrete_function().graph

    ours, graph = run(LazyAdam(1e-2))
    theirs, _ = run(keras.optimizers.Adam(1e-2))
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ours[3], wide)  # the float64 weight moved too
    pows = [op for op in graph.get_operations() if op.type == "Pow"]
    assert len(pows) == 4  # beta_1 and beta_2 to the step's power, for each of two dtypes
