"""Readers of the standard evaluation file formats, to the flat arrays the ops take."""

from .voc import (
    VOC_CLASSES,
    VOCData,
    load_voc,
    load_voc_annotations,
    load_voc_detections,
    read_names,
)

__all__ = [
    "VOC_CLASSES",
    "VOCData",
    "load_voc",
    "load_voc_annotations",
    "load_voc_detections",
    "read_names",
]
