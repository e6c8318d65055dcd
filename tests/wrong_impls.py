"""Deliberately wrong implementations: the conformance engine must reject each one."""

import numpy as np
from array_api_compat import array_namespace

import xpops


def softmax(x, /, *, axis=-1, where=None):
    """No max shift: overflows to NaN for logits around 1000."""
    xp = array_namespace(x)
    e = xp.exp(x)
    return e / xp.sum(e, axis=axis, keepdims=True)


def sigmoid(x, /):
    """Returns NumPy whatever the input library."""
    return np.asarray(xpops.sigmoid(x))


def log_sigmoid(x, /):
    """Upcasts to float64."""
    xp = array_namespace(x)
    return xpops.log_sigmoid(xp.astype(x, xp.float64))


def logsumexp(x, /, *, axis=-1, keepdims=False, where=None):
    """Mutates its input."""
    out = xpops.logsumexp(x, axis=axis, keepdims=keepdims, where=where)
    x[...] = 0
    return out


def cross_entropy(logits, target, /, **kwargs):
    """Skips the class-index range check (out-of-range targets silently wrap)."""
    xp = array_namespace(logits)
    num_classes = logits.shape[kwargs.get("axis", -1)]
    if xp.isdtype(target.dtype, "integral"):
        target = xp.where((target >= 0) & (target < num_classes), target, target % num_classes)
        if kwargs.get("ignore_index") is not None:
            return xpops.cross_entropy(logits, target, **kwargs)
    return xpops.cross_entropy(logits, target, **kwargs)
