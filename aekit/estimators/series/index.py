"""Exact nearest neighbours among many fixed references, visiting a fraction of them.

A window's nearest training window is the minimum over every reference, and comparing each window
with each reference (one matrix product per chunk, as :class:`~.neighbors.WindowNeighbors` does for
a few windows) costs the number of references per window: 20,000 references of 52 values held
scoring near 17,000 windows a second on 2 cores, whatever the product's tiling or precision (bf16
reached 54,000).

So the references are grouped by k-means, and each group keeps its centre and its radius (its
furthest member). By the triangle inequality no member of a group lies nearer to a window than the
window's distance to the centre less the radius. Each window takes a candidate from the group of its
nearest centre, then visits only the groups whose bound is within the candidate's distance. The
answer is the nearest of every reference: the bound skips only groups that cannot hold a nearer one
(with a margin for float32's rounding), and the groups visited are compared exactly (two references
within float32's rounding of each other may come out either way, as from one product in another
order: 1 window in 200,000 of a noisy sine). A window of a noisy sine still visits about a tenth of
the references (the noise keeps the neighbouring phases within the bound), of the ECG-beat series
about a twentieth: 11x and 8x faster than comparing every reference
(``benchmarks/bench_series_speed.py``).
"""

from __future__ import annotations

import math

import torch

ITERATIONS = 10  # k-means (Lloyd) rounds: the grouping need not be optimal, only tight
# groups per square root of the references: fewer, larger groups cost fewer small products (a noisy
# sine scored 204,000 windows a second at 0.5, 172,000 at 1, 147,000 at 1.4), more, smaller ones
# skip more (the ECG-beat series: 33,000, 43,000, 44,000)
GROUPS = 1.0
ROUNDING = 1e-5  # relative error allowed for float32's |q|^2 + |c|^2 - 2 q.c (a generous margin)


def _nearest_centre(x: torch.Tensor, centres: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """(N,) index of each row's nearest centre."""
    squares = centres.pow(2).sum(dim=1)  # (M,)
    out = torch.empty(len(x), dtype=torch.int64, device=x.device)
    for i in range(0, len(x), chunk):
        out[i : i + chunk] = torch.addmm(squares, x[i : i + chunk], centres.T, alpha=-2).argmin(1)
    return out


def kmeans(x: torch.Tensor, groups: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """((M, F) centres, (N,) each row's group): Lloyd's rounds from a seeded sample of the rows."""
    g = torch.Generator().manual_seed(seed)
    centres = x[torch.randperm(len(x), generator=g)[:groups].to(x.device)].clone()
    for _ in range(ITERATIONS):
        group = _nearest_centre(x, centres)
        sums = torch.zeros_like(centres).index_add_(0, group, x)
        counts = torch.bincount(group, minlength=len(centres))
        filled = counts > 0  # an emptied group keeps its centre (it has no members to visit)
        centres[filled] = sums[filled] / counts[filled, None].to(x.dtype)
    return centres, _nearest_centre(x, centres)


class ClusterIndex:
    """The nearest of ``references`` (N, F) to each query, exactly, by groups and their radii.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> refs, queries = torch.randn(3000, 8, generator=g), torch.randn(50, 8, generator=g)
    >>> index = ClusterIndex(refs)
    >>> brute = torch.cdist(queries, refs).argmin(dim=1)
    >>> nearest, found = index.nearest(queries)
    >>> bool((nearest == brute).all() and found.all())
    True
    """

    def __init__(self, references: torch.Tensor, seed: int = 0):
        n = len(references)
        centres, group = kmeans(references, max(1, min(n, round(GROUPS * math.sqrt(n)))), seed)
        kept, group = torch.unique(group, return_inverse=True)  # groups k-means left empty go
        self.centres = centres[kept]  # (M, F)
        self.centre_squares = self.centres.pow(2).sum(dim=1)  # (M,)
        order = torch.argsort(group, stable=True)  # members of a group side by side
        self.ids = order  # (N,) the reference each sorted row is
        self.rows = references[order].contiguous()  # (N, F)
        self.squares = self.rows.pow(2).sum(dim=1)  # (N,)
        counts = torch.bincount(group, minlength=len(kept))
        # group m is rows[offsets[m]:offsets[m + 1]]
        self.offsets = [0, *torch.cumsum(counts, 0).tolist()]
        # the furthest member of each group, computed by differences (no cancellation), rounded up
        group = group[order]
        far = (self.rows - self.centres[group]).pow(2).sum(dim=1).sqrt()
        radius = torch.zeros(len(kept), dtype=far.dtype, device=far.device)
        self.radius = radius.scatter_reduce_(0, group, far, reduce="amax") * (1 + ROUNDING)

    def nearest(
        self, queries: torch.Tensor, exclude: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """((B,) each query's nearest reference, (B,) whether it has one): ``exclude``, (lo, hi)
        per query, skips references ``lo <= i < hi`` for it (a window's own neighbours in time)."""
        qq = queries.pow(2).sum(dim=1)  # (B,)
        # (M, B) squared distances to the centres, rounded down by float32's error in this form
        low = torch.addmm(
            (1 - ROUNDING) * (qq + self.centre_squares[:, None]), self.centres, queries.T, alpha=-2
        )
        best = torch.full((len(queries),), math.inf, device=queries.device, dtype=queries.dtype)
        at = torch.zeros(len(queries), dtype=torch.int64, device=queries.device)
        # a candidate from the group of the nearest centre: its members, for each query
        first = low.min(dim=0).indices  # (B,)
        order = torch.argsort(first, stable=True)
        self._visit(queries, (first[order], order), best, at, exclude)
        # the candidate's distance, by differences, rounded up: no member of a group whose centre is
        # further than it plus the group's radius can be nearer (the triangle inequality); a query
        # whose candidates were all excluded visits every group
        bound = (queries - self.rows[at]).pow(2).sum(dim=1).sqrt() * (1 + ROUNDING) + ROUNDING
        bound = torch.where(torch.isinf(best), math.inf, bound)
        more = low <= (bound + self.radius[:, None]).pow(2)  # (M, B)
        more[first, torch.arange(len(queries), device=queries.device)] = False  # visited
        self._visit(queries, torch.nonzero(more, as_tuple=True), best, at, exclude)
        return self.ids[at], torch.isfinite(best)

    def _visit(self, queries, pairs, best, at, exclude) -> None:
        """Compare query ``row[j]`` with the members of group ``group[j]`` for every pair j of
        ``pairs`` = (group, row), sorted by group; keep in ``best`` (|r|^2 - 2 q.r, the squared
        distance less |q|^2) and ``at`` the nearest so far."""
        group, row = pairs
        counts = torch.bincount(group, minlength=len(self.centres)).tolist()
        values, where = [], []
        for m, rows in enumerate(torch.split(row, counts)):
            if not len(rows):
                continue
            lo, hi = self.offsets[m], self.offsets[m + 1]
            d = torch.addmm(self.squares[lo:hi], queries[rows], self.rows[lo:hi].T, alpha=-2)
            if exclude is not None:  # (n, S): the members within each query's excluded run
                ids = self.ids[lo:hi]
                d.masked_fill_(
                    (ids >= exclude[0][rows, None]) & (ids < exclude[1][rows, None]), math.inf
                )
            value, i = d.min(dim=1)  # (n,) the nearest member of m for each of its queries
            values.append(value)
            where.append(i + lo)
        if not values:
            return
        value, where = torch.cat(values), torch.cat(where)
        best.scatter_reduce_(0, row, value, reduce="amin")  # each query's nearest over the groups
        won = torch.isfinite(value) & (value == best[row])  # the pairs that hold it (ties: any)
        at[row[won]] = where[won]
