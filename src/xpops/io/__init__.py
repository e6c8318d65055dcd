"""Reading and writing files: parameter sets (safetensors) and the standard evaluation
file formats, read to the flat arrays the ops take."""

from .params import load_params, save_params
from .voc import (
    VOC_CLASSES,
    VOCData,
    load_voc,
    load_voc_annotations,
    load_voc_detections,
    read_names,
)

__all__ = [
    "save_params",
    "load_params",
    "VOC_CLASSES",
    "VOCData",
    "load_voc",
    "load_voc_annotations",
    "load_voc_detections",
    "read_names",
]
