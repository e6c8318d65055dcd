"""Readers of detection data sets into the flat arrays the metrics take."""

from .coco import (
    CocoDetections,
    CocoFormatError,
    CocoGroundTruth,
    evaluate_coco_files,
    read_coco_detections,
    read_coco_ground_truth,
)

__all__ = [
    "CocoFormatError",
    "CocoGroundTruth",
    "CocoDetections",
    "read_coco_ground_truth",
    "read_coco_detections",
    "evaluate_coco_files",
]
