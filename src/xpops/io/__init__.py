"""Reading and writing files: parameter sets (safetensors), and the COCO and PASCAL VOC
evaluation formats read to the flat arrays the detection metrics take."""

from .coco import (
    CocoDetections,
    CocoFormatError,
    CocoGroundTruth,
    evaluate_coco_files,
    read_coco_detections,
    read_coco_ground_truth,
)
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
    "CocoFormatError",
    "CocoGroundTruth",
    "CocoDetections",
    "read_coco_ground_truth",
    "read_coco_detections",
    "evaluate_coco_files",
    "VOC_CLASSES",
    "VOCData",
    "load_voc",
    "load_voc_annotations",
    "load_voc_detections",
    "read_names",
]
