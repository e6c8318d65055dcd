"""COCO JSON files (ground truth and bbox results) to flat arrays of any namespace.

Boxes stay in COCO's ``xywh`` form; ids stay COCO's ids (``labels`` are category ids,
``image_ids`` image ids), and the maps from ids to names and file names come along.
A malformed file raises :class:`CocoFormatError` (a ValueError) naming the file and
the field, e.g. ``gt.json: annotations[12].bbox must be 4 numbers, got [1, 2]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CocoFormatError",
    "CocoGroundTruth",
    "CocoDetections",
    "read_coco_ground_truth",
    "read_coco_detections",
    "evaluate_coco_files",
]


class CocoFormatError(ValueError):
    """A COCO file that does not have the expected structure."""


@dataclass(frozen=True)
class CocoGroundTruth:
    """Ground truth of a COCO instances file. Arrays have one row per annotation
    (``boxes (G, 4)`` xywh, ``labels``, ``image_ids``, ``iscrowd``, ``area``,
    ``annotation_ids``) except ``all_image_ids`` and ``category_ids`` (every image and
    category the file lists, ascending)."""

    path: str
    boxes: Any
    labels: Any
    image_ids: Any
    iscrowd: Any
    area: Any
    annotation_ids: Any
    all_image_ids: Any
    category_ids: Any
    category_names: Mapping[int, str]
    image_files: Mapping[int, str]


@dataclass(frozen=True)
class CocoDetections:
    """Detections of a COCO bbox results file: ``boxes (D, 4)`` xywh, ``scores``,
    ``labels`` (category ids) and ``image_ids``, in file order."""

    path: str
    boxes: Any
    scores: Any
    labels: Any
    image_ids: Any


def _fail(path: str, field: str, problem: str) -> CocoFormatError:
    return CocoFormatError(f"{path}: {field} {problem}")


def _load(path: str | os.PathLike) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise CocoFormatError(f"{os.fspath(path)}: not valid JSON ({exc})") from exc


def _column(path: str, section: str, items: list, key: str, convert: Callable[[list], Any],
            check: Callable[[Any], bool], expect: str, default: Any = None) -> Any:
    """``convert([item[key] ...])``; on any problem, find the first bad entry and name it."""
    try:
        values = [it[key] if default is None else it.get(key, default) for it in items]
        out = convert(values)
    except (KeyError, TypeError, ValueError):
        out = None
    if out is not None and not check(out):
        out = None
    if out is None:
        for i, it in enumerate(items):
            field = f"{section}[{i}].{key}"
            if not isinstance(it, dict):
                raise _fail(path, f"{section}[{i}]", f"must be an object, got {it!r}")
            if key not in it and default is None:
                raise _fail(path, field, "is missing")
            try:
                one = convert([it[key] if default is None else it.get(key, default)])
            except (KeyError, TypeError, ValueError):
                one = None
            if one is None or not check(one):
                raise _fail(path, field, f"must be {expect}, got {it.get(key)!r}")
        raise _fail(path, section, f"entries must have {key} as {expect}")
    return out


def _ints(values: list) -> np.ndarray:
    out = np.asarray(values)
    if out.shape != (len(values),) or (out.dtype.kind not in "iu" and out.size):
        raise TypeError("not integers")
    return out.astype(np.int64, copy=False)


def _floats(values: list) -> np.ndarray:
    out = np.asarray(values)
    if out.shape != (len(values),) or (out.dtype.kind not in "iuf" and out.size):
        raise TypeError("not numbers")
    return out.astype(np.float64, copy=False)


def _boxes(values: list) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)  # ValueError when ragged
    if out.shape != (len(values), 4):
        raise ValueError("not boxes")
    return out


def _finite(x: np.ndarray) -> bool:
    return bool(np.isfinite(x).all())


def _nonneg_wh(x: np.ndarray) -> bool:
    return _finite(x) and bool((x[:, 2:] >= 0).all())


def _binary(x: np.ndarray) -> bool:
    return bool(((x == 0) | (x == 1)).all())


def _always(_: Any) -> bool:
    return True


def _to(xp: Any, device: Any, x: np.ndarray) -> Any:
    if xp is None:
        return x
    return xp.asarray(x) if device is None else xp.asarray(x, device=device)


def _section(path: str, data: Any, key: str) -> list:
    if not isinstance(data, dict):
        raise _fail(path, "top level", f"must be an object with {key!r}, got {type(data).__name__}")
    if key not in data:
        raise _fail(path, key, "is missing")
    if not isinstance(data[key], list):
        raise _fail(path, key, f"must be a list, got {type(data[key]).__name__}")
    return data[key]


def read_coco_ground_truth(
    path: str | os.PathLike, *, xp: Any = None, device: Any = None
) -> CocoGroundTruth:
    """Read a COCO instances file; arrays of ``xp`` (NumPy when None) on ``device``."""
    name = os.fspath(path)
    data = _load(path)
    images = _section(name, data, "images")
    anns = _section(name, data, "annotations")
    cats = _section(name, data, "categories")
    img_ids = _column(name, "images", images, "id", _ints, _always, "an integer")
    cat_ids = _column(name, "categories", cats, "id", _ints, _always, "an integer")
    boxes = _column(name, "annotations", anns, "bbox", _boxes, _nonneg_wh,
                    "4 finite numbers [x, y, w, h] with w, h >= 0")
    labels = _column(name, "annotations", anns, "category_id", _ints, _always, "an integer")
    image_ids = _column(name, "annotations", anns, "image_id", _ints, _always, "an integer")
    ann_ids = _column(name, "annotations", anns, "id", _ints, _always, "an integer")
    iscrowd = _column(name, "annotations", anns, "iscrowd", _ints, _binary, "0 or 1",
                      default=0)
    area = _column(name, "annotations", anns, "area", _floats, _finite, "a finite number")
    image_set = set(img_ids.tolist())
    bad = [i for i, v in enumerate(image_ids.tolist()) if v not in image_set]
    if bad:
        raise _fail(name, f"annotations[{bad[0]}].image_id",
                    f"{int(image_ids[bad[0]])} is not among the images")
    names = {int(c["id"]): str(c.get("name", c["id"])) for c in cats}
    files = {int(i["id"]): str(i.get("file_name", "")) for i in images}
    return CocoGroundTruth(
        path=name, boxes=_to(xp, device, boxes), labels=_to(xp, device, labels),
        image_ids=_to(xp, device, image_ids), iscrowd=_to(xp, device, iscrowd != 0),
        area=_to(xp, device, area), annotation_ids=_to(xp, device, ann_ids),
        all_image_ids=_to(xp, device, np.unique(img_ids)),
        category_ids=_to(xp, device, np.unique(cat_ids)),
        category_names=names, image_files=files,
    )


def read_coco_detections(
    path: str | os.PathLike, *, xp: Any = None, device: Any = None
) -> CocoDetections:
    """Read a COCO bbox results file (a list of {image_id, category_id, bbox, score})."""
    name = os.fspath(path)
    data = _load(path)
    if not isinstance(data, list):
        raise _fail(name, "top level", f"must be a list of results, got {type(data).__name__}")
    boxes = _column(name, "results", data, "bbox", _boxes, _nonneg_wh,
                    "4 finite numbers [x, y, w, h] with w, h >= 0")
    scores = _column(name, "results", data, "score", _floats, _finite, "a finite number")
    labels = _column(name, "results", data, "category_id", _ints, _always, "an integer")
    image_ids = _column(name, "results", data, "image_id", _ints, _always, "an integer")
    return CocoDetections(
        path=name, boxes=_to(xp, device, boxes), scores=_to(xp, device, scores),
        labels=_to(xp, device, labels), image_ids=_to(xp, device, image_ids),
    )


def evaluate_coco_files(
    gt_path: str | os.PathLike, dt_path: str | os.PathLike, *, xp: Any = None,
    device: Any = None, **options: Any,
) -> Any:
    """``coco_evaluate`` of a ground-truth file and a results file, as pycocotools'
    ``COCOeval(gt, gt.loadRes(dt), "bbox")`` sees them: every image and category the
    ground truth lists, in ascending id order."""
    from ..impl.detection.coco import coco_evaluate

    if xp is None:
        import array_api_compat.numpy as xp_numpy

        xp = xp_numpy
    gt = read_coco_ground_truth(gt_path)
    dt = read_coco_detections(dt_path)
    known = gt.all_image_ids
    if dt.image_ids.size:  # pycocotools' loadRes refuses results on unknown images
        pos = np.clip(np.searchsorted(known, dt.image_ids), 0, max(known.size - 1, 0))
        bad = np.flatnonzero(known[pos] != dt.image_ids) if known.size else np.arange(1)
        if bad.size:
            raise _fail(dt.path, f"results[{int(bad[0])}].image_id",
                        f"{int(dt.image_ids[bad[0]])} is not an image of {gt.path}")

    def arr(x: np.ndarray) -> Any:
        return _to(xp, device, x)

    return coco_evaluate(
        arr(dt.boxes), arr(dt.scores), arr(dt.labels), arr(dt.image_ids), arr(gt.boxes),
        arr(gt.labels), arr(gt.image_ids), gt_iscrowd=arr(gt.iscrowd), gt_area=arr(gt.area),
        box_format="xywh", image_ids=arr(known), category_ids=arr(gt.category_ids),
        **options,
    )
