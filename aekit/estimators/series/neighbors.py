"""The distance of a window to its nearest training window, per channel (the matrix profile's idea).

Each window is z-normalised channel by channel (its mean removed, divided by its standard
deviation), so that it is compared by shape, not level, as the matrix profile's "discord" search
does (Yeh et al., ICDM 2016). A window's distance in a channel is the Euclidean distance to the
nearest z-normalised training window of that channel, divided by ``sqrt(window)``; exact, by
``torch.cdist`` in chunks, over every training window or, past ``max_windows``, an evenly strided
sample of them. A window flat within float noise z-normalises to zeros: far from any window
that moves, so a sensor that flat-lines is far from a stretch where it did not.

:class:`WindowNeighbors` also gives the training windows' own distances, each to its nearest
training window at least one window away (the matrix profile's exclusion zone: a window and its
shifted self are not neighbours), which calibrate each channel (``scale_``).
"""

from __future__ import annotations

import numpy as np
import torch

from ...data.windows import sliding_windows

FLAT = 1e-4  # a window whose std (in scaled units) is below this is flat: it z-normalises to 0
SCALE_SAMPLE = 2000  # training windows whose nearest neighbours set each channel's scale
QUERY_CHUNK = 1024  # windows compared at a time: bounds cdist's (chunk, references) matrix


def znormalise(windows: torch.Tensor) -> torch.Tensor:
    """(B, C, W) windows z-normalised along W; flat ones become zeros.

    Examples
    --------
    >>> znormalise(torch.tensor([[[1.0, 3.0], [2.0, 2.0]]])).tolist()
    [[[-1.0, 1.0], [0.0, 0.0]]]
    """
    centred = windows - windows.mean(dim=-1, keepdim=True)
    std = centred.pow(2).mean(dim=-1, keepdim=True).sqrt()
    return torch.where(std > FLAT, centred / std.clamp_min(FLAT), torch.zeros_like(centred))


def features(windows: torch.Tensor, level: float) -> torch.Tensor:
    """(B, C, W) windows as compared: z-normalised, and with ``level`` > 0 their mean and standard
    deviation appended, each times ``sqrt(level * W)`` (so that ``level`` weighs a difference of
    one unit of level against the mean squared difference of shape per step).

    Examples
    --------
    >>> features(torch.tensor([[[1.0, 3.0]]]), 0.5).tolist()
    [[[-1.0, 1.0, 2.0, 1.0]]]
    """
    z = znormalise(windows)
    if level <= 0:
        return z
    mean = windows.mean(dim=-1, keepdim=True)
    std = (windows - mean).pow(2).mean(dim=-1, keepdim=True).sqrt()
    weight = float(np.sqrt(level * windows.shape[-1]))
    return torch.cat([z, weight * mean, weight * std], dim=-1)


class WindowNeighbors:
    """Nearest z-normalised training window of each window, channel by channel.

    Parameters
    ----------
    max_windows : int
        Training windows kept as references at most (an evenly strided sample beyond it).
    level : float
        The weight of a window's level (its mean and standard deviation, in the scaled units)
        beside its shape (:func:`features`); 0: shape alone, as the matrix profile.

    Examples
    --------
    >>> x = np.sin(np.arange(400) / 5.0)[:, None].astype(np.float32)
    >>> nn = WindowNeighbors(1000).fit(x, 32)
    >>> d = nn.distances(sliding_windows(x, 32)[:5])
    >>> d.shape, bool(d.max() < 0.05)
    ((5, 1), True)
    """

    def __init__(self, max_windows: int = 10_000, level: float = 0.0):
        self.max_windows = max_windows
        self.level = level

    def fit(self, x: np.ndarray, window: int) -> WindowNeighbors:
        """Keep the z-normalised windows of ``x`` (steps, channels); ``scale_`` per channel."""
        views = sliding_windows(x, window)
        step = max(1, -(-len(views) // self.max_windows))  # ceil: at most max_windows kept
        self.starts_ = np.arange(0, len(views), step)
        refs = torch.from_numpy(np.ascontiguousarray(views[self.starts_]))
        self.references_ = features(refs, self.level)
        self.window_ = window
        # the mean is estimated on an even sample of the references: a fraction of the full join
        pick = np.unique(np.linspace(0, len(self.starts_) - 1, SCALE_SAMPLE).astype(np.int64))
        own = self._nearest(self.references_[pick], exclude=self.starts_[pick])
        # a stretch shorter than two windows has no neighbour a window away: no scale to learn
        finite = np.where(np.isfinite(own), own, np.nan)
        mean = np.nanmean(finite, axis=0) if np.isfinite(own).any() else np.ones(own.shape[1])
        self.scale_ = np.maximum(np.nan_to_num(mean, nan=1.0), 1e-3)
        return self

    def to(self, device: torch.device | str) -> WindowNeighbors:
        """Keep the references on ``device`` (distances are computed there)."""
        self.references_ = self.references_.to(device)
        return self

    @classmethod
    def from_tensors(
        cls, references: torch.Tensor, starts: np.ndarray, scale: np.ndarray, window: int, level
    ):
        """A fitted instance from what :meth:`tensors` saved."""
        nn = cls(len(starts), level)
        nn.references_, nn.starts_ = references.float(), np.asarray(starts, np.int64)
        nn.window_, nn.scale_ = int(window), np.asarray(scale, np.float64)
        return nn

    def tensors(self) -> dict[str, torch.Tensor]:
        return {
            "neighbors_references": self.references_.contiguous(),
            "neighbors_starts": torch.as_tensor(self.starts_, dtype=torch.int64),
            "neighbors_scale": torch.as_tensor(self.scale_, dtype=torch.float64),
        }

    def _nearest(self, queries: torch.Tensor, exclude: np.ndarray | None = None) -> np.ndarray:
        """(B, C) nearest distance of z-normalised queries (B, C, W), per channel; ``exclude``: the
        queries' own starts, so that references within a window of them are skipped."""
        refs = self.references_.transpose(0, 1)  # (C, N, W)
        queries = queries.to(refs.device)
        squares = refs.pow(2).sum(dim=2)[:, None, :]  # (C, 1, N)
        out = torch.empty(queries.shape[:2], dtype=torch.float64)
        for i in range(0, len(queries), QUERY_CHUNK):
            q = queries[i : i + QUERY_CHUNK].transpose(0, 1)  # (C, b, W)
            # |r|^2 - 2 q.r: the squared distance less |q|^2, which is the same for every
            # reference, so its smallest is the nearest reference (one matrix product)
            d = torch.baddbmm(squares, q, refs.transpose(1, 2), alpha=-2)  # (C, b, N)
            if exclude is not None:
                gap = np.abs(exclude[i : i + QUERY_CHUNK, None] - self.starts_[None, :])
                near = torch.from_numpy(gap < self.window_).to(d.device)
                d = d.masked_fill(near[None], float("inf"))
            best = d.min(dim=2)
            # the nearest one's distance taken directly: exact, and the same whatever the chunks
            nearest = refs.gather(1, best.indices[..., None].expand(-1, -1, refs.shape[2]))
            exact = (q - nearest).pow(2).sum(dim=2).sqrt()  # (C, b)
            exact = torch.where(torch.isinf(best.values), best.values, exact)  # none far enough
            out[i : i + QUERY_CHUNK] = exact.T.double().cpu()
        return (out / np.sqrt(self.window_)).numpy()

    def distances(self, windows: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
        """(B, C): each window's distance to its nearest training window, channel by channel.

        ``starts``: where the windows start in the training stretch itself, so that references
        within a window of each are skipped (the training stretch's own scores)."""
        q = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32))
        return self._nearest(features(q, self.level), exclude=starts)

    def train_distances(self) -> np.ndarray:
        """(N, C): each reference's distance to its nearest reference a window or more away (inf
        where none is: a training stretch shorter than two windows)."""
        return self._nearest(self.references_, exclude=self.starts_)
