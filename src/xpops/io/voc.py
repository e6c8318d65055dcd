"""PASCAL VOC files to the flat arrays of :func:`xpops.voc_evaluate`.

- Annotations: a directory of VOC XML files, one per image (``<object>`` elements with
  ``<name>``, ``<difficult>`` and ``<bndbox>`` ``xmin ymin xmax ymax``). A missing
  ``<difficult>`` is 0, as in the devkit's reader.
- Detections: a directory of text files named like the images (``<image>.txt``), one
  detection per line: ``class_index score x1 y1 x2 y2`` (absolute pixels),
  ``class_index`` indexing the class names. An image without a detection file has no
  detections; a detection file for an unknown image is an error, as in the devkit.
- Class names: a names file, one per line (blank lines skipped), or the 20 VOC classes.

Image ids are the positions of the images in sorted file-name order; labels are the
positions of the class names. Malformed files raise ValueError naming the file, the
object or line, and the field.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["VOC_CLASSES", "VOCData", "read_names", "load_voc_annotations",
           "load_voc_detections", "load_voc"]

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)
_BOX_FIELDS = ("xmin", "ymin", "xmax", "ymax")


@dataclass(frozen=True)
class VOCData:
    """Detections and ground truth as flat arrays, with the names their ids stand for.

    ``arrays()`` gives the seven positional arguments of :func:`xpops.voc_evaluate` and
    ``gt_difficult`` its keyword; ``image_names[i]`` is image id ``i`` (the file stem),
    ``class_names[k]`` label ``k``.
    """

    det_boxes: Any
    det_scores: Any
    det_labels: Any
    det_image_ids: Any
    gt_boxes: Any
    gt_labels: Any
    gt_image_ids: Any
    gt_difficult: Any
    image_names: tuple[str, ...]
    class_names: tuple[str, ...]

    def arrays(self) -> tuple[Any, ...]:
        return (self.det_boxes, self.det_scores, self.det_labels, self.det_image_ids,
                self.gt_boxes, self.gt_labels, self.gt_image_ids)


def read_names(path: str | Path) -> tuple[str, ...]:
    """Class names, one per line; blank lines skipped, duplicates rejected."""
    path = Path(path)
    names = tuple(line.strip() for line in _read(path).splitlines() if line.strip())
    if not names:
        raise ValueError(f"{path}: no class names")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{path}: class name {name!r} appears twice")
        seen.add(name)
    return names


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from exc


def _files(directory: str | Path, suffix: str) -> list[Path]:
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: not a directory")
    return sorted(p for p in directory.iterdir() if p.suffix == suffix and p.is_file())


def _number(text: str | None, where: str, field: str) -> float:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{where}: {field} is not a finite number: {text!r}")
    return value


def _parse_annotation(
    path: Path, class_index: dict[str, int]
) -> list[tuple[list[float], int, bool]]:
    try:
        root = ET.fromstring(_read(path))
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not valid XML ({exc})") from exc
    objects = []
    for i, obj in enumerate(root.findall("object")):
        where = f"{path}: object {i}"
        name = (obj.findtext("name") or "").strip()
        if not name:
            raise ValueError(f"{where}: missing <name>")
        if name not in class_index:
            raise ValueError(f"{where}: <name> {name!r} is not one of the class names")
        difficult_text = (obj.findtext("difficult") or "0").strip()
        if difficult_text not in ("0", "1"):
            raise ValueError(f"{where}: <difficult> must be 0 or 1, got {difficult_text!r}")
        box = obj.find("bndbox")
        if box is None:
            raise ValueError(f"{where}: missing <bndbox>")
        coords = []
        for field in _BOX_FIELDS:
            text = box.findtext(field)
            if text is None:
                raise ValueError(f"{where}: <bndbox> has no <{field}>")
            coords.append(_number(text.strip(), where, f"<{field}>"))
        if coords[2] < coords[0] or coords[3] < coords[1]:
            raise ValueError(f"{where}: <bndbox> is inverted: {coords}")
        objects.append((coords, class_index[name], difficult_text == "1"))
    return objects


def load_voc_annotations(
    directory: str | Path, class_names: Sequence[str] = VOC_CLASSES
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(gt_boxes (G, 4) float64, gt_labels, gt_image_ids, gt_difficult, image_names)``
    from every ``*.xml`` in ``directory`` (sorted by name; image id = position)."""
    files = _files(directory, ".xml")
    if not files:
        raise ValueError(f"{directory}: no *.xml annotation files")
    class_index = {name: k for k, name in enumerate(class_names)}
    boxes, labels, images, difficult = [], [], [], []
    for image, path in enumerate(files):
        for coords, label, hard in _parse_annotation(path, class_index):
            boxes.append(coords)
            labels.append(label)
            images.append(image)
            difficult.append(hard)
    return (np.array(boxes, dtype=np.float64).reshape(-1, 4),
            np.array(labels, dtype=np.int64), np.array(images, dtype=np.int64),
            np.array(difficult, dtype=bool), tuple(p.stem for p in files))


def load_voc_detections(
    directory: str | Path, image_names: Sequence[str], num_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(det_boxes (D, 4) float64, det_scores, det_labels, det_image_ids)`` from every
    ``*.txt`` in ``directory``; a file's stem must be one of ``image_names``."""
    image_index = {name: i for i, name in enumerate(image_names)}
    boxes, scores, labels, images = [], [], [], []
    for path in _files(directory, ".txt"):
        if path.stem not in image_index:
            raise ValueError(f"{path}: no annotation for image {path.stem!r}")
        for n, line in enumerate(_read(path).splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{path}, line {n}"
            if len(fields) != 6:
                raise ValueError(
                    f"{where}: expected 6 fields (class_index score x1 y1 x2 y2), "
                    f"got {len(fields)}"
                )
            try:
                label = int(fields[0])
            except ValueError:
                raise ValueError(
                    f"{where}: class_index is not an integer: {fields[0]!r}") from None
            if not 0 <= label < num_classes:
                raise ValueError(
                    f"{where}: class_index {label} is outside [0, {num_classes})")
            score = _number(fields[1], where, "score")
            coords = [_number(v, where, f) for v, f in zip(
                fields[2:], ("x1", "y1", "x2", "y2"), strict=True)]
            if coords[2] < coords[0] or coords[3] < coords[1]:
                raise ValueError(f"{where}: box x1 y1 x2 y2 is inverted: {coords}")
            boxes.append(coords)
            scores.append(score)
            labels.append(label)
            images.append(image_index[path.stem])
    return (np.array(boxes, dtype=np.float64).reshape(-1, 4),
            np.array(scores, dtype=np.float64), np.array(labels, dtype=np.int64),
            np.array(images, dtype=np.int64))


def load_voc(
    annotations_dir: str | Path,
    detections_dir: str | Path,
    *,
    names: str | Path | Sequence[str] | None = None,
    xp: Any = None,
) -> VOCData:
    """Annotations and detections as :class:`VOCData`.

    ``names``: a names file, a sequence of names, or None (the 20 VOC classes).
    ``xp``: the array namespace of the returned arrays (NumPy when None).

    Examples
    --------
    >>> import xpops
    >>> from xpops.io import load_voc
    >>> data = load_voc("annotations", "detections")  # doctest: +SKIP
    >>> xpops.voc_evaluate(*data.arrays(), gt_difficult=data.gt_difficult)  # doctest: +SKIP
    """
    if names is None:
        class_names: tuple[str, ...] = VOC_CLASSES
    elif isinstance(names, (str, Path)):
        class_names = read_names(names)
    else:
        class_names = tuple(names)
    gt_boxes, gt_labels, gt_images, difficult, image_names = load_voc_annotations(
        annotations_dir, class_names)
    det = load_voc_detections(detections_dir, image_names, len(class_names))
    arrays = (*det, gt_boxes, gt_labels, gt_images, difficult)
    if xp is not None:
        arrays = tuple(xp.asarray(a) for a in arrays)
    return VOCData(*arrays, image_names=image_names, class_names=class_names)
