"""xpops: ML and vision operations written once against the Python array API standard.

Every function takes arrays of any array-API library (NumPy, PyTorch, JAX, CuPy, Dask,
array-api-strict) and returns arrays of the same library, on the same device.
"""

from .impl.activations import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax
from .impl.boxes import box_area, box_convert, box_iou
from .impl.classification import (
    confusion_matrix,
    f1_score,
    fbeta_from_stats,
    fbeta_score,
    precision_recall_fbeta,
    stat_scores,
)
from .impl.cross_entropy import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
)
from .impl.curves import best_fbeta_threshold, fbeta_curve
from .impl.nms import batched_nms, nms, nms_padded, soft_nms
from .impl.segmentation import (
    MeanIoU,
    dice_from_confusion,
    dice_loss,
    dice_score,
    intersection_and_union,
    mean_iou,
    mean_iou_from_confusion,
)

__version__ = "0.1.0"

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "log_sigmoid",
    "cross_entropy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "confusion_matrix",
    "stat_scores",
    "fbeta_from_stats",
    "precision_recall_fbeta",
    "fbeta_score",
    "f1_score",
    "fbeta_curve",
    "best_fbeta_threshold",
    "intersection_and_union",
    "mean_iou",
    "MeanIoU",
    "mean_iou_from_confusion",
    "dice_from_confusion",
    "dice_score",
    "dice_loss",
    "box_convert",
    "box_area",
    "box_iou",
    "nms",
    "batched_nms",
    "nms_padded",
    "soft_nms",
]
