"""Small synthetic series for the series tests: sines with a spike, a level shift or a changed pattern."""

from __future__ import annotations

import numpy as np

PERIOD = 16


def sine_series(
    n: int = 1200,
    *,
    period: int = PERIOD,
    channels: int = 1,
    kind: str = "spike",
    at: int = 900,
    length: int = 6,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: x (n, channels) float32 sines with a little noise, y the 0/1 label of each step.

    ``kind``: "spike" (a jump of +3 for ``length`` steps), "shift" (a level shift of +1.5) or
    "pattern" (the sine at twice the frequency) from step ``at``; "none" for a normal series.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.stack([np.sin(2 * np.pi * t / period + c) for c in range(channels)], axis=1)
    x += 0.05 * rng.standard_normal(x.shape)
    y = np.zeros(n, np.int64)
    if kind != "none":
        part = slice(at, at + length)
        if kind == "spike":
            x[part] += 3.0
        elif kind == "shift":
            x[part] += 1.5
        elif kind == "pattern":
            x[part] = np.sin(4 * np.pi * t[part] / period)[:, None]
        else:
            raise ValueError(kind)
        y[part] = 1
    return x.astype(np.float32), y


def write_csv(path, x: np.ndarray, y: np.ndarray | None = None, *, time: bool = True) -> str:
    """``x`` (and ``y``) as a CSV with a header: [time,] value (or c0, c1, ...) [, is_anomaly]."""
    names = ["value"] if x.shape[1] == 1 else [f"c{c}" for c in range(x.shape[1])]
    cols = (["time"] if time else []) + names + (["is_anomaly"] if y is not None else [])
    lines = [",".join(cols)]
    for i, row in enumerate(x):
        cells = (
            ([f"t{i}"] if time else [])
            + [repr(float(v)) for v in row]
            + ([str(int(y[i]))] if y is not None else [])
        )
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return str(path)
