"""The simple peers of aekit's series detector, each trained on the normal stretch and scoring the
test stretch per step, on the same window (aekit's: the signal's period, as TSB-AD's
``find_length_rank`` picks it). Benchmark extras, never runtime dependencies of aekit:

    pip install stumpy TSB-AD pyod

* nearest window: written here, apart from aekit: each window z-normalised (all channels together),
  its Euclidean distance to the nearest z-normalised training window (every one, exact), spread
  back to the steps it covers (their highest, or their mean);
* stumpy: the matrix profile's AB-join of the test series against the training stretch
  (``stumpy.stump(test, m, train, ignore_trivial=False)``), per channel and averaged over channels
  (the all-dimension profile), each subsequence's distance put at its centre, as TSB-AD pads it;
* Sub-PCA and Sub-IForest: TSB-AD's own ``PCA`` and ``IForest`` classes over sliding windows (the
  best and a middling method of its univariate table), fitted on the training stretch;
* PyOD 3's ``MatrixProfile`` (transductive: fitted on the series it scores), ``LSTMAD`` and
  ``TimeSeriesOD`` with ``IForest``.
"""

from __future__ import annotations

import numpy as np
import torch


def nearest_window(train, test, window: int, aggregate: str = "max") -> np.ndarray:
    """The plain baseline (module notes): per-step scores of ``test``."""

    def z(x):
        std = np.where(train.std(0) > 0, train.std(0), 1)
        w = torch.from_numpy(
            np.ascontiguousarray(
                np.lib.stride_tricks.sliding_window_view((x - train.mean(0)) / std, window, axis=0),
                dtype=np.float32,
            )
        )
        w = w - w.mean(-1, keepdim=True)
        w = w / w.std(-1, unbiased=False, keepdim=True).clamp_min(1e-4)
        return w.reshape(len(w), -1)

    refs, queries = z(train), z(test)
    d = torch.cat(
        [
            torch.cdist(queries[i : i + 1024], refs).min(1).values
            for i in range(0, len(queries), 1024)
        ]
    )
    return spread(d.double().numpy(), len(test), window, aggregate)


def spread(d: np.ndarray, n: int, window: int, aggregate: str) -> np.ndarray:
    """Each window's score onto the ``n`` steps it covers: their highest or their mean."""
    scores = np.full(n, -np.inf) if aggregate == "max" else np.zeros(n)
    count = np.zeros(n)
    for j in range(window):
        part = slice(j, j + len(d))
        if aggregate == "max":
            scores[part] = np.maximum(scores[part], d)
        else:
            scores[part] += d
        count[part] += 1
    return scores if aggregate == "max" else scores / count


def centred(d: np.ndarray, n: int, window: int) -> np.ndarray:
    """Each window's score at its centre step, the ends padded with the first and last (TSB-AD)."""
    before = (window - 1) // 2 + (window - 1) % 2
    return np.concatenate([np.full(before, d[0]), d, np.full(n - len(d) - before, d[-1])])


def stumpy_ab_join(train, test, window: int) -> np.ndarray:
    import stumpy

    profiles = [
        stumpy.stump(test[:, c].astype(np.float64), window, train[:, c].astype(np.float64), False)[
            :, 0
        ].astype(np.float64)
        for c in range(test.shape[1])
    ]
    return centred(np.mean(profiles, axis=0), len(test), window)


def _tsb_ad(module: str):
    """TSB-AD's model module, its ``check_is_fitted`` passed over: TSB-AD 1.5's classes predate
    scikit-learn 1.6's estimator tags, which that check now reads (and fails on)."""
    import importlib

    mod = importlib.import_module(f"TSB_AD.models.{module}")
    mod.check_is_fitted = lambda *args, **kwargs: None
    return mod


def sub_pca(train, test, window: int) -> np.ndarray:
    PCA = _tsb_ad("PCA").PCA
    return np.asarray(PCA(slidingWindow=window).fit(train).decision_function(test), np.float64)


def sub_iforest(train, test, window: int) -> np.ndarray:
    IForest = _tsb_ad("IForest").IForest
    det = IForest(slidingWindow=window, n_estimators=100, max_features=1, n_jobs=1).fit(train)
    return np.asarray(det.decision_function(test), np.float64)


TRANSDUCTIVE = ("MatrixProfile",)  # PyOD detectors that score the series they are fitted on


def pyod_model(name: str, window: int, lstmad_epochs: int = 50):
    """PyOD 3's time-series detector ``name``, unfitted, at its defaults but the window (and
    LSTMAD's epochs). A name in :data:`TRANSDUCTIVE` is fitted on the series it scores."""
    from pyod.models.ts_lstm import LSTMAD
    from pyod.models.ts_matrix_profile import MatrixProfile
    from pyod.models.ts_od import TimeSeriesOD

    if name == "MatrixProfile":
        return MatrixProfile(window_size=window)
    if name == "LSTMAD":
        return LSTMAD(window_size=window, epochs=lstmad_epochs)
    return TimeSeriesOD(detector="IForest", window_size=window)


def pyod_detector(name: str, lstmad_epochs: int = 50):
    """A peer function of PyOD 3's time-series detector ``name``."""

    def run(train, test, window):
        det = pyod_model(name, window, lstmad_epochs)
        if name in TRANSDUCTIVE:
            return det.fit(test).decision_scores_
        return det.fit(train).decision_function(test)

    return run


PEERS = {
    "nearest window (max)": lambda a, b, w: nearest_window(a, b, w, "max"),
    "nearest window (mean)": lambda a, b, w: nearest_window(a, b, w, "mean"),
    "stumpy AB-join": stumpy_ab_join,
    "Sub-PCA (TSB-AD)": sub_pca,
    "Sub-IForest (TSB-AD)": sub_iforest,
    "pyod MatrixProfile": pyod_detector("MatrixProfile"),
    "pyod LSTMAD": pyod_detector("LSTMAD"),
    "pyod TimeSeriesOD": pyod_detector("TimeSeriesOD"),
}
SIMPLE = list(PEERS)[
    :5
]  # the peers run by default (PyOD's three on request: LSTMAD trains for minutes)
