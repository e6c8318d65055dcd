"""Implementations that take their process down, for the conformance run's isolation tests
(``xpops conformance --impl crashing_impls``): each crash must cost one cell, not the run."""

import ctypes
import os
import time

from xpops import log_sigmoid  # noqa: F401 - a correct op beside the crashing ones


def softmax(x, /, *, axis=-1, where=None):
    """A segmentation fault inside native code."""
    ctypes.string_at(0)


def sigmoid(x, /):
    """An abort, as a failed assertion in a C++ library raises."""
    os.abort()


def logsumexp(x, /, *, axis=None, keepdims=False, where=None):
    """A hang: the cell time limit must stop it."""
    time.sleep(3600)
