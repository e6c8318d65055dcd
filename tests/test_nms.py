"""NMS against torchvision, the classic NumPy loop and the float64 oracle, on every backend.

References: ``torchvision.ops.nms`` / ``batched_nms`` (index for index where no scores
tie: its sort is not stable), the classic pure-NumPy greedy loop (py_cpu_nms, offset=1),
the spec's float64 oracle, and ``jax.jit`` for ``nms_padded``. torchvision needs torch
2.14.1, so those tests skip where it is absent (``nox -s peers`` runs them).

The phases of the algorithm are exercised on every backend: few survivors (clustered
boxes, blocked phase only) and most survivors (uniform boxes, where the pair sweep takes
over once there are more than ``sparse_min`` candidates left); phase 0 (top blocks and
grid-cell kills, before any full sort) with a ``GreedyTuning`` of small sizes passed to
the engine, so that small inputs reach it, hand over to the sorted phases and split
pairs into several chunks. A profile hook records which phases ran; the engine itself
runs unchanged.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xpops
from xpops._lib.control import while_loop
from xpops._lib.elsewhere import compute_elsewhere
from xpops._lib.indexing import take_nonnegative
from xpops._lib.namespace import array_namespace
from xpops.impl import nms_greedy as greedy
from xpops.impl.nms_greedy import DEFAULT_TUNING, GreedyTuning
from xpops.spec.nms import (
    batched_nms_oracle,
    classic_numpy_nms,
    iou_oracle,
    nms_oracle,
    soft_nms_oracle,
)


def clustered(rng, n, centres=20, span=1000.0):
    """The bench's "clustered" layout: N boxes of 60-80 px around a few centres."""
    c = rng.uniform(0.1 * span, 0.9 * span, size=(centres, 2))
    xy = c[rng.integers(0, centres, n)] + rng.uniform(-8, 8, size=(n, 2))
    wh = rng.uniform(60, 80, size=(n, 2))
    return np.concatenate([xy - wh / 2, xy + wh / 2], axis=1), rng.random(n)


def uniform(rng, n, span=1000.0):
    """The bench's "uniform" layout: N boxes of 1-100 px anywhere in a square."""
    xy = rng.uniform(0, span, size=(n, 2))
    wh = rng.uniform(1, 100, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1), rng.random(n)


def _run(backend, fn, boxes, scores, *args, dtype=None, **kwargs):
    dtype = dtype or backend.float_dtypes[-1]
    out = fn(backend.asarray(boxes, dtype), backend.asarray(scores, dtype), *args, **kwargs)
    return out


def _np(backend, out):
    assert backend.same_device(out)
    return backend.to_numpy(out)


def _engine(backend, boxes, scores, t, tuning, *, labels=None, dtype=None, offset=0,
            score_threshold=None, max_output_size=None):
    """The greedy engine with ``tuning``, run where ``xpops.nms`` runs it (NumPy copies
    of eager JAX arrays, strict's default device for its ``no_x64`` device)."""
    dtype = dtype or backend.float_dtypes[-1]
    args = (backend.asarray(boxes, dtype), backend.asarray(scores, dtype),
            None if labels is None else backend.asarray(labels))

    def run(xp, b, s, lab):
        return greedy.greedy_nms(xp, b, s, lab, t, score_threshold, max_output_size, offset,
                                 tuning=tuning)

    return _np(backend, compute_elsewhere(array_namespace(args[0]), run, *args))


@contextlib.contextmanager
def _phases_run():
    """The names of the engine's functions called inside the block, in call order."""
    ran: list[str] = []
    engine = greedy.__file__

    def hook(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == engine:
            ran.append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield ran
    finally:
        sys.setprofile(previous)


# ------------------------------------------------------------- every backend, both phases


@pytest.mark.parametrize("layout", [clustered, uniform], ids=["clustered", "uniform"])
@pytest.mark.parametrize("offset", [0, 1])
def test_nms_equals_classic_numpy_loop(backend, layout, offset):
    """Distinct scores: the classic loop's reversed argsort order is then exact."""
    boxes, scores = layout(np.random.default_rng(7), 1500)
    dtype = backend.float_dtypes[-1]
    rounded = backend.asarray(boxes, dtype)
    want = classic_numpy_nms(backend.to_numpy(rounded).astype(np.float64),
                             scores, 0.5, offset)
    got = xpops.nms(rounded, backend.asarray(scores, dtype), 0.5, offset=offset)
    assert backend.dtype_name(got) == backend.int_dtype
    np.testing.assert_array_equal(_np(backend, got), want)


def test_blocked_and_sparse_phases_agree(backend):
    boxes, scores = uniform(np.random.default_rng(3), 150, span=500.0)
    scores = np.round(scores * 8) / 8  # many ties: the stable order must hold in both
    labels = np.random.default_rng(4).integers(0, 3, 150)
    # the sweep takes over early, in several chunks of pairs
    sweep = GreedyTuning(first_block=8, sparse_min=16, pair_chunk=64)
    blocks_only = GreedyTuning(first_block=8, sparse_min=10**9)
    results = []
    for tuning in (sweep, blocks_only):
        with _phases_run() as ran:
            both = (_engine(backend, boxes, scores, 0.5, tuning),
                    _engine(backend, boxes, scores, 0.5, tuning, labels=labels))
        assert ran.count("_sparse_greedy") == (2 if tuning is sweep else 0)
        results.append(both)
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
    rounded = backend.to_numpy(backend.asarray(boxes, backend.float_dtypes[-1])).astype(np.float64)
    np.testing.assert_array_equal(results[0][0], nms_oracle(rounded, scores, 0.5))
    np.testing.assert_array_equal(results[0][1],
                                  batched_nms_oracle(rounded, scores, labels, 0.5))


def _small_phase0(dense_pairs=0):
    """Phase 0 (few survivors) on small inputs: low thresholds, small blocks, the grid
    even for few pairs (for more than ``dense_pairs``)."""
    return GreedyTuning(few_min=32, few_block=16, dense_pairs=dense_pairs)


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("shift", [0.0, 1e5], ids=["origin", "far"])
@pytest.mark.parametrize("dense_pairs", [0, 1000], ids=["second-box", "all-kept"])
@pytest.mark.parametrize("layout", [(6, 400.0), (12, 150.0)], ids=["apart", "crowded"])
def test_few_survivors_phase_equals_classic_loop(backend, offset, shift, dense_pairs, layout):
    """Clustered boxes (few survive), phase 0 then the sorted phases for what is left,
    against the classic loop; also far from the origin (float32 cells of coordinates
    near 1e5) and with the pixel offset. Crowded clusters put candidates in cells that
    several kept boxes reach: those meet the cell's second kept box first, or (when few)
    every kept box at once."""
    centres, span = layout
    boxes, scores = clustered(np.random.default_rng(11), 600, centres=centres, span=span)
    rounded = backend.to_numpy(backend.asarray(boxes + shift, backend.float_dtypes[-1]))
    want = classic_numpy_nms(rounded.astype(np.float64), scores, 0.5, offset)
    with _phases_run() as ran:
        got = _engine(backend, boxes + shift, scores, 0.5, _small_phase0(dense_pairs),
                      offset=offset)
    np.testing.assert_array_equal(got, want)
    assert "_few_survivors" in ran


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("shift", [0.0, 1e5], ids=["origin", "far"])
def test_few_survivors_phase_at_the_threshold_edge(backend, offset, shift):
    """Phase 0 looks for a kept box's victims only in the cells an IoU above the
    threshold can reach (an overlap above ``threshold x width`` along each axis): boxes
    shifted to an IoU within a few float32 steps of each threshold, along x or y, keep
    the classic loop's answer."""
    rng = np.random.default_rng(14)
    boxes, scores = [], []
    for i, t in enumerate((0.05, 0.3, 0.5, 0.7, 0.95)):
        for axis in (0, 1):
            w = float(rng.uniform(20, 60))
            corner = np.array([300.0 * i, 300.0 * axis + 50 * t])
            box = np.concatenate([corner, corner + w])
            boxes.append(box)
            scores.append(2.0 - i / 10 - axis / 20)
            edge = (w + offset) * (1 - t) / (1 + t)  # IoU t at this shift
            for k in range(-4, 5):
                moved = box.copy()
                moved[[axis, axis + 2]] += edge * (1 + k * 3e-7) * (1 if k % 2 else -1)
                boxes.append(moved)
                scores.append(float(rng.uniform(0, 1)))
    boxes, scores = np.asarray(boxes) + shift, np.asarray(scores)
    args = backend.asarray(boxes, "float32"), backend.asarray(scores, "float32")
    thresholds = (0.05, 0.3, 0.5, 0.7, 0.95, 1.0, 1.5)
    # the sorted phases (checked against torchvision) in float32, as phase 0 computes
    want = [_np(backend, xpops.nms(*args, t, offset=offset)) for t in thresholds]
    with _phases_run() as ran:
        for t, expected in zip(thresholds, want, strict=True):
            got = _engine(backend, boxes, scores, t, _small_phase0(), dtype="float32",
                          offset=offset)
            np.testing.assert_array_equal(got, expected)
    assert "_few_survivors" in ran


@pytest.mark.parametrize("offset", [0, 1])
def test_grid_cells_reach_every_box_above_the_threshold(offset):
    """The cells a kept box searches (narrowed by the overlap ``t x width`` that an IoU
    above ``t`` needs along each axis) hold every box it suppresses. Tight case: slivers
    at the far end of a kept box, inside it, of relative width within a few float32
    steps of ``t`` (IoU = that width), on cells far finer than the slivers' spread
    (some of which lie outside)."""
    fine = GreedyTuning(cells=4096, cell_divs=4096)
    rng = np.random.default_rng(15)
    for t in (0.05, 0.3, 0.5, 0.7, 0.95):
        c = greedy.strict_threshold(np, np.float32, t)
        for axis in (0, 1):
            w = rng.uniform(20, 60)
            steps = np.concatenate([np.arange(-60, 61) * 2e-7, np.arange(-30, 31) * 1e-3])
            widths = t * (w + offset) * (1 + steps) - offset
            boxes = np.tile(np.array([100.0, 100.0, 100 + w, 100 + w]), (widths.size + 1, 1))
            boxes[1:, axis] = boxes[1:, axis + 2] - widths
            cols = greedy.box_columns(np, boxes.astype(np.float32), offset)
            grid = greedy._Grid(np, cols, offset, fine)
            reached = grid.reach(np, cols[:, :1], c)[0, grid.keys] > 0
            above = greedy.column_iou(np, cols[:, :1], cols, offset) > c
            assert np.all(reached[above])
            assert 1 < np.sum(above) and np.sum(~reached) > 0  # the edge lies in there


def test_few_survivors_phase_hands_over_mid_way(backend):
    """High scores on clusters, low ones on scattered boxes: phase 0 drops the clusters,
    then a block keeps most of its boxes and the sorted phases finish; ties in scores
    (stable order), score_threshold and max_output_size go through both."""
    rng = np.random.default_rng(12)
    cb, cs = clustered(rng, 400, centres=5, span=400.0)
    ub, us = uniform(rng, 200, span=400.0)
    boxes = np.concatenate([ub[:100], cb, ub[100:]])
    scores = np.round(np.concatenate([us[:100] / 2, 0.5 + cs / 2, us[100:] / 2]) * 64) / 64
    with _phases_run() as ran:
        got = _engine(backend, boxes, scores, 0.5, _small_phase0())
    np.testing.assert_array_equal(got, nms_oracle(boxes, scores, 0.5))
    assert "_few_survivors" in ran and "_greedy" in ran[ran.index("_few_survivors"):]
    for kwargs in ({"score_threshold": 0.25}, {"max_output_size": 7},
                   {"max_output_size": 40}):
        with _phases_run() as ran:
            got = _engine(backend, boxes, scores, 0.5, _small_phase0(), **kwargs)
        np.testing.assert_array_equal(got, nms_oracle(boxes, scores, 0.5, **kwargs))
        assert "_few_survivors" in ran


def test_few_survivors_phase_takes_infinite_scores(backend):
    """Scores of +-inf (and ties among them) pass through phase 0's sampled blocks: the
    result equals the sorted phases' (checked against torchvision)."""
    boxes, scores = clustered(np.random.default_rng(18), 600, centres=6, span=400.0)
    scores[::40], scores[1::53] = np.inf, -np.inf
    want = _np(backend, _run(backend, xpops.nms, boxes, scores, 0.5))
    with _phases_run() as ran:
        got = _engine(backend, boxes, scores, 0.5, _small_phase0())
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, nms_oracle(boxes, scores, 0.5))
    assert "_few_survivors" in ran


def test_few_survivors_phase_with_tied_scores(backend):
    """Scores tied in large groups crowd the sampled block threshold (phase 0 then takes
    an exact top-k): equal scores still go in input order."""
    boxes, _ = clustered(np.random.default_rng(19), 1200, centres=6, span=400.0)
    scores = np.repeat([0.9, 0.1], [800, 400])
    with _phases_run() as ran:
        got = _engine(backend, boxes, scores, 0.5, _small_phase0())
    np.testing.assert_array_equal(got, nms_oracle(boxes, scores, 0.5))
    assert "_few_survivors" in ran


def test_few_survivors_phase_skips_degenerate_boxes(backend):
    """Zero-area boxes need the guarded IoU: phase 0 stands aside, the result holds."""
    boxes, scores = clustered(np.random.default_rng(13), 200, centres=4, span=300.0)
    boxes[::7, 2] = boxes[::7, 0]  # zero width
    with _phases_run() as ran:
        got = _engine(backend, boxes, scores, 0.5, _small_phase0())
    np.testing.assert_array_equal(got, nms_oracle(boxes, scores, 0.5))
    assert "_few_first" in ran and "_few_survivors" not in ran


def test_equal_scores_are_taken_in_input_order(backend):
    """40 boxes, 10 distinct scores: every backend returns the same stable order."""
    rng = np.random.default_rng(5)
    boxes, _ = uniform(rng, 40, span=150.0)
    scores = rng.integers(0, 10, 40) / 10
    got = _np(backend, _run(backend, xpops.nms, boxes, scores, 0.3))
    np.testing.assert_array_equal(got, nms_oracle(boxes, scores, 0.3))
    flat = _np(backend, _run(backend, xpops.nms, boxes, np.zeros(40), 1.0))
    np.testing.assert_array_equal(flat, np.arange(40))


def test_score_threshold_and_max_output_size(backend):
    boxes, scores = uniform(np.random.default_rng(6), 900, span=300.0)
    full = nms_oracle(boxes, scores, 0.4)
    got = _np(backend, _run(backend, xpops.nms, boxes, scores, 0.4, max_output_size=25))
    np.testing.assert_array_equal(got, full[:25])
    got = _np(backend, _run(backend, xpops.nms, boxes, scores, 0.4, score_threshold=0.5))
    np.testing.assert_array_equal(got, nms_oracle(boxes, scores, 0.4, score_threshold=0.5))


def test_batched_nms_equals_per_label_nms(backend):
    rng = np.random.default_rng(8)
    boxes, scores = clustered(rng, 800, centres=6)
    labels = rng.integers(-3, 5, 800)
    got = _np(backend, _run(backend, xpops.batched_nms, boxes, scores,
                            backend.asarray(labels), 0.5))
    np.testing.assert_array_equal(got, batched_nms_oracle(boxes, scores, labels, 0.5))


def test_batched_nms_keeps_precision_of_large_coordinates(backend):
    """Folding labels into coordinates (x + label * (max + 1)) rounds float32 boxes far
    from the origin; comparing labels keeps them exact."""
    dtype = backend.float_dtypes[0]
    base = np.array([[1e6, 1e6, 1e6 + 10, 1e6 + 10], [1e6 + 5, 1e6, 1e6 + 15, 1e6 + 10]])
    boxes = np.concatenate([base, base])
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    labels = np.array([0, 0, 1000, 1000])
    got = _np(backend, _run(backend, xpops.batched_nms, boxes, scores,
                            backend.asarray(labels), 1 / 3 - 1e-3, dtype=dtype))
    np.testing.assert_array_equal(got, [0, 2])  # IoU 50/150 > threshold within each label


def test_nms_padded_equals_nms_prefix(backend):
    boxes, scores = uniform(np.random.default_rng(9), 300, span=200.0)
    want = nms_oracle(boxes, scores, 0.5)
    for size in (0, 10, want.size, want.size + 7):
        idx, num = _run(backend, xpops.nms_padded, boxes, scores, 0.5, max_output_size=size)
        idx, num = _np(backend, idx), _np(backend, num)
        assert idx.shape == (size,) and num.shape == ()
        assert int(num) == min(size, want.size)
        np.testing.assert_array_equal(idx[: int(num)], want[:size])
        assert np.all(idx[int(num):] == -1)


def test_soft_nms_matches_oracle_on_many_boxes(backend):
    boxes, scores = clustered(np.random.default_rng(10), 120, centres=5, span=300.0)
    for kwargs in ({}, {"method": "linear", "iou_threshold": 0.3, "score_threshold": 0.05}):
        idx, s = _run(backend, xpops.soft_nms, boxes, scores, dtype=backend.float_dtypes[-1],
                      **kwargs)
        want_idx, want_s = soft_nms_oracle(boxes, scores, **kwargs)
        np.testing.assert_array_equal(_np(backend, idx), want_idx)
        np.testing.assert_allclose(_np(backend, s), want_s, rtol=1e-5)


# ------------------------------------------------------------------ hand-checked values


def test_named_cases():
    a = np.array([[0.0, 0, 10, 10], [0, 0, 10, 5]])  # IoU exactly 0.5
    np.testing.assert_array_equal(xpops.nms(a, np.array([0.9, 0.8]), 0.5), [0, 1])
    np.testing.assert_array_equal(xpops.nms(a, np.array([0.9, 0.8]), 0.49), [0])
    chain = np.array([[0.0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]])
    np.testing.assert_array_equal(xpops.nms(chain, np.array([0.9, 0.8, 0.7]), 0.4), [0, 2])
    same = np.repeat(a[:1], 3, axis=0)
    np.testing.assert_array_equal(xpops.nms(same, np.array([0.1, 0.3, 0.2]), 1.0), [1, 2, 0])
    empty = xpops.nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.5)
    assert empty.shape == (0,) and empty.dtype == np.int64
    with pytest.raises(ValueError, match="scores"):
        xpops.nms(a, np.array([0.9, np.nan]), 0.5)
    with pytest.raises(ValueError, match="inverted"):
        xpops.nms(a[:, [2, 1, 0, 3]], np.array([0.9, 0.8]), 0.5)


def test_options_name_the_parameter_and_the_bad_value():
    b, s = np.array([[0.0, 0, 10, 10], [1, 1, 11, 11]]), np.array([0.9, 0.8])
    with pytest.raises(ValueError, match=r"`max_output_size` must be >= 0, got -1"):
        xpops.nms(b, s, 0.5, max_output_size=-1)
    with pytest.raises(TypeError, match=r"`max_output_size` must be an int or None, got 2.0"):
        xpops.batched_nms(b, s, np.array([0, 1]), 0.5, max_output_size=2.0)
    with pytest.raises(TypeError, match=r"`max_output_size` must be an int, got None"):
        xpops.nms_padded(b, s, 0.5, max_output_size=None)
    with pytest.raises(ValueError, match=r"`iou_threshold` must not be NaN, got nan"):
        xpops.nms(b, s, float("nan"))
    with pytest.raises(TypeError, match=r"`score_threshold` must be a real number, got 'x'"):
        xpops.nms(b, s, 0.5, score_threshold="x")
    with pytest.raises(ValueError, match=r"`sigma` must be > 0, got 0.0"):
        xpops.soft_nms(b, s, sigma=0.0)
    # NumPy scalars are real numbers and counts
    got = xpops.nms(b, s, np.float32(0.7), max_output_size=np.int64(1))
    np.testing.assert_array_equal(got, [0])


def test_tuning_is_checked():
    with pytest.raises(ValueError, match=r"`few_block` must be in \[1, 255\], got 256"):
        GreedyTuning(few_block=256)
    with pytest.raises(ValueError, match=r"`first_block` must be >= 1, got 0"):
        GreedyTuning(first_block=0)
    with pytest.raises(TypeError, match=r"`pair_chunk` must be an int, got 1.5"):
        GreedyTuning(pair_chunk=1.5)
    assert GreedyTuning() == DEFAULT_TUNING


def test_threshold_compares_float32_iou_with_the_real_threshold():
    """IoU 10 / 100 rounds to float32 0.100000001 > 0.1: suppressed, as in torchvision
    (float32 IoU against the double threshold). Comparing in float32, where 0.1 rounds
    to the same value, would keep it; float64 IoU is exactly 0.1 and keeps it."""
    b = np.array([[0.0, 0, 10, 10], [0, 0, 10, 1]])
    s = np.array([0.9, 0.8])
    assert float(np.float32(10) / np.float32(100)) > 0.1
    np.testing.assert_array_equal(xpops.nms(b.astype(np.float32), s.astype(np.float32), 0.1),
                                  [0])
    np.testing.assert_array_equal(xpops.nms(b, s, 0.1), [0, 1])
    assert greedy.strict_threshold(np, np.float32, 0.1) < 0.1


def test_soft_nms_hand_computed():
    """IoU(0, 1) = 0.5: box 1 decays to 0.8 exp(-0.25 / 0.5) = 0.485 and falls behind 2."""
    boxes = np.array([[0.0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30]])
    idx, s = xpops.soft_nms(boxes, np.array([0.9, 0.8, 0.7]), sigma=0.5)
    np.testing.assert_array_equal(idx, [0, 2, 1])
    np.testing.assert_allclose(s, [0.9, 0.7, 0.8 * np.exp(-0.5)], rtol=1e-15)
    idx, s = xpops.soft_nms(boxes, np.array([0.9, 0.8, 0.7]), method="linear",
                            iou_threshold=0.5)  # IoU == threshold: no decay
    np.testing.assert_array_equal(idx, [0, 1, 2])
    idx, s = xpops.soft_nms(boxes, np.array([0.9, 0.8, 0.7]), score_threshold=0.5)
    np.testing.assert_array_equal(idx, [0, 2])  # 0.485 < 0.5: dropped


def test_soft_nms_matches_the_original_loop():
    from xpops.spec import SPECS

    original = SPECS["soft_nms"].native("numpy").load()
    boxes, scores = clustered(np.random.default_rng(11), 60, centres=4, span=200.0)
    for method in ("gaussian", "linear"):
        idx, s = xpops.soft_nms(boxes, scores, method=method, offset=1)
        want_idx, want_s = original(boxes, scores, method=method, offset=1)
        np.testing.assert_array_equal(idx, want_idx)
        np.testing.assert_allclose(s, want_s, rtol=1e-12)


# ------------------------------------------------------------------------------ jax.jit


def test_nms_padded_under_jit():
    jax = pytest.importorskip("jax")
    boxes, scores = uniform(np.random.default_rng(12), 300, span=200.0)
    want = nms_oracle(boxes.astype(np.float32), scores.astype(np.float32), 0.5,
                      score_threshold=0.2)

    @jax.jit
    def run(b, s):
        return xpops.nms_padded(b, s, 0.5, max_output_size=64, score_threshold=0.2)

    idx, num = run(jax.numpy.asarray(boxes, dtype="float32"),
                   jax.numpy.asarray(scores, dtype="float32"))
    assert int(num) == min(64, want.size)
    np.testing.assert_array_equal(np.asarray(idx)[: int(num)], want[:64])


def test_while_loop(backend):
    xp = backend.xp
    x = backend.asarray(np.array([1, 2, 3]))
    out, n = while_loop(lambda s: s[1] < 5, lambda s: (s[0] * 2, s[1] + 1),
                        (x, xp.asarray(0)))
    np.testing.assert_array_equal(backend.to_numpy(out), [32, 64, 96])


def test_while_loop_traced_uses_lax():
    from xpops._lib.native import natives_disabled

    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    @jax.jit
    def f(x):
        return while_loop(lambda s: s[0] < 100, lambda s: (s[0] * 3,), (x,))[0]

    assert int(f(jnp.asarray(2))) == 162
    with natives_disabled():  # a traced loop has no other form
        assert int(jax.jit(lambda x: f(x) + 0)(jnp.asarray(3))) == 243


@pytest.mark.parametrize("native", [True, False], ids=["native", "fallback"])
def test_take_nonnegative(backend, native):
    from xpops._lib.native import natives_disabled

    x = backend.asarray(np.arange(12).reshape(3, 4))
    idx = backend.asarray(np.array([2, 0, 2]))
    if native:
        out = take_nonnegative(backend.xp, x, idx, axis=1)
    else:
        with natives_disabled():
            out = take_nonnegative(backend.xp, x, idx, axis=1)
    np.testing.assert_array_equal(backend.to_numpy(out), np.arange(12).reshape(3, 4)[:, [2, 0, 2]])


# -------------------------------------------------------------------------- torchvision


def _tv():
    torchvision = pytest.importorskip("torchvision", reason="needs torch 2.14.1: nox -s peers")
    import torch

    return torch, torchvision


@pytest.mark.parametrize("layout", [clustered, uniform], ids=["clustered", "uniform"])
@pytest.mark.parametrize("n", [50, 2000])
@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
def test_nms_equals_torchvision(layout, n, threshold):
    torch, torchvision = _tv()
    boxes, scores = layout(np.random.default_rng(n), n)
    b = torch.asarray(boxes, dtype=torch.float32)
    s = torch.asarray(scores, dtype=torch.float32)
    assert torch.unique(s).numel() == n  # no ties: torchvision's order is then defined
    want = torchvision.ops.nms(b, s, threshold)
    got = xpops.nms(b, s, threshold)
    assert got.dtype == torch.int64
    assert torch.equal(got, want)


@pytest.mark.parametrize("threshold", [0.1, 0.5, 0.9])
def test_few_survivors_phase_equals_torchvision(threshold):
    """Clustered boxes past ``few_min``: phase 0 (the grid-cell kills) runs, with its
    default sizes, and agrees with torchvision index for index."""
    torch, torchvision = _tv()
    n = 2 * DEFAULT_TUNING.few_min
    boxes, _ = clustered(np.random.default_rng(16), n)
    b = torch.asarray(boxes, dtype=torch.float32)
    s = torch.asarray(np.random.default_rng(17).permutation(n) / n, dtype=torch.float32)
    assert torch.equal(xpops.nms(b, s, threshold), torchvision.ops.nms(b, s, threshold))


def test_batched_nms_equals_torchvision():
    torch, torchvision = _tv()
    rng = np.random.default_rng(13)
    for n in (300, 3000):  # torchvision's coordinate-offset path, then its per-class loop
        boxes, scores = uniform(rng, n)
        labels = torch.asarray(rng.integers(0, 80, n))
        b, s = torch.asarray(boxes, dtype=torch.float32), torch.asarray(scores,
                                                                         dtype=torch.float32)
        assert torch.equal(xpops.batched_nms(b, s, labels, 0.5),
                           torchvision.ops.batched_nms(b, s, labels, 0.5))


def test_named_cases_equal_torchvision():
    torch, torchvision = _tv()
    t = lambda x: torch.asarray(x, dtype=torch.float32)  # noqa: E731
    cases = [
        (t([[0, 0, 10, 10], [0, 0, 10, 5]]), t([0.9, 0.8]), 0.5),  # IoU == threshold: kept
        (t([[0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]]), t([0.9, 0.8, 0.7]), 0.4),  # chain
        (t([[0, 0, 10, 10]] * 3), t([0.1, 0.3, 0.2]), 1.0),  # identical boxes at 1.0
        (t(np.zeros((0, 4))), t(np.zeros(0)), 0.5),  # empty
        (t([[0, 0, 10, 10], [0, 0, 10, 1]]), t([0.9, 0.8]), 0.1),  # float32 IoU vs 0.1
        (t([[0, 0, 10, 10], [5, 5, 5, 5]]), t([0.9, 0.8]), 0.0),  # zero-area box
    ]
    for boxes, scores, threshold in cases:
        want = torchvision.ops.nms(boxes, scores, threshold)
        got = xpops.nms(boxes, scores, threshold)
        assert got.dtype == want.dtype and torch.equal(got, want), (boxes, threshold)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60),
       threshold=st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0]),
       layout=st.sampled_from(["clustered", "uniform", "grid"]))
def test_hypothesis_torchvision_and_greedy_invariants(seed, n, threshold, layout):
    torch, torchvision = _tv()
    rng = np.random.default_rng(seed)
    if layout == "grid":
        xy = rng.integers(0, 10, size=(n, 2))
        boxes = np.concatenate([xy, xy + rng.integers(0, 6, size=(n, 2))], axis=1) * 1.0
    else:
        boxes, _ = (clustered if layout == "clustered" else uniform)(rng, n, span=120.0)
    scores = rng.permutation(n) / max(n, 1)  # distinct
    b, s = torch.asarray(boxes, dtype=torch.float32), torch.asarray(scores, dtype=torch.float32)
    keep = xpops.nms(b, s, threshold)
    assert torch.equal(keep, torchvision.ops.nms(b, s, threshold))
    keep = keep.tolist()
    b64 = b.double().numpy()
    iou = lambda i, j: iou_oracle(b64[i], b64[j])  # noqa: E731
    assert keep == sorted(keep, key=lambda i: -scores[i])
    # float32 IoU may round across the threshold: compare with a rounding margin
    assert not any(iou(i, j) > threshold + 1e-6 for x, i in enumerate(keep) for j in keep[x + 1:])
    rank = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: -scores[i]))}
    for i in set(range(n)) - set(keep):
        assert any(rank[j] < rank[i] and iou(j, i) > threshold - 1e-6 for j in keep)
