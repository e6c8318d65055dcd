"""xpops: ML and vision operations written once against the Python array API standard.

Every function takes arrays of any array-API library (NumPy, PyTorch, JAX, CuPy, Dask,
array-api-strict) and returns arrays of the same library, on the same device.
"""

from . import io
from .impl.activations import (
    log_sigmoid,
    log_softmax,
    logsumexp,
    sigmoid,
    softmax,
)
from .impl.attention import scaled_dot_product_attention
from .impl.attention_mha import mha_params_from_torch, multi_head_attention
from .impl.average_precision import average_precision_score, interpolated_average_precision
from .impl.boxes import box_area, box_convert
from .impl.boxes_iou import (
    box_iou,
    complete_box_iou,
    complete_box_iou_loss,
    distance_box_iou,
    distance_box_iou_loss,
    generalized_box_iou,
    generalized_box_iou_loss,
)
from .impl.classification import (
    confusion_matrix,
    f1_score,
    fbeta_from_stats,
    fbeta_score,
    precision_recall_fbeta,
    stat_scores,
)
from .impl.convolution import conv2d
from .impl.cross_entropy import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
)
from .impl.curves import best_fbeta_threshold, fbeta_curve
from .impl.detection import (
    CocoEvaluation,
    VOCResult,
    coco_evaluate,
    coco_summary,
    voc_evaluate,
)
from .impl.linear import (
    logistic_regression_loss,
    softmax_loss,
    svm_loss,
    train_linear_classifier,
    two_layer_net,
)
from .impl.neighbors import (
    best_k,
    kneighbors,
    knn_cross_validate,
    knn_predict,
    knn_predict_proba,
    pairwise_distances,
)
from .impl.nms import (
    batched_nms,
    nms,
    nms_padded,
    soft_nms,
)
from .impl.pooling import (
    adaptive_avg_pool2d,
    avg_pool2d,
    global_avg_pool2d,
    max_pool2d,
    squeeze_excitation,
)
from .impl.segmentation import (
    MeanIoU,
    dice_from_confusion,
    dice_score,
    intersection_and_union,
    mean_iou,
    mean_iou_from_confusion,
)
from .impl.segmentation_loss import dice_loss

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
    "MeanIoU",
    "intersection_and_union",
    "mean_iou",
    "mean_iou_from_confusion",
    "dice_from_confusion",
    "dice_score",
    "dice_loss",
    "box_convert",
    "box_area",
    "box_iou",
    "generalized_box_iou",
    "distance_box_iou",
    "complete_box_iou",
    "generalized_box_iou_loss",
    "distance_box_iou_loss",
    "complete_box_iou_loss",
    "nms",
    "batched_nms",
    "nms_padded",
    "soft_nms",
    "CocoEvaluation",
    "coco_evaluate",
    "coco_summary",
    "VOCResult",
    "voc_evaluate",
    "interpolated_average_precision",
    "average_precision_score",
    "scaled_dot_product_attention",
    "multi_head_attention",
    "mha_params_from_torch",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "global_avg_pool2d",
    "squeeze_excitation",
    "pairwise_distances",
    "kneighbors",
    "knn_predict",
    "knn_predict_proba",
    "knn_cross_validate",
    "best_k",
    "svm_loss",
    "softmax_loss",
    "two_layer_net",
    "logistic_regression_loss",
    "train_linear_classifier",
    "io",
]
