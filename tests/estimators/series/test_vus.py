"""VUS-ROC / VUS-PR: against a step-by-step transcription of TSB-AD's loop, and what they reward."""

import numpy as np
import pytest

from aekit.estimators.series.metrics import series_metrics
from aekit.estimators.series.vus import vus


def _loop_vus(y, s, window, thresholds=250):
    """TSB-AD's RangeAUC_volume_opt, one pass over the series per threshold and buffer."""
    n, positives = len(y), y.sum()
    edges = np.diff(np.concatenate([[0], y, [0]]))
    runs = list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))
    falling = -np.sort(-s)
    rocs, prs = [], []
    for b in range(window + 1):
        soft = y.astype(float)
        for a, e in runs:
            for t in range(e + 1, min(e + b // 2 + 1, n)):
                soft[t] += np.sqrt(1 - (t - e) / b)
            for t in range(max(a - b // 2, 0), a):
                soft[t] += np.sqrt(1 - (a - t) / b)
        soft = np.minimum(soft, 1)
        merged = []
        for a, e in runs:
            if merged and a - b // 2 <= merged[-1][1]:
                merged[-1][1] = e + b // 2
            else:
                merged.append([max(a - b // 2, 0), e + b // 2])
        tpr, fpr, prec = [0.0], [0.0], []
        for i in np.linspace(0, n - 1, thresholds).astype(int):
            pred = s >= falling[i]
            tp = float((soft * pred).sum())
            labelled = positives + float((soft * pred)[y == 0].sum())
            touched = np.mean([pred[a : e + 1].any() for a, e in merged])
            p_new = (positives + labelled) / 2
            tpr.append(min(tp / p_new, 1) * touched)
            fpr.append((pred.sum() - tp) / (n - p_new))
            prec.append(tp / pred.sum())
        tpr.append(1.0)
        fpr.append(1.0)
        rocs.append(
            sum((fpr[k + 1] - fpr[k]) * (tpr[k + 1] + tpr[k]) / 2 for k in range(len(tpr) - 1))
        )
        prs.append(sum((tpr[k + 1] - tpr[k]) * prec[k] for k in range(thresholds)))
    return np.mean(rocs), np.mean(prs)


@pytest.mark.parametrize("seed", range(4))
def test_vus_agrees_with_the_loop_it_replaces(seed):
    rng = np.random.default_rng(seed)
    n = 400
    y = np.zeros(n, np.int64)
    y[[0, 1, 2]] = seed % 2  # a range at the series' start on odd seeds
    y[100:112] = 1
    y[118:121] = 1  # close enough to the first that wide buffers merge them
    y[300:330] = 1
    s = rng.normal(size=n) + 1.5 * np.convolve(y, np.ones(9), "same")
    s = np.round(s, 1)  # ties
    window = 24
    np.testing.assert_allclose(vus(y, s, window, 50), _loop_vus(y, s, window, 50), atol=1e-12)


def test_a_wider_buffer_forgives_a_flag_just_outside_the_range():
    y = np.zeros(1000, np.int64)
    y[500:520] = 1
    late = np.zeros(1000)
    late[522:530] = 1.0  # just after the labelled range
    far = np.zeros(1000)
    far[800:808] = 1.0
    assert vus(y, late, 40)[1] > vus(y, far, 40)[1]
    assert vus(y, late, 0)[1] == pytest.approx(vus(y, far, 0)[1])  # no buffer: both miss


def test_series_metrics_gives_vus_only_with_a_window():
    y = np.zeros(300, np.int64)
    y[100:110] = 1
    s = y + 0.1 * np.random.default_rng(0).normal(size=300)
    assert "vus_pr" not in series_metrics(y, s, 0.5)
    m = series_metrics(y, s, 0.5, window=20)
    assert m["vus_pr"] > 0.9 and m["vus_roc"] > 0.9
    assert series_metrics(np.zeros(300, int), s, 0.5, window=20)["vus_pr"] is None
