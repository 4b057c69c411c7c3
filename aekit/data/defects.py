"""Labelled image defects: scratches, spots, missing patches, brightness or colour changes and
foreign texture pasted in, each with its pixel mask; for benchmarks and tests of image detectors.

NumPy only. Images are float arrays in [0, 1] shaped (C, H, W) (C = 1 grayscale or 3 RGB); a mask
is a bool (H, W) array, True where the defect changed the image. :func:`defect_dataset` cuts good
training crops from one part of a texture and good and defective test crops from another part, so
a detector never sees the test region. :func:`grating` is a synthetic texture (a noisy sinusoidal
grating) for tests that must not depend on image files.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> tex = grating(128, rng)
>>> image, mask = add_defect(tex[:, :64, :64], "spot", rng)
>>> image.shape, mask.shape, bool(mask.any())
((1, 64, 64), (64, 64), True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DEFECTS = ("scratch", "spot", "missing", "brightness", "foreign")


def grating(size: int, rng: np.random.Generator, period: float = 9.0) -> np.ndarray:
    """A (1, size, size) noisy sinusoidal grating in [0, 1]: a texture with structure and noise."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    angle = rng.uniform(0, np.pi)
    phase = 2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period
    image = 0.5 + 0.25 * np.sin(phase) + 0.08 * rng.standard_normal((size, size))
    return np.clip(image, 0, 1)[None].astype(np.float32)


def blob(shape: tuple[int, int], rng: np.random.Generator, radius: float) -> np.ndarray:
    """A bool mask of one irregular blob: an ellipse of about ``radius`` with a wavy edge."""
    h, w = shape
    cy, cx = rng.uniform(radius, h - radius), rng.uniform(radius, w - radius)
    yy, xx = np.mgrid[0:h, 0:w]
    dy, dx = yy - cy, xx - cx
    theta = np.arctan2(dy, dx)
    # the edge's radius varies with the angle: three random harmonics, up to about 30% of it
    edge = radius * rng.uniform(0.6, 1.0, 2)
    wobble = sum(
        rng.uniform(0, 0.1) * np.sin(k * theta + rng.uniform(0, 2 * np.pi)) for k in (2, 3, 5)
    )
    tilt = rng.uniform(0, np.pi)
    u = dx * np.cos(tilt) + dy * np.sin(tilt)
    v = -dx * np.sin(tilt) + dy * np.cos(tilt)
    return (u / edge[0]) ** 2 + (v / edge[1]) ** 2 <= (1 + wobble) ** 2


def _line(shape: tuple[int, int], rng: np.random.Generator, width: float) -> np.ndarray:
    """A bool mask of a slightly curved line across part of the image, ``width`` pixels wide."""
    h, w = shape
    start = rng.uniform(0.15, 0.85, 2) * (h, w)
    angle = rng.uniform(0, 2 * np.pi)
    length = rng.uniform(0.3, 0.6) * min(h, w)
    t = np.linspace(0, 1, int(4 * length))[:, None]
    bend = rng.uniform(-0.15, 0.15) * length * np.sin(np.pi * t)  # a bow, not a ruler line
    direction = np.array([np.sin(angle), np.cos(angle)])
    normal = np.array([direction[1], -direction[0]])
    points = start + t * length * direction + bend * normal  # (n, 2) as (y, x)
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.zeros(shape, bool)
    for y, x in points:
        mask |= (yy - y) ** 2 + (xx - x) ** 2 <= (width / 2) ** 2
    return mask


def _blend(image: np.ndarray, mask: np.ndarray, fill: np.ndarray, alpha: float) -> np.ndarray:
    """``image`` with ``fill`` blended in by ``alpha`` where ``mask`` is True."""
    out = image.copy()
    out[:, mask] = (1 - alpha) * image[:, mask] + alpha * np.broadcast_to(fill, image.shape)[
        :, mask
    ]
    return out


def _scratch(image, rng, donor):
    mask = _line(image.shape[1:], rng, rng.uniform(1.5, 3.5))
    tone = 0.05 if rng.random() < 0.5 else 0.95  # a dark or a bright scratch
    return _blend(image, mask, np.full_like(image, tone), rng.uniform(0.6, 0.9)), mask


def _spot(image, rng, donor):
    mask = blob(image.shape[1:], rng, rng.uniform(3, 7) * image.shape[-1] / 64)
    tone = np.float32(rng.uniform(0.0, 0.2) if rng.random() < 0.5 else rng.uniform(0.8, 1.0))
    return _blend(image, mask, np.full_like(image, tone), rng.uniform(0.6, 0.9)), mask


def _missing(image, rng, donor):
    h, w = image.shape[1:]
    ph, pw = (rng.uniform(0.12, 0.3, 2) * (h, w)).astype(int) + 2
    y, x = rng.integers(0, h - ph), rng.integers(0, w - pw)
    mask = np.zeros((h, w), bool)
    mask[y : y + ph, x : x + pw] = True
    # the hole shows a flat surface: the image's mean, a little darker or lighter
    fill = image.mean(axis=(1, 2), keepdims=True) + rng.uniform(-0.1, 0.1)
    return _blend(image, mask, np.clip(fill, 0, 1).astype(image.dtype), 1.0), mask


def _brightness(image, rng, donor):
    mask = blob(image.shape[1:], rng, rng.uniform(7, 14) * image.shape[-1] / 64)
    # a gain per channel: on RGB images a colour change, on grayscale a brightness change
    gain = rng.uniform(1.3, 1.6, (image.shape[0], 1, 1))
    if rng.random() < 0.5:
        gain = 1 / gain
    shift = rng.uniform(-0.1, 0.1)
    return _blend(image, mask, np.clip(image * gain + shift, 0, 1), 1.0), mask


def _foreign(image, rng, donor):
    if donor is None:
        raise ValueError("the 'foreign' defect needs a donor texture of the image's shape")
    mask = blob(image.shape[1:], rng, rng.uniform(7, 14) * image.shape[-1] / 64)
    return _blend(image, mask, donor.astype(image.dtype), 1.0), mask


_MAKERS: dict[str, Callable] = {
    "scratch": _scratch,
    "spot": _spot,
    "missing": _missing,
    "brightness": _brightness,
    "foreign": _foreign,
}


def add_defect(
    image: np.ndarray, kind: str, rng: np.random.Generator, donor: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (C, H, W) in [0, 1] with one defect of ``kind`` (one of :data:`DEFECTS`), and its
    (H, W) bool mask. ``donor``: an image of the same shape, pasted in by ``"foreign"``."""
    if kind not in _MAKERS:
        raise ValueError(f"unknown defect {kind!r}; expected one of {', '.join(DEFECTS)}")
    out, mask = _MAKERS[kind](np.asarray(image, np.float32), rng, donor)
    return np.clip(out, 0, 1).astype(np.float32), mask


def random_crops(
    texture: np.ndarray, n: int, size: int, rng: np.random.Generator, rows: tuple[int, int]
) -> np.ndarray:
    """``n`` random (C, size, size) crops of ``texture`` (C, H, W) whose rows lie in ``rows``."""
    lo, hi = rows
    ys = rng.integers(lo, hi - size + 1, n)
    xs = rng.integers(0, texture.shape[-1] - size + 1, n)
    return np.stack([texture[:, y : y + size, x : x + size] for y, x in zip(ys, xs)])


@dataclass
class DefectSet:
    """Training crops (all good) and labelled test crops with their masks."""

    train: np.ndarray  # (n_train, C, size, size), good crops from the training rows
    test: np.ndarray  # (n_test, C, size, size), good then defective crops from the test rows
    masks: np.ndarray  # (n_test, size, size) bool; all False for the good crops
    labels: np.ndarray  # (n_test,) int: 1 for a defective crop
    kinds: list[str]  # (n_test,) the defect of each test crop, "good" for none


def defect_dataset(
    texture: np.ndarray,
    rng: np.random.Generator,
    *,
    size: int = 64,
    n_train: int = 256,
    n_good: int = 50,
    n_per_defect: int = 10,
    donor: np.ndarray | None = None,
    defects: Sequence[str] = DEFECTS,
) -> DefectSet:
    """Good training crops from the top half of ``texture`` (C, H, W), good and defective test
    crops from the bottom half; ``donor`` (another texture, (C, H', W')) feeds ``"foreign"``."""
    if texture.ndim == 2:
        texture = texture[None]
    half = texture.shape[1] // 2
    train = random_crops(texture, n_train, size, rng, (0, half))
    n_test = n_good + n_per_defect * len(defects)
    good = random_crops(texture, n_test, size, rng, (half, texture.shape[1]))
    test, masks = list(good[:n_good]), [np.zeros((size, size), bool)] * n_good
    kinds = ["good"] * n_good
    for i, kind in enumerate(k for k in defects for _ in range(n_per_defect)):
        other = None
        if kind == "foreign":
            source = texture if donor is None else (donor[None] if donor.ndim == 2 else donor)
            other = random_crops(source, 1, size, rng, (0, source.shape[1]))[0]
            if donor is None:  # no other texture: the same one turned a quarter (a misfit part)
                other = np.rot90(other, 1, axes=(1, 2)).copy()
        image, mask = add_defect(good[n_good + i], kind, rng, other)
        test.append(image)
        masks.append(mask)
        kinds.append(kind)
    labels = np.array([k != "good" for k in kinds], dtype=int)
    return DefectSet(train.astype(np.float32), np.stack(test), np.stack(masks), labels, kinds)
