"""One validation vocabulary: the same types accepted and the same messages in every op."""

from __future__ import annotations

import math

import array_api_strict as xps
import numpy as np
import pytest

import xpops
from xpops._lib.validation import (
    check_binary_values,
    check_count,
    check_count_pair,
    check_label_range,
    check_probability,
    check_real,
)


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({}, float("nan"), "`v` must not be NaN, got nan"),
        ({"finite": True}, math.inf, "`v` must be finite, got inf"),
        ({"low": 0, "low_open": True}, 0.0, "`v` must be > 0, got 0.0"),
        ({"low": 0, "high": 1, "low_open": True}, 1.5, r"`v` must be in \(0, 1\], got 1.5"),
        ({"high": 1, "high_open": True}, 1, "`v` must be < 1, got 1"),
        ({"finite": True, "low": 0}, -math.inf, "`v` must be finite and >= 0, got -inf"),
    ],
)
def test_check_real_rejects_values_outside_with_the_rule(kwargs, value, message):
    with pytest.raises(ValueError, match=message):
        check_real(value, "v", **kwargs)


@pytest.mark.parametrize("value", [True, "0.5", None, [0.5], np.array([0.5])])
def test_check_real_rejects_non_numbers(value):
    with pytest.raises(TypeError, match="`v` must be a real number, got"):
        check_real(value, "v")


@pytest.mark.parametrize("value", [0.25, 1, np.float32(0.25), np.float64(0.25), np.int8(0)])
def test_check_real_accepts_python_and_numpy_numbers(value):
    out = check_real(value, "v", low=0, high=1)
    assert type(out) is float and out == float(value)


def test_check_real_nan_passes_only_when_allowed():
    assert math.isnan(check_real(math.nan, "v", allow_nan=True, low=0, high=1))
    assert check_probability(1, "p") == 1.0
    with pytest.raises(ValueError, match=r"`p` must be in \[0, 1\], got 1.01"):
        check_probability(1.01, "p")


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3), np.int32(3)])
def test_check_count_accepts_python_and_numpy_integers(value):
    out = check_count(value, "n", minimum=1)
    assert type(out) is int and out == 3


@pytest.mark.parametrize("value", [True, 3.0, np.float64(3), "3", None])
def test_check_count_rejects_non_integers(value):
    with pytest.raises(TypeError, match="`n` must be an int, got"):
        check_count(value, "n")


def test_check_count_bounds_and_optional():
    with pytest.raises(ValueError, match="`n` must be >= 1, got 0"):
        check_count(0, "n", minimum=1)
    with pytest.raises(ValueError, match=r"`k` must be in \[1, 4\], got 5"):
        check_count(5, "k", minimum=1, maximum=4)
    assert check_count(None, "c", optional=True) is None
    with pytest.raises(TypeError, match="`c` must be an int or None, got 1.5"):
        check_count(1.5, "c", optional=True)
    assert check_count_pair(np.int64(2), "stride", minimum=1) == (2, 2)
    with pytest.raises(ValueError, match=r"`stride` must be >= 1, got \(1, 0\)"):
        check_count_pair((1, 0), "stride", minimum=1)


@pytest.mark.parametrize("xp", [np, xps], ids=["numpy", "array_api_strict"])
def test_label_range_names_the_first_bad_value_and_its_index(xp):
    x = xp.asarray([[0, 1, 2], [2, 9, -4]])
    with pytest.raises(ValueError, match=r"`y` holds labels outside \[0, 3\): "
                       r"first bad value 9 at index \(1, 1\)$"):
        check_label_range(xp, x, "y", 3)
    with pytest.raises(ValueError, match=r"first bad value -4 at index \(1, 2\) "
                       r"\(ignore_index=9\)"):
        check_label_range(xp, x, "y", 3, ignore_index=9)
    with pytest.raises(ValueError, match=r"outside \[0, inf\): first bad value -4"):
        check_label_range(xp, x, "y", None)
    check_label_range(xp, x, "y", 10, keep=x >= 0)  # the negative one is not kept


def test_label_range_on_a_device_without_int64():
    no_x64 = next(d for d in xps.__array_namespace_info__().devices() if "no_x64" in str(d))
    x = xps.asarray([0, 1, 3, 0], dtype=xps.int32, device=no_x64)
    with pytest.raises(ValueError, match="first bad value 3 at index 2"):
        check_label_range(xps, x, "target", 3)
    with pytest.raises(ValueError, match="first bad value 3 at index 2"):
        check_binary_values(xps, x, "target")


def test_binary_values_report_floats_and_pass_bool():
    with pytest.raises(ValueError, match=r"`t` must hold only 0 and 1: first bad value 0.5 "
                       r"at index 1"):
        check_binary_values(np, np.array([1.0, 0.5, 2.0]), "t")
    check_binary_values(np, np.array([True, False]), "t")


# ------------------------------------------------------------ the same rule in every op

_P = np.array([0, 1, 2, 1])
_X = np.random.default_rng(0).normal(size=(1, 2, 5, 5))
_W = np.ones((2, 1, 3, 3))
_BOXES = np.array([[0.0, 0, 2, 2], [1, 1, 3, 3]])
_SCORES = np.array([0.9, 0.8])
_POINTS = np.random.default_rng(1).normal(size=(6, 2))

# (op call with the value put in, parameter name): counts given as NumPy integers work
# and bool is refused with the same message everywhere
COUNTS = {
    "confusion_matrix num_classes": (
        lambda v: xpops.confusion_matrix(_P % 2, _P % 2, num_classes=v), "num_classes"),
    "conv2d groups": (lambda v: xpops.conv2d(_X, np.ones((2, 1, 3, 3)), groups=v), "groups"),
    "max_pool2d kernel_size": (lambda v: xpops.max_pool2d(_X, kernel_size=v), "kernel_size"),
    "kneighbors k": (lambda v: xpops.kneighbors(_POINTS, _POINTS, k=v), "k"),
    "nms_padded max_output_size": (
        lambda v: xpops.nms_padded(_BOXES, _SCORES, 0.5, max_output_size=v),
        "max_output_size"),
    "train_linear_classifier num_iters": (
        lambda v: xpops.train_linear_classifier(
            xpops.svm_loss, _POINTS, np.array([0, 1, 2, 0, 1, 2]), num_iters=v),
        "num_iters"),
}


@pytest.mark.parametrize("case", list(COUNTS))
def test_every_count_takes_numpy_integers_and_refuses_bool(case):
    call, name = COUNTS[case]
    call(np.int64(2))
    with pytest.raises(TypeError, match=f"`{name}` must be an int"):
        call(True)


REALS = {
    "fbeta_score beta": (lambda v: xpops.fbeta_score(_P, _P, beta=v, task="multiclass",
                                                     num_classes=3, average="macro"), "beta"),
    "nms iou_threshold": (lambda v: xpops.nms(_BOXES, _SCORES, v), "iou_threshold"),
    "dice_loss smooth_nr": (
        lambda v: xpops.dice_loss(np.full((2, 3, 4), 0.5), np.ones((2, 3, 4)), smooth_nr=v),
        "smooth_nr"),
    "cross_entropy label_smoothing": (
        lambda v: xpops.cross_entropy(np.zeros((4, 3)), _P, label_smoothing=v),
        "label_smoothing"),
}


@pytest.mark.parametrize("case", list(REALS))
def test_every_real_option_takes_numpy_scalars_and_refuses_bool(case):
    call, name = REALS[case]
    call(np.float32(0.5))
    with pytest.raises(TypeError, match=f"`{name}` must be a real number, got True"):
        call(True)
