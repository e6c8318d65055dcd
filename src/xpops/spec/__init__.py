"""WHAT each operation computes: one module per family, one :class:`OpSpec` per op."""

from __future__ import annotations

from . import (
    activations,
    attention,
    average_precision,
    boxes,
    classification,
    coco,
    convolution,
    cross_entropy,
    curves,
    linear,
    neighbors,
    nms,
    pooling,
    segmentation,
    voc,
)
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

SPECS: dict[str, OpSpec] = {
    s.name: s
    for s in (
        *activations.SPECS,
        *cross_entropy.SPECS,
        *classification.SPECS,
        *curves.SPECS,
        *segmentation.SPECS,
        *boxes.SPECS,
        *nms.SPECS,
        *coco.SPECS,
        *voc.SPECS,
        *average_precision.SPECS,
        *attention.SPECS,
        *convolution.SPECS,
        *pooling.SPECS,
        *neighbors.SPECS,
        *linear.SPECS,
    )
}
__all__ = [
    "SPECS",
    "OpSpec",
    "Case",
    "InvalidCase",
    "Property",
    "Native",
    "Capabilities",
    "Unsupported",
    "get",
]


def get(name: str) -> OpSpec:
    """The spec of op ``name``; ValueError lists the known ones."""
    try:
        return SPECS[name]
    except KeyError:
        msg = f"unknown op {name!r}; known ops: {', '.join(SPECS)}"
        raise ValueError(msg) from None
