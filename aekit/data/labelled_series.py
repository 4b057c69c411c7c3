"""Labelled long series to measure a series detector on: ECG5000 beats end to end, and synthetic signals.

:func:`ecg_beat_series` concatenates ECG5000 beats into one recording: a training stretch of
normal beats only, and a test stretch of normal beats with a few beats of the other classes put at
seeded places (every step of such a beat labelled 1). :func:`synthetic_series` makes a periodic
signal of 1 to 8 channels (each its own period, scale and level) and injects one kind of fault
into one channel of the test stretch: ``KINDS`` lists them. Both return ``(train, test, labels)``
with ``train`` and ``test`` as float32 (steps, channels) and ``labels`` int64 (steps,) for the
test stretch. The benchmark (``benchmarks/bench_series.py``) and the tests use the same functions.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError

KINDS = ("spike", "level_shift", "frequency", "noise_burst", "flatline", "drift")


def ecg_beat_series(
    seed: int = 0,
    n_train: int = 300,
    n_test: int = 200,
    n_anomalies: int = 8,
    root=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, test, labels): ECG5000 beats end to end; ``n_anomalies`` test beats of classes 2-5.

    The seed draws which normal beats are used, where the anomalous beats go and which they are.

    Examples
    --------
    >>> train, test, y = ecg_beat_series(seed=1)                 # doctest: +SKIP
    >>> train.shape, test.shape, int(y.sum())                    # doctest: +SKIP
    ((42000, 1), (28000, 1), 1120)
    """
    from .builtin import load_builtin

    parts = [load_builtin("ecg5000", split, root=root) for split in ("train", "test")]
    x = np.concatenate([p.x for p in parts]).astype(np.float32)
    y = np.concatenate([p.y for p in parts])
    rng = np.random.default_rng(seed)
    normal = rng.permutation(np.flatnonzero(y == 1))
    anomalous = rng.permutation(np.flatnonzero(y != 1))
    if n_train + n_test > len(normal):
        raise UsageError(f"n_train + n_test must be at most {len(normal)} normal beats")
    beats = list(normal[n_train : n_train + n_test])
    places = np.sort(rng.choice(np.arange(5, n_test - 5), n_anomalies, replace=False))
    labels = np.zeros(n_test, np.int64)
    for place, beat in zip(places, anomalous[:n_anomalies]):
        beats[place], labels[place] = beat, 1
    steps = x.shape[1]
    train = x[normal[:n_train]].reshape(-1, 1)
    return train, x[beats].reshape(-1, 1), np.repeat(labels, steps)


def _channel(rng: np.random.Generator, n: int, period: float, noise: float) -> np.ndarray:
    """A periodic signal (two harmonics, a random phase) with Gaussian noise, unit amplitude."""
    t = np.arange(n) + rng.uniform(0, period)
    x = np.sin(2 * np.pi * t / period) + 0.4 * np.sin(4 * np.pi * t / period + rng.uniform(0, 6))
    return x + noise * rng.standard_normal(n)


def _inject(kind: str, x: np.ndarray, at: int, length: int, period: float, rng) -> np.ndarray:
    """``x`` (one channel, unit amplitude) with a fault of ``kind`` over ``[at, at + length)``."""
    x = x.copy()
    seg = slice(at, at + length)
    if kind == "spike":
        x[at] += rng.choice([-1, 1]) * 3.0
    elif kind == "level_shift":
        x[seg] += rng.choice([-1, 1]) * 1.5
    elif kind == "frequency":  # the same wave at another period, continuous at the start
        t = np.arange(length) + at
        fast = period / rng.choice([0.5, 2.0])
        x[seg] = np.sin(2 * np.pi * t / fast) + 0.4 * np.sin(4 * np.pi * t / fast)
    elif kind == "noise_burst":
        x[seg] += 0.8 * rng.standard_normal(length)
    elif kind == "flatline":  # the sensor holds its last value
        x[seg] = x[at]
    elif kind == "drift":  # a slow ramp away and back
        x[seg] += 1.5 * np.sin(np.pi * np.arange(length) / length)
    else:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return x


def _fault_length(kind: str, period: float, rng) -> int:
    if kind == "spike":
        return 1
    if kind == "drift":
        return int(rng.integers(8, 12) * period)
    return int(rng.integers(2, 4) * period)


def synthetic_series(
    kind: str,
    channels: int = 1,
    seed: int = 0,
    n_train: int = 4000,
    n_test: int = 6000,
    n_faults: int = 3,
    noise: float = 0.05,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, test, labels): a periodic signal of ``channels`` channels, ``n_faults`` faults of ``kind``
    in the test stretch, each in one channel drawn at random.

    Each channel has its own period (20 to 60 steps), scale (0.1 to 100) and level; the faults are
    sized in units of the channel's amplitude (see ``_inject``), spread apart.

    Examples
    --------
    >>> train, test, y = synthetic_series("spike", channels=3, seed=0)
    >>> train.shape, test.shape, int(y.sum())
    ((4000, 3), (6000, 3), 3)
    """
    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    rng = np.random.default_rng([seed, KINDS.index(kind), channels])
    n = n_train + n_test
    periods = rng.uniform(20, 60, channels)
    unit = np.stack([_channel(rng, n, p, noise) for p in periods], axis=1)
    scale = 10 ** rng.uniform(-1, 2, channels)
    level = rng.uniform(-50, 50, channels)
    labels = np.zeros(n_test, np.int64)
    slot = n_test // max(n_faults, 1)  # one fault per slot, clear of the slot's edges
    for i in range(n_faults):
        c = int(rng.integers(channels))
        length = _fault_length(kind, periods[c], rng)
        at = (
            n_train
            + i * slot
            + int(rng.integers(slot // 5, max(slot // 5 + 1, slot - length - 50)))
        )
        unit[:, c] = _inject(kind, unit[:, c], at, length, periods[c], rng)
        labels[at - n_train : at - n_train + length] = 1
    x = (unit * scale + level).astype(np.float32)
    return x[:n_train], x[n_train:], labels
