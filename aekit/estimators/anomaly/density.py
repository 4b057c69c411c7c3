"""The code's local density: the second half of the anomaly detector's default score.

Reconstruction error misses an anomaly that the network reconstructs well: a sample close to the
normal data's manifold, but in a part of it where normal samples are rare (an outline between two
usual shapes, a heartbeat of a usual form at an unusual rate). Its code then lies in a sparse
region among the normal rows' codes. The local outlier factor (LOF; Breunig, Kriegel, Ng and
Sander, "LOF: identifying density-based local outliers", SIGMOD 2000) of a code among the codes of
the normal training rows measures that: about 1 inside a cluster of normal codes (whatever the
cluster's own density), larger the sparser the code's neighbourhood is than its neighbours'.

With ``density`` > 0 the detector's score is the reconstruction score times the code's LOF,
relative to normal rows, to a power:

    score = error * (LOF / m) ** gamma,    gamma = density * IQR(log error) / IQR(log LOF)

with ``m`` the median LOF and the interquartile ranges taken over the held-out normal rows (out of
sample, as new data; with fewer than :data:`MIN_CALIBRATION_ROWS` of them, the reference rows, each
without itself). In logs that is
``log error + density * (log LOF - log m)`` with the LOF term brought to the spread of the error
term, so ``density`` weighs the two on one footing whatever their units, and a sample of typical
density keeps its reconstruction score. It helps where normal data has dense and sparse parts and
costs little elsewhere; a larger weight lets the density drown the error on small tables (the
evidence, a panel of public datasets: ``docs/guide/anomaly.md``, "Defaults"). Below
:data:`MIN_REFERENCE_ROWS` training rows there is no density term (the LOF among a handful of
codes is noise).

The reference is an evenly spread sample of at most :data:`REFERENCE_ROWS` training rows' codes,
saved with the model; distances are computed on the model's device in blocks of bounded size.

The same class serves a second term, ``input_density``: the LOF of the row itself, as scaled for
the network, among the scaled training rows, calibrated against the score with the code density
(so each term's weight is on the spread of the score it joins). It is what a nearest-neighbour
detector knows: on images given as rows, where the input's neighbours carry more than the code's,
it lifted MNIST digit 4 with 6,000 rows from 0.929 to 0.948 (issue 32's panel, 3 seeds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

# training rows' codes kept as the reference (an evenly spread sample): a row's
REFERENCE_ROWS = 2048
# score costs a distance to each, so this bounds scoring time; the panel's sets have at most 2,110 rows
# ... and at most this many values (16 MB): wide conv codes keep fewer rows
REFERENCE_VALUES = 1 << 22
BLOCK_VALUES = 1 << 22  # distances computed at a time (queries x reference rows): bounded memory
# as scikit-learn's LocalOutlierFactor: a duplicate-heavy reference has zero reachability
EPS = 1e-10
MIN_REFERENCE_ROWS = 20  # fewer training rows: no density (a few codes' neighbourhoods are noise)
# fewer held-out rows than this: the exponent is set on the reference rows instead
MIN_CALIBRATION_ROWS = 5
MAX_GAMMA = 20.0  # the exponent is at most this times density: near-identical LOFs must not blow the score up
# The two density terms of a detector, as saved: (its attribute, its key in config.json's state,
# the prefix of its tensors in model.safetensors, its name in messages). The code's tensors keep
# the prefix they had before the input's term existed.
TERMS = (
    ("code_density_", "code_density", "density", "code density"),
    ("input_density_", "input_density", "input_density", "input density"),
)
_NAMES = {prefix: name for _, _, prefix, name in TERMS}


def reference_rows(n_rows: int, code_size: int) -> np.ndarray:
    """Indices of the training rows whose codes form the reference: all, or an evenly spread sample."""
    limit = max(2, min(REFERENCE_ROWS, REFERENCE_VALUES // max(1, code_size)))
    if n_rows <= limit:
        return np.arange(n_rows)
    return np.linspace(0, n_rows - 1, limit).round().astype(np.int64)


def nearest(query: torch.Tensor, ref: torch.Tensor, k: int, first_row: int | None = None):
    """Distances and indices of each query's ``k`` nearest reference rows, (Q, D) x (N, D) -> 2 x (Q, k).

    Distances by |q - r|^2 = |q|^2 - 2 q.r + |r|^2 (as ``torch.cdist`` computes them past 25 rows):
    plain matrix products, so the same code runs in the ONNX graph. ``first_row``: the queries are
    the reference rows from this one on, and a row is not its own neighbour.
    """
    # (Q, N): |r|^2 - 2 q.r, one pass
    d2 = torch.addmm(ref.square().sum(1), query, ref.T, alpha=-2.0)
    # its distance to itself is 0 only up to rounding: exclude it by index
    if first_row is not None:
        rows = torch.arange(len(d2), device=d2.device)
        d2[rows, rows + first_row] = float("inf")
    # (Q, k): |q|^2 is the same along a row, added after
    top = torch.topk(d2, k, dim=1, largest=False)
    dist = (top.values + query.square().sum(1, keepdim=True)).clamp_min(0.0).sqrt()
    return dist, top.indices  # nearest first


def local_outlier_factor(
    codes: torch.Tensor,
    ref: torch.Tensor,
    k_distance: torch.Tensor,
    lrd: torch.Tensor,
    k: int,
    first_row: int | None = None,
) -> torch.Tensor:
    """LOF of codes (Q, D) among the reference (one block): its neighbours' mean density over its own."""
    dist, idx = nearest(codes, ref, k, first_row)
    reach = torch.maximum(dist, k_distance[idx])  # reachability distance to each neighbour
    return lrd[idx].mean(dim=1) * (reach.mean(dim=1) + EPS)  # lrd = 1 / (mean reachability + EPS)


def lof_factor(
    codes: torch.Tensor,
    ref: torch.Tensor,
    k_distance: torch.Tensor,
    lrd: torch.Tensor,
    k: int,
    gamma: float,
    median_log_lof: float,
) -> torch.Tensor:
    """``(LOF / m) ** gamma`` of codes (B, D) in one block: what multiplies the score (also in the ONNX graph).

    At most e^50 (5e21): a code far from every normal one cannot overflow the score.
    """
    log_lof = torch.log(
        local_outlier_factor(codes, ref, k_distance, lrd, k).clamp_min(
            torch.finfo(torch.float32).tiny
        )
    )
    return torch.exp((gamma * (log_lof - median_log_lof)).clamp(max=50.0))


def _blocks(n_queries: int, n_ref: int):
    # queries x reference rows per block: bounded memory
    step = max(1, BLOCK_VALUES // max(1, n_ref))
    return ((i, min(n_queries, i + step)) for i in range(0, n_queries, step))


class CodeDensity:
    """LOF of codes among a reference set of normal codes, and the score it multiplies.

    :meth:`fit` keeps the reference codes, each one's distance to its ``k``-th neighbour and its
    local reachability density; :meth:`lof` scores new codes; :meth:`calibrate` sets the exponent
    from normal rows' errors and LOFs; :meth:`apply` gives the final score.
    """

    def __init__(
        self,
        codes: torch.Tensor,
        k_distance: torch.Tensor,
        lrd: torch.Tensor,
        k: int,
        median_log_lof: float = 0.0,
        gamma: float = 0.0,
    ):
        self.codes, self.k_distance, self.lrd = codes, k_distance, lrd  # (N, D), (N,), (N,)
        # neighbours per code: the k-distances above are those of the k-th neighbour
        self.k = int(k)
        self.median_log_lof, self.gamma = float(median_log_lof), float(gamma)

    @classmethod
    def fit(cls, codes: torch.Tensor, n_neighbors: int) -> CodeDensity:
        """The reference from the training rows' codes, (N, ...) with N >= 3; k is at most (N - 1) / 2.

        With k near N every code's neighbours are all the others and every LOF is about 1: the
        bound keeps the neighbourhoods local on small data.
        """
        codes = codes.float().reshape(len(codes), -1)  # (N, ...) -> (N, D)
        k = max(1, min(int(n_neighbors), (len(codes) - 1) // 2))
        tops = [
            nearest(codes[i:j], codes, k, first_row=i) for i, j in _blocks(len(codes), len(codes))
        ]
        dist, idx = torch.cat([t[0] for t in tops]), torch.cat([t[1] for t in tops])  # (N, k) each
        k_distance = dist[:, -1]  # (N,): each reference code's distance to its k-th neighbour
        reach = torch.maximum(dist, k_distance[idx])  # reachability distance to each neighbour
        return cls(codes, k_distance, 1.0 / (reach.mean(dim=1) + EPS), k)

    def lof(self, codes: torch.Tensor, *, of_reference: bool = False) -> torch.Tensor:
        """Local outlier factor of each code, (Q, ...) -> (Q,); ``of_reference``: the reference's own, self excluded."""
        codes = codes.float().reshape(len(codes), -1).to(self.codes.device)  # (Q, ...) -> (Q, D)
        return torch.cat(
            [
                local_outlier_factor(
                    codes[i:j],
                    self.codes,
                    self.k_distance,
                    self.lrd,
                    self.k,
                    i if of_reference else None,
                )
                for i, j in _blocks(len(codes), len(self.codes))
            ]
        )

    def calibrate(self, errors: np.ndarray, lofs: np.ndarray, density: float) -> CodeDensity:
        """Set the exponent from normal rows' reconstruction scores and LOFs (the module's formula)."""
        tiny = np.finfo(np.float32).tiny
        log_e = np.log(np.maximum(np.asarray(errors, np.float64), tiny))
        log_l = np.log(np.maximum(np.asarray(lofs, np.float64), tiny))
        spread_e = float(np.subtract(*np.percentile(log_e, [75.0, 25.0])))
        spread_l = float(np.subtract(*np.percentile(log_l, [75.0, 25.0])))
        self.median_log_lof = float(np.median(log_l))
        # No spread in either (a handful of rows, identical codes): the LOF says nothing; leave the error alone.
        gamma = spread_e / spread_l if spread_l > 0 and spread_e > 0 else 0.0
        self.gamma = float(density) * min(gamma, MAX_GAMMA)
        return self

    def apply(self, errors: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """The final score of each sample: its reconstruction score times (LOF / median LOF) ** gamma, (B,)."""
        if self.gamma == 0.0:
            return errors
        codes = codes.float().reshape(len(codes), -1).to(self.codes.device)  # (B, ...) -> (B, D)
        factor = torch.cat(
            [
                lof_factor(
                    codes[i:j],
                    self.codes,
                    self.k_distance,
                    self.lrd,
                    self.k,
                    self.gamma,
                    self.median_log_lof,
                )
                for i, j in _blocks(len(codes), len(self.codes))
            ]
        )
        return errors * factor.to(errors.device, errors.dtype)

    def to(self, device: torch.device | str) -> CodeDensity:
        self.codes, self.k_distance, self.lrd = (
            t.to(device) for t in (self.codes, self.k_distance, self.lrd)
        )
        return self

    # ---- persistence: tensors in the model's safetensors, numbers in its JSON ----------------------
    # ``prefix`` names the term: "density" the code's, "input_density" the scaled input's.
    def tensors(self, prefix: str = "density") -> dict[str, torch.Tensor]:
        return {
            f"{prefix}_codes": self.codes.cpu(),
            f"{prefix}_k_distance": self.k_distance.cpu(),
            f"{prefix}_lrd": self.lrd.cpu(),
        }

    def state(self) -> dict[str, float]:
        return {"n_neighbors": self.k, "median_log_lof": self.median_log_lof, "gamma": self.gamma}

    @classmethod
    def from_saved(
        cls, tensors: dict[str, torch.Tensor], state: dict[str, float], prefix: str = "density"
    ) -> CodeDensity:
        """Rebuild from :meth:`tensors` and :meth:`state`; ValueError if they do not fit together."""
        codes, kd, lrd = (
            tensors[f"{prefix}_{name}"].float() for name in ("codes", "k_distance", "lrd")
        )
        k = int(state["n_neighbors"])
        if (
            codes.dim() != 2
            or kd.shape != (len(codes),)
            or lrd.shape != (len(codes),)
            or not 1 <= k < len(codes)
        ):
            raise ValueError(
                f"the saved {_NAMES[prefix]} is inconsistent: codes {tuple(codes.shape)}, "
                f"k-distances {tuple(kd.shape)}, densities {tuple(lrd.shape)}, {k} neighbours"
            )
        gamma, median = float(state["gamma"]), float(state["median_log_lof"])
        if not (np.isfinite(gamma) and np.isfinite(median) and gamma >= 0):
            raise ValueError(
                f"the saved {_NAMES[prefix]} has a bad exponent {gamma!r} or median {median!r}"
            )
        return cls(codes, kd, lrd, k, median, gamma)


def fit_code_density(
    codes_of: Callable[[np.ndarray], torch.Tensor],
    reference: Iterator[np.ndarray],
    n_neighbors: int,
) -> CodeDensity | None:
    """The reference of ``codes_of(rows)`` over the batches of raw rows ``reference`` yields.

    None with fewer than ``MIN_REFERENCE_ROWS`` rows: on tiny data (ten normal rows) the LOF of a
    code among a handful of neighbours is noise (what it cost: ``docs/guide/anomaly.md``).
    """
    seen: set[bytes] = set()
    parts = [codes_of(rows).float().reshape(len(rows), -1) for rows in _distinct(reference, seen)]
    codes = torch.cat(parts) if parts else torch.empty(0)
    if len(codes):
        # Distinct rows can share a code (a ReLU code of zeros: 79% of one run's reference): copies
        # have a k-distance of 0 and a density of 1 / EPS, and which of the tied copies are a query's
        # k nearest (torch's topk and the ONNX graph's TopK break ties apart) swung its LOF from
        # 1e-20 to 1e9: onnxruntime gave 8e-20 where PyTorch gave 1.49. One copy of each code.
        codes = _first_copies(codes)
    if len(codes) < MIN_REFERENCE_ROWS:
        return None
    return CodeDensity.fit(codes, n_neighbors)


def _first_copies(codes: torch.Tensor) -> torch.Tensor:
    """(N, D) -> (M, D): the first copy of each code, in order (all of them when none repeats)."""
    _, inverse = torch.unique(codes, dim=0, return_inverse=True)  # (N,): each row's distinct code
    first = torch.full((int(inverse.max()) + 1,), len(codes), dtype=torch.long)
    first = first.scatter_reduce(0, inverse, torch.arange(len(codes)), "amin")  # (M,)
    return codes[first.sort().values]


def _distinct(batches: Iterator[np.ndarray], seen: set[bytes]) -> Iterator[np.ndarray]:
    """The batches without the rows seen before (``seen``: their digests, across batches).

    A table of flags or counts repeats rows: a code with more than k copies has a k-distance of 0
    and a density of 1 / EPS, and a normal code beside such a cluster an LOF of 1e9, its score
    multiplied by e^50 (a table of 8 flag columns: ROC-AUC 0.85 against 0.998 without the term).
    The LOF of distinct rows is what scikit-learn's documentation advises; the copies' codes are
    compared on the raw rows, as a code computed in another batch may differ in its last bits.
    """
    import hashlib

    for rows in batches:
        keep = []
        for i, row in enumerate(np.asarray(rows)):
            digest = hashlib.blake2b(np.ascontiguousarray(row).tobytes(), digest_size=16).digest()
            if digest not in seen:
                seen.add(digest)
                keep.append(i)
        if keep:
            yield rows[keep] if len(keep) < len(rows) else rows
