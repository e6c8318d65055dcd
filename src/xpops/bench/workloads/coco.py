"""Workload of COCO detection evaluation: end to end, from JSON files to the summary.

A generated COCO-like data set (5,000 images at full size, 80 categories, about 7
ground-truth boxes and 40 detections per image: about 200k detections, 1% crowd) is
written once to a temporary folder. Each side reads both JSON files, evaluates and
formats the 12-line summary (printing is captured, as every side prints): numpy
xpops against ``faster_coco_eval`` (C++) and ``pycocotools``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from ..peers import Peer, Side
from ._base import Generator, Workload, scale_of, xpops_op

IMAGES = 5000
CATEGORIES = 80
GT_PER_IMAGE = 7
DET_PER_IMAGE = 40


def _n_images(size: tuple[int, int]) -> int:
    return max(4, round(IMAGES * scale_of(size)))


def coco_like(rng: np.random.Generator, n_images: int) -> tuple[dict, list]:
    """A COCO ground-truth dataset and a bbox results list, generated vectorised."""
    cat_ids = np.sort(rng.choice(np.arange(1, 91), size=CATEGORIES, replace=False))
    img_ids = np.arange(1, n_images + 1) * 3
    n_gt = rng.poisson(GT_PER_IMAGE, size=n_images)
    g_img = np.repeat(img_ids, n_gt)
    g = len(g_img)
    # a few categories per image, skewed like COCO's (person is common)
    weights = 1.0 / np.arange(1, CATEGORIES + 1)
    g_cat = cat_ids[rng.choice(CATEGORIES, size=g, p=weights / weights.sum())]
    g_wh = np.exp(rng.uniform(np.log(4), np.log(400), size=(g, 2)))
    g_xy = rng.uniform(0, 640, size=(g, 2))
    g_box = np.round(np.concatenate([g_xy, g_wh], axis=1), 2)
    crowd = rng.random(g) < 0.01
    area = np.round(g_box[:, 2] * g_box[:, 3] * rng.uniform(0.5, 1.0, size=g), 2)
    n_det = rng.poisson(DET_PER_IMAGE, size=n_images)
    d_img = np.repeat(img_ids, n_det)
    d = len(d_img)
    # 60% of detections jitter a ground-truth box of their image, the rest are random
    first = np.concatenate([[0], np.cumsum(n_gt)[:-1]])
    img_index = np.repeat(np.arange(n_images), n_det)
    has = n_gt[img_index] > 0
    pick = first[img_index] + (rng.random(d) * np.maximum(n_gt[img_index], 1)).astype(int)
    pick = np.minimum(pick, max(g - 1, 0))
    near = has & (rng.random(d) < 0.6)
    jitter = rng.normal(scale=0.1, size=(d, 4))
    src = g_box[pick] if g else np.zeros((d, 4))
    near_box = src + jitter * np.concatenate([src[:, 2:], src[:, 2:]], axis=1)
    near_box[:, 2:] = np.maximum(near_box[:, 2:], 1.0)
    rand_box = np.concatenate([rng.uniform(0, 640, size=(d, 2)),
                               np.exp(rng.uniform(np.log(4), np.log(400), size=(d, 2)))], 1)
    d_box = np.round(np.where(near[:, None], near_box, rand_box), 2)
    d_cat = np.where(near, g_cat[pick] if g else 1,
                     cat_ids[rng.integers(0, CATEGORIES, size=d)])
    score = np.round(rng.random(d) * np.where(near, 1.0, 0.6), 3)
    dataset = {
        "images": [{"id": int(i), "file_name": f"{int(i):012d}.jpg"} for i in img_ids],
        "categories": [{"id": int(c), "name": f"class{int(c)}"} for c in cat_ids],
        "annotations": [
            {"id": j + 1, "image_id": int(gi), "category_id": int(gc), "bbox": b,
             "area": float(a), "iscrowd": int(c)}
            for j, (gi, gc, b, a, c) in enumerate(zip(
                g_img.tolist(), g_cat.tolist(), g_box.tolist(), area.tolist(),
                crowd.tolist(), strict=True))
        ],
    }
    results = [
        {"image_id": int(di), "category_id": int(dc), "bbox": b, "score": float(s)}
        for di, dc, b, s in zip(d_img.tolist(), d_cat.tolist(), d_box.tolist(),
                                score.tolist(), strict=True)
    ]
    return dataset, results


def _coco_files(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Paths of the two JSON files (written once per size into a temporary folder), as
    the UTF-8 bytes of ``"GT\nDT"`` (the runner hands every input over as an array)."""
    n = _n_images(size)
    folder = os.path.join(tempfile.gettempdir(), f"xpops-bench-coco-{n}")
    gt, dt = os.path.join(folder, "gt.json"), os.path.join(folder, "dt.json")
    if not (os.path.exists(gt) and os.path.exists(dt)):
        os.makedirs(folder, exist_ok=True)
        dataset, results = coco_like(rng, n)
        for path, obj in ((gt, dataset), (dt, results)):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(obj, f)
            os.replace(tmp, path)
    return np.frombuffer(f"{gt}\n{dt}".encode(), dtype=np.uint8).copy()


INPUTS: dict[str, Generator] = {"coco_files": _coco_files}
DERIVED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {}


def _quiet(fn: Callable[[str, str], str]) -> Callable[[Any], str]:
    def run(paths: Any) -> str:
        gt, dt = bytes(np.asarray(paths)).decode().split("\n")
        with contextlib.redirect_stdout(io.StringIO()) as out:
            print(fn(gt, dt))
        return out.getvalue()

    return run


def _xpops_coco() -> Side:
    xpops_op("coco_evaluate")  # skipped where xpops lacks the op
    from ...io.coco import evaluate_coco_files

    return Side(_quiet(lambda gt, dt: evaluate_coco_files(gt, dt).summary()), ("coco_files",))


def _cocoeval_side(module: str) -> Callable[[], Side]:
    def load() -> Side:
        if module == "pycocotools":
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval
        else:
            from faster_coco_eval import COCO
            from faster_coco_eval import COCOeval_faster as COCOeval

        def run(gt_path: str, dt_path: str) -> str:
            gt = COCO(gt_path)
            ev = COCOeval(gt, gt.loadRes(dt_path), "bbox")
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            return ""

        return Side(_quiet(run), ("coco_files",))

    return load


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        op="coco_evaluate",
        describe=lambda size: (
            f"{_n_images(size)} images, {CATEGORIES} categories, ~{GT_PER_IMAGE} GT and "
            f"~{DET_PER_IMAGE} detections per image, JSON files -> summary"
        ),
        ours=_xpops_coco,
        peers={
            "numpy": (
                Peer("faster_coco_eval COCOeval_faster", 1.0, _cocoeval_side("faster")),
                Peer("pycocotools COCOeval", 0.125, _cocoeval_side("pycocotools")),
            ),
        },
    ),
)
