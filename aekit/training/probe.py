"""The thread count measured: a few real steps with one thread and with every free core.

A rule on a step's floating-point work guesses at what a second thread is worth; how long a step
takes says it. At the start of training, when the estimator leaves ``threads`` to aekit, a copy
of the model and a fresh optimizer take a few steps on the first batch with each candidate
count, alternating (so that a change in the machine's load during the probe falls on both), and
the faster count wins; more threads win only when they are at least :data:`MARGIN` faster,
since a thread that buys little costs the machine's other work a core. Beside busy neighbours a
second thread's steps wait at every barrier for a core, so the probe picks one thread there; on
a quiet machine it picks the cores that pay.

The probe costs ``(1 + PROBE_STEPS)`` steps per candidate (a few milliseconds for the small
models, under a second for the VAE), leaves the model, the optimizer and every random stream of
the training itself untouched, and is made once per process for the same model and batch
(:data:`_CACHE`; not for the load it saw), so that refitting in one process trains with the same
count, and so to the same bits. The run's ``config.json`` records the choice and the step times; ``--resume`` keeps it.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from .threads import (
    ThreadChoice,
    busy_cores,
    env_cap,
    machine_cores,
    process_share,
    using_threads,
    wait_policy,
)

PROBE_STEPS = 5  # timed steps per candidate count, after one untimed warm-up step
MARGIN = 0.9  # more threads only when their step takes at most this fraction of one thread's
# (model, batch) -> the choice: one probe per process for the same work, so refits agree to the bit
_CACHE: dict[tuple, ThreadChoice] = {}


def candidates() -> tuple[int, ...]:
    """The counts worth timing: one thread, and every core that is free now (capped by OMP_NUM_THREADS)."""
    cores = process_share(machine_cores())
    free = max(1, cores - int(busy_cores() + 0.5))  # a half-busy core counts as busy
    cap = env_cap()
    if cap is not None:
        free = min(free, cap)
    return (1,) if free == 1 else (1, free)


def probe_threads(step: Callable[[], Any], key: tuple) -> ThreadChoice:
    """The faster of :func:`candidates` for ``step()`` (one training step), once per process per ``key``."""
    if key in _CACHE:
        return _CACHE[key]
    counts = candidates()
    if len(counts) == 1:
        choice = _choice(1, "auto: 1 free core")
    else:
        seconds = time_steps(step, counts)
        best = min(counts, key=lambda n: seconds[n] / (1.0 if n == 1 else MARGIN))
        timed = ", ".join(f"{n} threads {seconds[n] * 1e3:.2f} ms" for n in counts)
        choice = _choice(best, f"auto: timed a step: {timed}")
    _CACHE[key] = choice
    return choice


def time_steps(step: Callable[[], Any], counts: tuple[int, ...]) -> dict[int, float]:
    """Median seconds of ``step()`` at each thread count: a warm-up each, then rounds in turn."""
    times: dict[int, list[float]] = {n: [] for n in counts}
    for n in counts:  # the first step at a count builds its kernels and buffers: untimed
        with using_threads(_choice(n, "probe")):
            step()
    for r in range(PROBE_STEPS):
        for n in counts if r % 2 == 0 else counts[::-1]:
            with using_threads(_choice(n, "probe")):
                t0 = time.perf_counter()
                step()
                times[n].append(time.perf_counter() - t0)
    return {n: statistics.median(t) for n, t in times.items()}


def _choice(n: int, reason: str) -> ThreadChoice:
    return ThreadChoice(intra_op=n, inter_op=1, reason=reason, wait_policy=wait_policy())


def model_key(model: torch.nn.Module, batch: torch.Tensor) -> tuple:
    """What the probe's result depends on: the model's class and parameter shapes, and the batch."""
    shapes = tuple(tuple(p.shape) for p in model.parameters())
    return (type(model).__name__, shapes, tuple(batch.shape), str(batch.dtype), str(batch.device))


def throwaway_step(
    model: torch.nn.Module,
    loss_fn: Callable,
    xb: torch.Tensor,
    tb: torch.Tensor,
    autocast: Any,
    config: Any,
) -> Callable[[], None]:
    """One optimizer step of a copy of ``model`` on the batch ``xb`` (targets ``tb``), repeatable:
    the copy, its optimizer (the training's kind) and its random draws are the probe's own."""
    from .loop import make_optimizer  # the loop's optimizer, so the probe times the same step

    twin = copy.deepcopy(model).train()
    optimizer = make_optimizer(twin, config)
    generator = torch.Generator(device=xb.device).manual_seed(0)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = loss_fn(twin, xb, tb, generator)
        loss.backward()
        optimizer.step()

    return step
