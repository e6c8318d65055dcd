"""Spec of COCO detection evaluation (bbox), pycocotools ``COCOeval`` semantics."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..impl.detection import coco as _impl
from ._base import Capabilities, Case, InvalidCase, Native, OpSpec, Property, Unsupported

# ------------------------------------------------------------------------ parameters

# pycocotools' Params.setDetParams() defaults, written out here so that the oracle does
# not inherit a wrong default from the implementation it judges.
IOU_THRESHOLDS = tuple(np.linspace(0.5, 0.95, 10).tolist())  # iouThrs
RECALL_THRESHOLDS = tuple(np.linspace(0.0, 1.0, 101).tolist())  # recThrs
MAX_DETECTIONS = (1, 10, 100)  # maxDets
AREA_RANGES = {  # areaRngLbl -> areaRng, both ends inclusive
    "all": (0.0, 1e5**2),
    "small": (0.0, 32.0**2),
    "medium": (32.0**2, 96.0**2),
    "large": (96.0**2, 1e5**2),
}
# COCOeval.summarize()'s 12 _summarizeDets() calls: (ap, iouThr or None for all,
# areaRng label, maxDets as an index into maxDets, or the value 100 where the call
# leaves _summarize's default maxDets=100).
SUMMARY_STATS = (
    (True, None, "all", 100),  # AP @[.5:.95]
    (True, 0.5, "all", 2),  # AP @.5
    (True, 0.75, "all", 2),  # AP @.75
    (True, None, "small", 2),
    (True, None, "medium", 2),
    (True, None, "large", 2),
    (False, None, "all", 0),  # AR @ maxDets[0]
    (False, None, "all", 1),
    (False, None, "all", 2),
    (False, None, "small", 2),
    (False, None, "medium", 2),
    (False, None, "large", 2),
)

# --------------------------------------------------------------------------- oracle


def _xyxy_and_area(boxes: np.ndarray, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if fmt == "xyxy":
        return b, (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    if fmt == "xywh":
        return np.stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], 1), \
            b[:, 2] * b[:, 3]
    hw, hh = b[:, 2] / 2, b[:, 3] / 2
    return np.stack([b[:, 0] - hw, b[:, 1] - hh, b[:, 0] + hw, b[:, 1] + hh], 1), \
        b[:, 2] * b[:, 3]


def _iou(d: np.ndarray, d_area: float, g: np.ndarray, g_area: float, crowd: bool) -> float:
    w = min(d[2], g[2]) - max(d[0], g[0])
    h = min(d[3], g[3]) - max(d[1], g[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = d_area if crowd else d_area + g_area - inter
    return inter / union if union > 0 else 0.0


def _match_one(ious, ignored, crowd, order_d, thr):
    """Greedy matching of one image (and category) at one IoU threshold and area range.

    Detections in score order each take, among the ground truth still free (crowd
    regions stay free), the best IoU >= thr, looking at non-ignored ground truth first
    and at ignored ground truth only when no non-ignored one qualifies; equal IoUs go
    to the later ground truth. Returns (matched, matched-to-ignored) per detection.
    """
    taken = [False] * len(ignored)
    matched, to_ignored = [], []
    for d in order_d:
        choice = -1
        for want_ignored in (False, True):
            best = min(thr, 1 - 1e-10)
            for g in range(len(ignored)):
                if ignored[g] != want_ignored or (taken[g] and not crowd[g]):
                    continue
                if ious[d][g] >= best:
                    best, choice = ious[d][g], g
            if choice >= 0:
                break
        if choice >= 0:
            taken[choice] = True
        matched.append(choice >= 0)
        to_ignored.append(choice >= 0 and ignored[choice])
    return matched, to_ignored


def coco_evaluate_oracle(
    det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels, gt_image_ids,
    gt_iscrowd=None, gt_area=None, box_format="xyxy", image_ids=None, category_ids=None,
    iou_thresholds=None, recall_thresholds=None, max_detections=MAX_DETECTIONS,
    area_ranges=None, use_categories=True,
):
    """COCOeval's evaluate / accumulate / summarize, one image and category at a time."""
    d_box, d_area = _xyxy_and_area(det_boxes, box_format)
    g_box, g_wh = _xyxy_and_area(gt_boxes, box_format)
    scores = np.asarray(det_scores, dtype=np.float64)
    d_lab, d_img = np.asarray(det_labels).tolist(), np.asarray(det_image_ids).tolist()
    g_lab, g_img = np.asarray(gt_labels).tolist(), np.asarray(gt_image_ids).tolist()
    n_gt = len(g_lab)
    crowd = [False] * n_gt if gt_iscrowd is None else [bool(c) for c in np.asarray(gt_iscrowd)]
    g_range_area = g_wh if gt_area is None else np.asarray(gt_area, dtype=np.float64)
    images = sorted(set(g_img) | set(d_img)) if image_ids is None else sorted(
        set(np.asarray(image_ids).tolist()))
    cats = sorted(set(g_lab) | set(d_lab)) if category_ids is None else sorted(
        set(np.asarray(category_ids).tolist()))
    thrs = IOU_THRESHOLDS if iou_thresholds is None else tuple(iou_thresholds)
    recs = RECALL_THRESHOLDS if recall_thresholds is None else tuple(recall_thresholds)
    max_dets = sorted(max_detections)
    ranges = list((area_ranges or AREA_RANGES).items())
    n_t, n_r, n_a, n_m = len(thrs), len(recs), len(ranges), len(max_dets)
    cat_groups = [[c] for c in cats] if use_categories else [cats]

    # evaluate: per (category group, image), detections sorted and matched
    per = {}  # (group, image) -> (scores, matched[a][t], det_ignored[a][t], n_kept_gt[a])
    for kg, group in enumerate(cat_groups):
        for img in images:
            # pooled categories are taken category by category, in input order within
            dets = [i for c in group for i in range(len(d_lab)) if d_img[i] == img
                    and d_lab[i] == c]
            gts = [j for c in group for j in range(n_gt) if g_img[j] == img and g_lab[j] == c]
            if not dets and not gts:
                continue
            dets = sorted(dets, key=lambda i: -scores[i])[: max_dets[-1]]  # stable
            ious = [[_iou(d_box[i], d_area[i], g_box[j], g_wh[j], crowd[j]) for j in gts]
                    for i in dets]
            rows = []
            for _, (lo, hi) in ranges:
                ign = [crowd[j] or not lo <= g_range_area[j] <= hi for j in gts]
                out = [not lo <= d_area[i] <= hi for i in dets]
                m_t, i_t = [], []
                for t in thrs:
                    m, to_ign = _match_one(ious, ign, [crowd[j] for j in gts],
                                           range(len(dets)), t)
                    m_t.append(m)
                    i_t.append([to_ign[x] or (not m[x] and out[x]) for x in range(len(dets))])
                rows.append((m_t, i_t, sum(not g for g in ign)))
            per[kg, img] = ([scores[i] for i in dets], rows)

    # accumulate
    n_k = len(cat_groups)
    precision = -np.ones((n_t, n_r, n_k, n_a, n_m))
    recall = -np.ones((n_t, n_k, n_a, n_m))
    score_table = -np.ones((n_t, n_r, n_k, n_a, n_m))
    for k in range(n_k):
        evaluated = [per[k, img] for img in images if (k, img) in per]
        for a in range(n_a):
            npig = sum(rows[a][2] for _, rows in evaluated)
            if npig == 0:
                continue
            for mi, m in enumerate(max_dets):
                entries = [(s[x], rows[a][0], rows[a][1], x) for s, rows in evaluated
                           for x in range(min(m, len(s)))]
                order = sorted(range(len(entries)), key=lambda e: -entries[e][0])
                for t in range(n_t):
                    tp = fp = 0
                    rc, pr, ss = [], [], []
                    for e in order:
                        s, m_t, i_t, x = entries[e]
                        if i_t[t][x]:
                            pass
                        elif m_t[t][x]:
                            tp += 1
                        else:
                            fp += 1
                        rc.append(tp / npig)
                        pr.append(tp / (fp + tp + np.spacing(1)))
                        ss.append(s)
                    recall[t, k, a, mi] = rc[-1] if rc else 0.0
                    for i in range(len(pr) - 2, -1, -1):  # monotone envelope
                        pr[i] = max(pr[i], pr[i + 1])
                    for r, thr in enumerate(recs):
                        first = next((i for i, v in enumerate(rc) if v >= thr), None)
                        precision[t, r, k, a, mi] = 0.0 if first is None else pr[first]
                        score_table[t, r, k, a, mi] = 0.0 if first is None else ss[first]

    names = [n for n, _ in ranges]
    stats = []
    for ap, iou, area, which in SUMMARY_STATS:
        md = 100 if which == 100 else (max_dets[which] if which < n_m else None)
        t_idx = list(range(n_t)) if iou is None else [i for i, t in enumerate(thrs) if t == iou]
        if area not in names or md not in max_dets or not t_idx:
            stats.append(-1.0)
            continue
        a, m = names.index(area), max_dets.index(md)
        s = precision[t_idx][..., a, m] if ap else recall[t_idx][..., a, m]
        stats.append(float(np.mean(s[s > -1])) if (s > -1).any() else -1.0)
    a_all = names.index("all") if "all" in names else 0
    per_class = []
    for k in range(n_k):
        s = precision[:, :, k, a_all, -1]
        per_class.append(float(np.mean(s[s > -1])) if (s > -1).any() else -1.0)
    cat_out = np.asarray(cats if use_categories else [-1], dtype=np.int64)
    return (np.asarray(stats), precision, recall, score_table, np.asarray(per_class), cat_out)


# ------------------------------------------------------------------------ generation


def coco_arrays(
    rng: np.random.Generator, *, n_images: int = 4, n_categories: int = 3, max_gt: int = 6,
    max_det: int = 20, crowd: float = 0.1, tie_decimals: int | None = 1,
) -> dict[str, np.ndarray]:
    """Random COCO-like ground truth and detections (xywh) with the hard parts of COCOeval.

    Image ids are sparse, some images have no ground truth or no detections, one
    category has detections only, some ground truth is crowd, detections jitter the
    ground truth (matches at many IoUs) or fall anywhere, scores are rounded (ties),
    and some boxes sit exactly on the 32**2 / 96**2 area boundaries.
    """
    image_ids = np.sort(rng.choice(1000, size=n_images, replace=False)) + 1
    cats = np.sort(rng.choice(90, size=n_categories + 1, replace=False)) + 1
    gt_cats, det_only = cats[:-1], cats[-1]
    g_rows, d_rows = [], []
    for i, img in enumerate(image_ids):
        n_g = 0 if i % 4 == 3 else int(rng.integers(0, max_gt + 1))
        for _ in range(n_g):
            kind = rng.integers(0, 4)
            if kind == 0:  # exactly on an area boundary
                side = float(rng.choice([32.0, 96.0]))
                w = h = side
            else:
                w, h = rng.uniform(2, 150, size=2)
            x, y = rng.uniform(0, 400, size=2)
            g_rows.append((img, rng.choice(gt_cats), x, y, w, h, rng.random() < crowd))
        n_d = 0 if i % 4 == 2 else int(rng.integers(0, max_det + 1))
        own = [r for r in g_rows if r[0] == img]
        for _ in range(n_d):
            if own and rng.random() < 0.7:
                _, c, x, y, w, h, _ = own[rng.integers(len(own))]
                jit = rng.normal(scale=0.15, size=4) * np.array([w, h, w, h])
                x, y = x + jit[0], y + jit[1]
                w, h = max(w + jit[2], 0.5), max(h + jit[3], 0.5)
                if rng.random() < 0.1:
                    c = det_only
            else:
                c = rng.choice(cats)
                w, h = rng.uniform(2, 150, size=2)
                x, y = rng.uniform(0, 400, size=2)
            score = rng.random()
            if tie_decimals is not None:
                score = round(score, tie_decimals)
            d_rows.append((img, c, x, y, w, h, score))
    g = np.array([r[2:6] for r in g_rows], dtype=np.float64).reshape(-1, 4)
    d = np.array([r[2:6] for r in d_rows], dtype=np.float64).reshape(-1, 4)
    gt_area = g[:, 2] * g[:, 3]
    scale = rng.uniform(0.5, 1.0, size=len(g_rows))  # segmentation area < box area
    gt_area = np.where(rng.random(len(g_rows)) < 0.5, gt_area, gt_area * scale)
    return {
        "det_boxes": d,
        "det_scores": np.array([r[6] for r in d_rows], dtype=np.float64),
        "det_labels": np.array([r[1] for r in d_rows], dtype=np.int64),
        "det_image_ids": np.array([r[0] for r in d_rows], dtype=np.int64),
        "gt_boxes": g,
        "gt_labels": np.array([r[1] for r in g_rows], dtype=np.int64),
        "gt_image_ids": np.array([r[0] for r in g_rows], dtype=np.int64),
        "gt_iscrowd": np.array([r[6] for r in g_rows], dtype=bool),
        "gt_area": gt_area,
        "image_ids": image_ids.astype(np.int64),
        "category_ids": cats.astype(np.int64),
    }


def to_xyxy(boxes: np.ndarray) -> np.ndarray:
    return np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)


_ARGS = ("det_boxes", "det_scores", "det_labels", "det_image_ids", "gt_boxes", "gt_labels",
         "gt_image_ids")


def _case(data: dict[str, np.ndarray], name: str = "", **kwargs: Any) -> Case:
    return Case(tuple(data[k] for k in _ARGS), kwargs, name=name)


@st.composite
def _coco_cases(draw: Any) -> Case:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = coco_arrays(
        rng, n_images=draw(st.integers(1, 5)), n_categories=draw(st.integers(1, 3)),
        max_gt=draw(st.sampled_from([0, 3, 6])), max_det=draw(st.sampled_from([0, 5, 25])),
        crowd=draw(st.sampled_from([0.0, 0.3])),
        tie_decimals=draw(st.sampled_from([None, 1])),
    )
    fmt = draw(st.sampled_from(["xywh", "xyxy", "cxcywh"]))
    if fmt == "xyxy":
        data["det_boxes"], data["gt_boxes"] = to_xyxy(data["det_boxes"]), to_xyxy(
            data["gt_boxes"])
    elif fmt == "cxcywh":
        for key in ("det_boxes", "gt_boxes"):
            b = data[key]
            data[key] = np.concatenate([b[:, :2] + b[:, 2:] / 2, b[:, 2:]], axis=1)
    kwargs: dict[str, Any] = {"box_format": fmt}
    if draw(st.booleans()):
        kwargs["gt_iscrowd"] = data["gt_iscrowd"]
    if draw(st.booleans()):
        kwargs["gt_area"] = data["gt_area"]
    if draw(st.booleans()):
        kwargs["image_ids"] = data["image_ids"][: max(1, len(data["image_ids"]) - 1)]
    kwargs["use_categories"] = draw(st.booleans())
    kwargs["max_detections"] = draw(st.sampled_from([(1, 10, 100), (1, 3, 8), (5, 2, 12)]))
    if draw(st.booleans()):
        kwargs["iou_thresholds"] = draw(st.sampled_from([(0.5,), (0.1, 0.5, 0.75), (0.0, 1.0)]))
    if draw(st.booleans()):
        kwargs["recall_thresholds"] = draw(st.sampled_from([(0.0, 0.5, 1.0), (0.2, 0.2, 0.9)]))
    if draw(st.booleans()):
        kwargs["area_ranges"] = draw(st.sampled_from([
            {"all": (0.0, 1e10)}, {"tiny": (0.0, 100.0), "all": (0.0, 1e10)},
        ]))
    return _case(data, **kwargs)


# ----------------------------------------------------------------------- named cases


def _small(seed: int, **kw: Any) -> dict[str, np.ndarray]:
    return coco_arrays(np.random.default_rng(seed), **kw)


def _edge_cases() -> tuple[Case, ...]:
    base = _small(1)
    no_det = dict(base)
    for key in ("det_boxes", "det_scores", "det_labels", "det_image_ids"):
        no_det[key] = base[key][:0]
    crowded = _small(2, n_images=2, n_categories=1, max_gt=4, max_det=0)
    rng = np.random.default_rng(3)
    n = 130  # more than 100 detections in one image and category
    g0 = crowded["gt_boxes"][:1] if len(crowded["gt_boxes"]) else np.array([[10.0, 10, 40, 40]])
    crowded["det_boxes"] = g0 + rng.normal(scale=2.0, size=(n, 4)) * [1, 1, 0, 0]
    crowded["det_scores"] = np.round(rng.random(n), 1)
    crowded["det_labels"] = np.full(n, crowded["category_ids"][0])
    crowded["det_image_ids"] = np.full(n, crowded["image_ids"][0])
    if not len(crowded["gt_boxes"]):
        crowded["gt_boxes"], crowded["gt_labels"] = g0, crowded["category_ids"][:1]
        crowded["gt_image_ids"] = crowded["image_ids"][:1]
    # boxes exactly on the area boundaries and an IoU of exactly 0.5
    bnd = {
        "det_boxes": np.array([[0.0, 0, 32, 32], [100, 100, 96, 96], [0, 0, 32, 64],
                               [300, 300, 10, 10]]),
        "det_scores": np.array([0.9, 0.9, 0.5, 0.4]),
        "det_labels": np.array([1, 1, 1, 2]),
        "det_image_ids": np.array([5, 5, 5, 6]),
        "gt_boxes": np.array([[0.0, 0, 32, 32], [100, 100, 96, 96], [400, 400, 32, 32]]),
        "gt_labels": np.array([1, 1, 1]),
        "gt_image_ids": np.array([5, 5, 5]),
    }
    only_crowd = dict(bnd, gt_iscrowd=np.array([True, False, True]))
    return (
        _case(base, "generated, xywh", box_format="xywh", gt_iscrowd=base["gt_iscrowd"],
              gt_area=base["gt_area"]),
        _case(no_det, "no detections", box_format="xywh", gt_iscrowd=base["gt_iscrowd"]),
        _case(crowded, "130 detections in one image", box_format="xywh"),
        _case(bnd, "area boundaries and IoU 0.5", box_format="xywh"),
        _case(bnd, "crowd regions", box_format="xywh", gt_iscrowd=only_crowd["gt_iscrowd"]),
        _case(bnd, "pooled categories", box_format="xywh", use_categories=False),
    )


_V = {
    "det_boxes": np.array([[0.0, 0, 10, 10]]), "det_scores": np.array([0.5]),
    "det_labels": np.array([1]), "det_image_ids": np.array([1]),
    "gt_boxes": np.array([[0.0, 0, 10, 10]]), "gt_labels": np.array([1]),
    "gt_image_ids": np.array([1]),
}


def _invalid(name: str, raises: type, match: str, needs_values: bool = False,
             kwargs: dict | None = None, **replace: Any) -> InvalidCase:
    return InvalidCase(name, _case({**_V, **replace}, **(kwargs or {})), raises, match,
                       needs_values)


_INVALID = (
    _invalid("boxes not (N, 4)", ValueError, "det_boxes", det_boxes=np.zeros((1, 3))),
    _invalid("scores length", ValueError, "det_scores", det_scores=np.array([0.5, 0.2])),
    _invalid("float labels", TypeError, "det_labels", det_labels=np.array([1.0])),
    _invalid("float image ids", TypeError, "gt_image_ids", gt_image_ids=np.array([1.0])),
    _invalid("inverted box", ValueError, "gt_boxes", True, gt_boxes=np.array([[5.0, 0, 1, 9]])),
    _invalid("NaN score", ValueError, "det_scores", True, det_scores=np.array([np.nan])),
    _invalid("bad format", ValueError, "box_format", kwargs={"box_format": "xy"}),
    _invalid("iou threshold > 1", ValueError, "iou_thresholds",
             kwargs={"iou_thresholds": (0.5, 1.5)}),
    _invalid("unsorted recall thresholds", ValueError, "recall_thresholds",
             kwargs={"recall_thresholds": (0.5, 0.1)}),
    _invalid("max_detections 0", ValueError, "max_detections", kwargs={"max_detections": (0,)}),
    _invalid("inverted area range", ValueError, "area_ranges",
             kwargs={"area_ranges": {"all": (10.0, 1.0)}}),
    _invalid("crowd 2", ValueError, "gt_iscrowd", True,
             kwargs={"gt_iscrowd": np.array([2])}),
    _invalid("crowd length", ValueError, "gt_iscrowd",
             kwargs={"gt_iscrowd": np.array([True, False])}),
)


# ------------------------------------------------------------------------ properties


def _relabel_ids(run, case):
    """Image and category ids enter only through their order: an increasing map of
    both (id -> 3 id + 7) changes nothing but ``category_ids``."""
    args = list(case.args)
    for i in (2, 3, 5, 6):  # labels and image ids
        args[i] = args[i] * 3 + 7
    kwargs = dict(case.kwargs)
    if kwargs.get("image_ids") is not None:
        kwargs["image_ids"] = kwargs["image_ids"] * 3 + 7
    out, out2 = run(case), run(case.with_args(*args, **kwargs))
    pairs = list(zip(out2[:5], out[:5], strict=True))
    if kwargs.get("use_categories", True):
        pairs.append((out2[5], out[5] * 3 + 7))
    return pairs


def _dropping_an_image(run, case):
    """Detections on an image outside ``image_ids`` are left out, as if absent."""
    args = list(case.args)
    images = np.unique(np.concatenate([args[3], args[6]]))
    if images.size < 2 or case.kwargs.get("image_ids") is not None:
        return []
    kept = images[:-1]
    keep_d = np.isin(args[3], kept)
    keep_g = np.isin(args[6], kept)
    sub = [a[keep_d] for a in args[:4]] + [a[keep_g] for a in args[4:]]
    sub_kwargs = {k: (v[keep_g] if k in ("gt_iscrowd", "gt_area") else v)
                  for k, v in case.kwargs.items()}
    cats = np.unique(np.concatenate([args[2], args[5]]))
    full = run(case.with_args(*args, image_ids=kept, category_ids=cats))
    alone = run(case.with_args(*sub, **sub_kwargs, category_ids=cats))
    return list(zip(full[:5], alone[:5], strict=True))


# --------------------------------------------------------------------------- natives


def _coco_json(det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, gt_labels,
               gt_image_ids, gt_iscrowd=None, gt_area=None, box_format="xyxy",
               image_ids=None, category_ids=None):
    """COCO ground-truth dataset and result list (xywh) for the flat arrays."""
    def xywh(b):
        b = np.asarray(b, dtype=np.float64)
        if b.ndim != 2 or b.shape[1] != 4:  # nothing pycocotools could be handed
            raise Unsupported(f"boxes of shape {b.shape}: COCO JSON holds 4 numbers a box")
        if box_format == "xyxy":
            return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1)
        if box_format == "cxcywh":
            return np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, 2:]], axis=1)
        return b

    if box_format not in ("xyxy", "xywh", "cxcywh"):
        raise Unsupported(f"box_format={box_format!r}: COCO JSON boxes are xywh")
    g, d = xywh(gt_boxes), xywh(det_boxes)
    # what the arrays cannot say in COCO JSON: one record per box, integer ids
    per_det = [np.asarray(a) for a in (det_scores, det_labels, det_image_ids)]
    per_gt = [np.asarray(a) for a in (gt_labels, gt_image_ids, gt_iscrowd, gt_area)
              if a is not None]
    if any(a.shape != (len(d),) for a in per_det) or any(a.shape != (len(g),) for a in per_gt):
        raise Unsupported("arrays of different lengths: COCO JSON has one record per box")
    ids = (per_det[1], per_det[2], per_gt[0], per_gt[1])
    if any(a.size and a.dtype.kind not in "iu" for a in ids):
        raise Unsupported("labels or image ids that are not integers: COCO ids are")
    g_img, d_img = np.asarray(gt_image_ids).tolist(), np.asarray(det_image_ids).tolist()
    g_lab, d_lab = np.asarray(gt_labels).tolist(), np.asarray(det_labels).tolist()
    images = sorted(set(g_img) | set(d_img)) if image_ids is None else sorted(
        set(np.asarray(image_ids).tolist()) | set(g_img) | set(d_img))
    cats = sorted(set(g_lab) | set(d_lab)) if category_ids is None else np.asarray(
        category_ids).tolist()
    crowd = np.zeros(len(g), bool) if gt_iscrowd is None else np.asarray(gt_iscrowd)
    area = g[:, 2] * g[:, 3] if gt_area is None else np.asarray(gt_area, dtype=np.float64)
    dataset = {
        "images": [{"id": int(i)} for i in images],
        "categories": [{"id": int(c), "name": str(c)} for c in cats],
        "annotations": [
            {"id": j + 1, "image_id": int(g_img[j]), "category_id": int(g_lab[j]),
             "bbox": [float(v) for v in g[j]], "area": float(area[j]),
             "iscrowd": int(crowd[j])}
            for j in range(len(g))
        ],
    }
    results = [
        {"image_id": int(d_img[i]), "category_id": int(d_lab[i]),
         "bbox": [float(v) for v in d[i]], "score": float(np.asarray(det_scores)[i])}
        for i in range(len(d))
    ]
    return dataset, results


def run_cocoeval(module: str, *args: Any, image_ids=None, category_ids=None,
                 iou_thresholds=None, recall_thresholds=None, max_detections=(1, 10, 100),
                 area_ranges=None, use_categories=True, **kwargs: Any):
    """pycocotools (``module="pycocotools"``) or faster_coco_eval on the flat arrays:
    (stats, precision, recall, scores)."""
    import contextlib
    import io

    dataset, results = _coco_json(*args, **{**kwargs, "image_ids": image_ids,
                                            "category_ids": category_ids})
    if not results:
        raise Unsupported("pycocotools cannot load an empty result list")
    if module == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    else:
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = dataset
        gt.createIndex()
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "bbox")
        if image_ids is not None:
            ev.params.imgIds = sorted(np.asarray(image_ids).tolist())
        if category_ids is not None:
            ev.params.catIds = sorted(np.asarray(category_ids).tolist())
        if iou_thresholds is not None:
            ev.params.iouThrs = np.asarray(iou_thresholds, dtype=np.float64)
        if recall_thresholds is not None:
            ev.params.recThrs = np.asarray(recall_thresholds, dtype=np.float64)
        ev.params.maxDets = list(max_detections)
        if area_ranges is not None:
            ev.params.areaRng = [list(v) for v in area_ranges.values()]
            ev.params.areaRngLbl = list(area_ranges)
        ev.params.useCats = int(use_categories)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return (np.asarray(ev.stats), ev.eval["precision"], ev.eval["recall"],
            ev.eval["scores"])


def _as_result(precision, stats, recall, scores, args, kwargs):
    """The spec's result fields from COCOeval's arrays: per-class AP as pycocotools'
    summarize() computes AP (mean of the defined precisions; area "all", last maxDets)."""
    category_ids = kwargs.get("category_ids")
    names = list(kwargs.get("area_ranges") or AREA_RANGES)
    a_all = names.index("all") if "all" in names else 0
    if not kwargs.get("use_categories", True):
        cats = np.array([-1], np.int64)
    elif category_ids is not None:
        cats = np.unique(np.asarray(category_ids)).astype(np.int64)
    else:  # every label of the ground truth and the detections (flat arrays' labels)
        cats = np.union1d(np.asarray(args[2]), np.asarray(args[5])).astype(np.int64)
    per_class = []
    for k in range(precision.shape[2]):
        p = precision[:, :, k, a_all, -1]
        p = p[p > -1]
        per_class.append(p.mean() if p.size else -1.0)
    return _impl.CocoEvaluation(
        np.asarray(stats), precision, recall, scores, np.asarray(per_class, np.float64),
        cats, (), (), (), (),
    )


def _cocoeval(module: str):
    def load():
        __import__(module)

        def run(*args: Any, **kwargs: Any):
            stats, precision, recall, scores = run_cocoeval(module, *args, **kwargs)
            return _as_result(precision, stats, recall, scores, args, kwargs)

        return run

    return load


# ----------------------------------------------------------------------------- spec

COCO_EVALUATE = OpSpec(
    name="coco_evaluate",
    family="detection",
    impl=_impl.coco_evaluate,
    oracle=coco_evaluate_oracle,
    cases=_coco_cases,
    signature=(
        "coco_evaluate(det_boxes, det_scores, det_labels, det_image_ids, gt_boxes, "
        "gt_labels, gt_image_ids, *, gt_iscrowd=None, gt_area=None, box_format='xyxy', "
        "image_ids=None, category_ids=None, iou_thresholds=None, recall_thresholds=None, "
        "max_detections=(1, 10, 100), area_ranges=None, use_categories=True)"
    ),
    doc=(
        "pycocotools COCOeval(iouType='bbox') on flat arrays. Per image and category "
        "(per image when use_categories=False, categories pooled in ascending order), "
        "detections are sorted by score with a stable sort (ties keep input order) and the "
        "first max(max_detections) kept. IoU = inter / (area_d + area_g - inter), with "
        "inter from continuous xyxy coordinates (x2 = x + w) and areas w*h as given; for "
        "crowd ground truth IoU = inter / area_d. Ground truth is ignored when crowd or when "
        "its area (gt_area, else w*h) is outside [low, high] (both ends inclusive). For each "
        "IoU threshold t and area range, each detection in order takes among the ground "
        "truth not yet taken (crowd stays free) the one with the highest IoU >= min(t, "
        "1 - 1e-10), preferring non-ignored ground truth (ignored only when no non-ignored "
        "one qualifies), the later one on equal IoU. A detection matched to ignored ground "
        "truth, or unmatched with its area (w*h) outside the range, is ignored. Accumulation "
        "per category, area range and maxDets m: the first m detections of every image, "
        "sorted by score with a stable sort over (image ascending, rank); tp and fp "
        "cumulative counts, recall = tp / n_gt (non-ignored ground truth), precision = tp / "
        "(tp + fp + 2.22e-16), made non-increasing from the right; at each recall threshold "
        "r the precision (and score) at the first detection with recall >= r, 0 when none. "
        "Cells of a category without non-ignored ground truth are -1. stats: the 12 numbers "
        "of COCOeval.summarize() (mean of the cells > -1, -1 if none); per_class_ap: mean "
        "over T and R at area 'all' and the largest maxDets. Differences: pycocotools "
        "crashes on an empty result list (here stats are 0 where ground truth exists, -1 "
        "elsewhere) and treats a match to a ground truth whose annotation id is 0 as "
        "unmatched; image_ids are taken sorted and unique, as pycocotools does."
    ),
    edge_cases=_edge_cases(),
    invalid_cases=_INVALID,
    properties=(
        Property("increasing id maps change nothing", _relabel_ids),
        Property("rows outside image_ids are left out", _dropping_an_image),
    ),
    natives=(
        Native("pycocotools", "pycocotools.cocoeval.COCOeval", _cocoeval("pycocotools"),
               "COCO JSON built from the arrays (xywh, annotation ids from 1); returns "
               "stats, precision, recall, scores"),
        Native("faster_coco_eval", "faster_coco_eval.COCOeval_faster",
               _cocoeval("faster_coco_eval"),
               "the same COCO JSON; C++ matching; precision differs from pycocotools by "
               "at most 2.2e-16 (its tp / (tp + fp + eps) is evaluated in another order)"),
    ),
    capabilities=Capabilities(jit=False, differentiable=False, data_dependent_shape=True,
                              lazy=False),
    outputs=lambda r: (r.stats, r.precision, r.recall, r.scores, r.per_class_ap,
                       r.category_ids),
)

SPECS = (COCO_EVALUATE,)
