"""Input scaling that belongs to a model: learned at ``fit``, saved with it, applied when scoring.

Every scaler is affine, ``x_scaled = (x - offset) / scale``, so one class serves all:

* ``"minmax"``: the training data's GLOBAL min and max (one number each, as in the
  ECG5000 recipe), mapping the training data into [0, 1] (use a sigmoid output);
* ``"standard"``: per-feature mean and standard deviation (use a linear output);
* ``"robust"``: per-feature median and interquartile range / 1.349 (the IQR of a Gaussian is
  1.349 std, so Gaussian features come out near unit variance). A few extreme training rows
  (an unlabelled anomaly, a sensor glitch) move neither, where they would stretch a min-max or
  a standard deviation and squeeze every normal value together. A feature whose IQR is 0
  (mostly constant) falls back to its standard deviation, then to 1;
* ``"auto"``: ``robust``, except that when every feature has a similar spread (the 90th
  percentile of the features' IQRs within ``SHARED_UNITS_RATIO`` times the 10th) or a similar
  range (the same of the ranges of the features that are not constant), the features are
  taken as one signal in shared units (a sampled curve, a spectrum, an image's pixels): each is
  still centred on its median, but all share one scale, the median IQR / 1.349 of the features
  whose IQR is not 0. A signal keeps the relative size of its parts, so the quiet stretches of a
  heartbeat are not blown up to the size of its peaks, nor a pixel that a stroke crosses now
  and then to the size of the strokes (on ECG5000 and on images as rows that scores better:
  ``docs/guide/anomaly.md``); a table of mixed units (centimetres beside counts) still gets one
  scale per column;
* ``"none"``: identity.

The kind is saved as JSON (:meth:`Scaler.get_state`), the offset and scale beside the weights
(:meth:`Scaler.tensors`): one number per pixel of a large image is no reading for
``config.json`` (3 MB for 3x128x128 images). ``aekit.load`` restores both, and reads the
numbers from the JSON of runs saved before they moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from ..errors import DataError, RunFailure, UsageError
from .validation import FLOAT32_MAX

SCALERS = ("minmax", "standard", "robust", "auto", "none")
# "auto": features whose IQRs (10th to 90th percentile) differ less share one scale
SHARED_UNITS_RATIO = 10.0
IQR_TO_STD = 1.349  # the interquartile range of a Gaussian in standard deviations: 2 * Phi^-1(3/4)
# values (16M, 128 MB as float64) the robust scaler keeps to take quantiles of a row store
ROBUST_SAMPLE_VALUES = 1 << 24
TENSOR_PREFIX = "scaler."  # the saved tensors' names: scaler.offset, scaler.scale


def _span(lo: float, hi: float) -> float:
    """The min-max scaler's scale, ``hi - lo`` (1 for constant data); a span float32 cannot hold
    (a column from -3e38 to 3e38) is refused: its scale was inf and every scaled value NaN, which
    the autoencoder's SVD then failed on (probe 65 numerics #3)."""
    if not hi > lo:
        return 1.0
    if hi - lo > FLOAT32_MAX:
        raise DataError(
            f"the data span {lo:.3g} to {hi:.3g}, a range of {hi - lo:.3g} that float32 cannot hold "
            f"(up to 3.4e38): min-max scaling cannot represent it; use the standard or robust "
            f"scaler, or rescale the data"
        )
    return float(hi - lo)


class Scaler:
    """Affine input scaling ``(x - offset) / scale``, fitted on the training data.

    Parameters
    ----------
    kind : {"minmax", "standard", "robust", "auto", "none"}

    Attributes
    ----------
    offset_, scale_ : ndarray (float32)
        Scalars (``minmax``, ``none``) or one value per feature (the others), shaped to
        broadcast against one sample.

    Examples
    --------
    >>> import numpy as np
    >>> s = Scaler("minmax").fit(np.array([[0.0, 2.0], [4.0, 1.0]], np.float32))
    >>> s.transform(np.array([[2.0, 4.0]], np.float32))
    array([[0.5, 1. ]], dtype=float32)
    """

    def __init__(self, kind: str = "minmax"):
        if kind not in SCALERS:
            raise UsageError(f"scaler must be one of {', '.join(SCALERS)}, got {kind!r}")
        self.kind = kind

    def fit(self, X: np.ndarray) -> Scaler:
        """Learn the offset and scale from ``X`` of shape (n, ...)."""
        X = np.asarray(X, dtype=np.float64)
        if self.kind == "minmax":
            lo, hi = X.min(), X.max()
            offset, scale = np.array(lo), np.array(_span(lo, hi))
        elif self.kind == "standard":
            offset, scale = X.mean(axis=0), X.std(axis=0)  # (n, ...) -> (...)
            scale = np.where(scale > 0, scale, 1.0)  # constant features: centre only
        elif self.kind in ("robust", "auto"):
            offset, scale = _median_iqr(X, shared=self.kind == "auto")
        else:
            offset, scale = np.array(0.0), np.array(1.0)
        self.offset_ = offset.astype(np.float32)
        self.scale_ = scale.astype(np.float32)
        return self

    def fit_chunks(self, chunks: Iterable[np.ndarray]) -> Scaler:
        """Learn from data too large for memory, one chunk (n_i, ...) at a time; same result as :meth:`fit`.

        Means and variances are merged chunk by chunk (Chan et al., 1979), which stays accurate
        where a running sum of squares would cancel. Medians and quartiles (``robust``) do not
        merge: the rows are kept, exactly while they hold fewer than ``ROBUST_SAMPLE_VALUES``
        values, then every other kept row is dropped and only every 2nd (4th, ...) new row kept,
        an evenly spread sample of bounded size.
        """
        lo = hi = mean = m2 = None
        n = 0
        # robust: the sample of rows, every ``stride``-th row of the data. Copies, never views: a
        # view of every 8th row keeps its whole chunk alive, and the memory grew with the file
        # (a 534 MB .npy: 820 MB held by a sample meant to hold 128 MB)
        kept: list[np.ndarray] = []
        stride, n_kept = 1, 0
        for chunk in chunks:
            c = np.asarray(chunk, dtype=np.float64)
            if len(c) == 0:
                continue
            if self.kind in ("robust", "auto"):
                # rows n, n+stride, ... of the whole data (n is before this chunk)
                part = c[(-n) % stride :: stride].copy()
                kept.append(part)
                n_kept += len(part)
                while n_kept * max(1, c[0].size) > ROBUST_SAMPLE_VALUES and n_kept > 1:
                    sample = np.concatenate(kept)[::2].copy()  # halved, evenly spread, alone
                    kept, n_kept, stride = [sample], len(sample), stride * 2
            lo = c.min() if lo is None else min(lo, c.min())
            hi = c.max() if hi is None else max(hi, c.max())
            c_mean, c_m2, k = c.mean(axis=0), ((c - c.mean(axis=0)) ** 2).sum(axis=0), len(c)
            if mean is None:
                mean, m2 = c_mean, c_m2
            else:
                delta = c_mean - mean
                mean = mean + delta * k / (n + k)
                m2 = m2 + c_m2 + delta**2 * n * k / (n + k)
            n += k
        if n == 0:
            raise UsageError("cannot fit a scaler on no samples; expected at least one")
        if self.kind == "minmax":
            offset, scale = np.array(lo), np.array(_span(lo, hi))
        elif self.kind == "standard":
            offset, scale = mean, np.sqrt(m2 / n)
            scale = np.where(scale > 0, scale, 1.0)
        elif self.kind in ("robust", "auto"):
            offset, scale = _median_iqr(np.concatenate(kept), shared=self.kind == "auto")
        else:
            offset, scale = np.array(0.0), np.array(1.0)
        self.offset_ = offset.astype(np.float32)
        self.scale_ = scale.astype(np.float32)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Scale ``X`` (NumPy, float32)."""
        return ((np.asarray(X, np.float32) - self.offset_) / self.scale_).astype(np.float32)

    def inverse_transform(self, X: np.ndarray) -> np.ndarray:
        """Back to the input's units, in float64 and then held within float32's range: a
        reconstruction a little past the largest value of a column near 3.4e38 was -inf (probe 65
        numerics #2), where its nearest float32 is that largest float32."""
        x = np.asarray(X, np.float32).astype(np.float64) * self.scale_ + self.offset_
        return np.clip(x, -FLOAT32_MAX, FLOAT32_MAX).astype(np.float32)

    def torch_transform(self, x: torch.Tensor) -> torch.Tensor:
        """Scale a batch on its own device (used when scoring in batches)."""
        offset = torch.as_tensor(self.offset_, device=x.device, dtype=x.dtype)
        scale = torch.as_tensor(self.scale_, device=x.device, dtype=x.dtype)
        return (x - offset) / scale

    def torch_inverse(self, x: torch.Tensor) -> torch.Tensor:
        """Back to the input's units, on the batch's device, held within float32's range (as
        :meth:`inverse_transform`; an inf becomes +-3.4e38, a NaN stays NaN)."""
        wide = torch.float32 if x.device.type == "mps" else torch.float64  # MPS has no float64
        offset = torch.as_tensor(self.offset_, device=x.device, dtype=wide)
        scale = torch.as_tensor(self.scale_, device=x.device, dtype=wide)
        y = x.to(wide) * scale + offset
        return y.clamp(-FLOAT32_MAX, FLOAT32_MAX).to(x.dtype)

    def get_state(self, arrays: bool = True) -> dict[str, Any]:
        """JSON-ready state: the kind, and the offset and scale unless ``arrays=False`` (then they
        are saved as :meth:`tensors`)."""
        # A scaler read from a model that kept its arrays in the JSON keeps them there: ``aekit
        # calibrate`` writes a new config.json beside that model's weights, which hold none.
        if not arrays and not getattr(self, "_arrays_in_json", False):
            return {"kind": self.kind}
        return {"kind": self.kind, "offset": self.offset_.tolist(), "scale": self.scale_.tolist()}

    def tensors(self, prefix: str = TENSOR_PREFIX) -> dict[str, torch.Tensor]:
        """The offset and scale as tensors to save beside the weights."""
        return {
            f"{prefix}offset": torch.as_tensor(self.offset_),
            f"{prefix}scale": torch.as_tensor(self.scale_),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Scaler:
        """Rebuild a scaler from :meth:`get_state`; without the arrays it awaits :meth:`load_tensors`."""
        scaler = cls(state["kind"])
        if "offset" in state:  # saved with its arrays in the JSON (models saved before they moved)
            scaler.offset_ = np.asarray(state["offset"], dtype=np.float32)
            scaler.scale_ = np.asarray(state["scale"], dtype=np.float32)
            scaler._arrays_in_json = True
        return scaler

    def load_tensors(
        self, tensors: dict[str, torch.Tensor], where: str, prefix: str = TENSOR_PREFIX
    ) -> Scaler:
        """The offset and scale from saved :meth:`tensors`, when the JSON state did not hold them."""
        if f"{prefix}offset" in tensors and f"{prefix}scale" in tensors:
            self.offset_ = tensors[f"{prefix}offset"].cpu().numpy().astype(np.float32)
            self.scale_ = tensors[f"{prefix}scale"].cpu().numpy().astype(np.float32)
        if getattr(self, "offset_", None) is None or getattr(self, "scale_", None) is None:
            raise RunFailure(
                f"{where}: the input scaler's offset and scale are missing (no {prefix}offset and "
                f"{prefix}scale tensors, none in config.json); the run is damaged: train it again"
            )
        scale = np.asarray(self.scale_)
        # a fitted scale is finite and > 0 (a constant column's is 1): a zero gave NaN codes and
        # infinite scores, every row flagged, with exit code 0
        if scale.size == 0 or not np.all(np.isfinite(scale) & (scale > 0)):
            raise RunFailure(
                f"{where}: the input scaler's scale holds no value or one that is not a positive "
                f"finite number; the run is damaged: train it again"
            )
        return self

    def __repr__(self) -> str:
        return f"Scaler({self.kind!r})"


def _median_iqr(X: np.ndarray, shared: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature median and IQR / 1.349 of ``X`` (n, ...); a zero IQR falls back to the std, then 1.

    ``shared``: one scale for all features (their median) when their spreads are alike.
    """
    q1, median, q3 = np.percentile(X, [25.0, 50.0, 75.0], axis=0)  # (n, ...) -> 3 x (...)
    scale = (q3 - q1) / IQR_TO_STD
    std = X.std(axis=0)
    scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))  # mostly-constant features
    if shared and _shared_units(X, scale):
        alike = scale[q3 - q1 > 0]  # the features that vary in most rows set the one scale
        scale = np.full_like(scale, np.median(alike if alike.size else scale))
    return median, scale


def _shared_units(X: np.ndarray, scale: np.ndarray) -> bool:
    """Whether the features of ``X`` (n, ...) look like one signal in shared units.

    Their spreads are alike (the 90th percentile of the features' scales within
    ``SHARED_UNITS_RATIO`` times the 10th), or their ranges are: the pixels of an image, whose
    border is mostly blank and whose strokes reach the full range wherever they fall, have IQRs
    from 0 to the whole range, but every pixel that varies at all varies over the same range.
    Constant features say nothing either way.
    """
    low, high = np.percentile(scale, [10.0, 90.0], method="nearest")
    if high < SHARED_UNITS_RATIO * low:
        return True
    ranges = np.ptp(X, axis=0).ravel()  # (n, ...) -> (features,)
    ranges = ranges[ranges > 0]
    if ranges.size < 2:
        return False
    low, high = np.percentile(ranges, [10.0, 90.0], method="nearest")
    return bool(high < SHARED_UNITS_RATIO * low)
