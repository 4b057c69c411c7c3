"""The one training loop every model family shares.

It reads top to bottom: for each epoch, a seeded shuffle; for each batch,
zero_grad -> forward + loss -> backward -> step; then validation, history and a
checkpoint. The data stays on the device as tensors and batches are index slices, so
there are no DataLoader round-trips, and the loss is summed on the device so there is
no host sync per step (one ``.item()`` per epoch).

Every epoch's random streams (shuffle, noise, reparameterisation) are seeded from
``(seed, epoch)``, so a run resumed from a checkpoint draws exactly what an
uninterrupted run draws and ends with the same weights on the CPU.

Data larger than memory comes as a row store instead of a tensor (``aekit.data.rowstore.RowStore``:
``__len__``, ``take(indices)``, ``rows(start, stop)``, e.g. :class:`aekit.data.NpyRows`): batches
are then gathered from disk and copied to the device.

Under torchrun the model is wrapped in DistributedDataParallel and each process takes its
share of every global batch (``batch_size`` stays the global batch, so N processes follow
the same trajectory as one); losses are summed over processes, and only rank 0 writes
checkpoints.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from .. import _stop
from .._notes import note
from ..errors import ArgumentTypeError, Diverged, RunFailure, UsageError
from . import distributed
from .checkpoint import has_checkpoint, save_checkpoint, start_again
from .numbers import real_number, whole_number
from .overflow import overflowing_data
from .resume import data_id
from .resume import resume as resume_from_checkpoint
from .rng import borrowed_rng
from .rows import data_device, is_images, slice_rows, take

logger = logging.getLogger(__name__)

# loss_fn(model, inputs, targets, generator) -> scalar mean loss of the batch.
# ``generator`` is a seeded torch.Generator on the data's device for noise and sampling.
LossFn = Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


PRECISIONS = ("fp32", "bf16")


@dataclass
class TrainConfig:
    epochs: int = 10  # epochs, each of ``passes`` passes over the training data
    passes: int = 1  # passes an epoch: tiny data packs several into one so the per-epoch work (validation) is amortised
    batch_size: int = 32  # samples per optimizer step
    lr: float = 1e-3  # Adam's learning rate (peak rate under "onecycle")
    weight_decay: float = 0.0  # L2 penalty, Adam's coupled form
    schedule: str = "constant"  # "constant" or "onecycle" (warm-up then cosine decay, per step)
    seed: int = 0  # seeds the shuffle and every random draw of the loss
    patience: int | None = None  # early stopping: epochs without val improvement; None = off
    # early stopping never stops before this many epochs (tiny data: an epoch is one step)
    min_epochs: int = 0
    # end after this many epochs, the schedule still laid over ``epochs``: a copy that stands in
    # for a model trains no longer than that model did (cross-fitted calibration copies)
    stop_after: int | None = None
    eval_batch_size: int = 1024  # batch size for validation; bounds the activations' memory
    checkpoint_every: int = 1  # epochs between checkpoints when a checkpoint folder is given
    # "fp32", or "bf16": bfloat16 autocast of the forward pass (weights stay fp32)
    precision: str = "fp32"
    # images (B, C, H, W) in channels-last memory (faster convs; same values)
    channels_last: bool = True

    def validate(self) -> TrainConfig:
        """Check every setting (one UsageError line), NumPy scalars taken as the built-in numbers
        they stand for, as the parameter tables take them (a search's ``rng.integers`` seeds)."""
        for name in (
            "epochs",
            "passes",
            "batch_size",
            "eval_batch_size",
            "checkpoint_every",
            "min_epochs",
        ):
            low = 0 if name in ("epochs", "min_epochs") else 1
            value = whole_number(getattr(self, name))
            if value is None or value < low:
                raise UsageError(
                    f"{name} must be a whole number >= {low}, got {getattr(self, name)!r}"
                )
            setattr(self, name, value)
        lr = real_number(self.lr)
        if lr is None or not math.isfinite(lr) or lr <= 0:
            raise UsageError(f"lr must be a positive number, got {self.lr!r}")
        self.lr = lr
        if self.schedule not in ("constant", "onecycle"):
            raise UsageError(f"schedule must be 'constant' or 'onecycle', got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        seed = whole_number(self.seed)
        if seed is None or not 0 <= seed < 2**63:
            raise UsageError(f"seed must be a whole number in [0, 2**63), got {self.seed!r}")
        self.seed = seed
        for name in ("patience", "stop_after"):
            value = getattr(self, name)
            whole = None if value is None else whole_number(value)
            if value is not None and (whole is None or whole < 1):
                raise UsageError(f"{name} must be a whole number >= 1 or None, got {value!r}")
            setattr(self, name, whole)
        return self


def _shard(batch: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    """This process's share of a global batch of indices: every world-th one, from position rank.

    A short last batch is padded by repeating its own indices (DistributedSampler does the
    same to the whole epoch), so every process steps with a batch of the same size.
    """
    pad = (-len(batch)) % world
    if pad:
        batch = batch.repeat(math.ceil((len(batch) + pad) / len(batch)))[: len(batch) + pad]
    return batch[rank::world]


class Callback(Protocol):
    """Optional hooks; the CLI uses them for progress bars. Every method is optional."""

    # the total epochs, and steps an epoch
    def on_train_begin(self, epochs: int, steps: int) -> None: ...
    def on_epoch_start(self, epoch: int, steps: int) -> None: ...
    def on_batch_end(self, epoch: int, step: int) -> None: ...
    def on_epoch_end(self, record: dict) -> None: ...


# torch's global generator is the process's: aekit seeds it for a network's initial weights one
# thread at a time, so fits in threads (a threaded grid search) start from the weights their seeds
# give serially (11 of 40 concurrent builds differed). Another thread's own torch draws still meet
# aekit's seeded stream while it trains (docs/guide/sklearn.md)
GLOBAL_RNG = threading.RLock()


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A distinct, reproducible seed for each (seed, epoch, stream)."""
    return (seed * 1_000_003 + epoch * 7_919 + stream * 104_729) % (2**63 - 1)


def lr_at(config: TrainConfig, step: int, total_steps: int) -> float:
    """Learning rate for a global step: constant, or one-cycle (30% linear warm-up, cosine to lr/1e3)."""
    if config.schedule == "constant" or total_steps <= 1:
        return config.lr
    warm = max(1, int(0.3 * total_steps))
    start, end = config.lr / 25.0, config.lr / 1e3
    if step < warm:
        return start + (config.lr - start) * step / warm
    t = (step - warm) / max(1, total_steps - warm)
    return end + (config.lr - end) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, t)))


@torch.inference_mode()
def evaluate_loss(
    model: torch.nn.Module,
    loss_fn: LossFn,
    inputs: Any,
    targets: Any,
    *,
    batch_size: int = 1024,
    seed: int = 0,
) -> float:
    """Mean of ``loss_fn`` over ``inputs`` in large batches (sample-weighted).

    Under torchrun each process evaluates its own slice and the sums are added up.
    """
    was_training = model.training
    model.eval()
    device = data_device(inputs, model)
    rank, world = distributed.rank(), distributed.world_size()
    n = len(inputs)
    lo, hi = n * rank // world, n * (rank + 1) // world  # this process's contiguous slice
    generator = torch.Generator(device=device).manual_seed(seed + rank)
    totals = torch.zeros(2, device=device, dtype=torch.float64)  # (sum of losses, samples)
    for start in range(lo, hi, batch_size):
        stop = min(hi, start + batch_size)
        xb = slice_rows(inputs, start, stop, device)
        tb = xb if targets is inputs else slice_rows(targets, start, stop, device)
        totals[0] += loss_fn(model, xb, tb, generator).double() * (stop - start)
        totals[1] += stop - start
    distributed.all_reduce_sum(totals)
    model.train(was_training)
    return float(totals[0] / max(1.0, float(totals[1])))


def _call(callbacks: Sequence[object], hook: str, *args) -> None:
    for cb in callbacks:
        fn = getattr(cb, hook, None)
        if fn is not None:
            fn(*args)


def _finite_weights(model: torch.nn.Module) -> bool:
    """All parameters finite: one reduction per tensor on the device, one host sync."""
    flags = [torch.isfinite(p).all() for p in model.parameters() if p.is_floating_point()]
    return bool(torch.stack(flags).all()) if flags else True


# A learning rate above this is far beyond any Adam setting (its usual one is 1e-3).
FAR_ABOVE_ADAM = 0.1


def lower_lr(lr: float) -> float:
    """The learning rate to suggest instead of ``lr``: a tenth of it; from a rate far above any Adam
    setting (:data:`FAR_ABOVE_ADAM`), Adam's usual 1e-3."""
    return lr / 10 if lr <= FAR_ABOVE_ADAM else 1e-3


def _diverged(
    epoch: int,
    config: TrainConfig,
    value: float | None,
    checkpoint_dir: str | Path | None,
    *,
    weights: bool = False,
    grew: str | None = None,
    history: Sequence[dict] = (),
    start: float | None = None,
) -> Diverged:
    """The one-line error of a run whose loss or weights stopped being finite in ``epoch`` (0-based),
    or whose loss ``grew`` far beyond its start. The checkpoint kept is worth continuing only when
    its epochs were still learning (``history`` against the ``start`` loss: :func:`_still_learning`);
    else start again."""
    what = "the weights became non-finite" if weights else f"the loss became {value}"
    what = grew or what
    lower = f"{lower_lr(config.lr):g}"
    kept = ""
    if checkpoint_dir is not None and has_checkpoint(checkpoint_dir):
        kept = f"; the last good checkpoint is kept: continue it with --resume --lr {lower}"
        if not _still_learning(history, start):
            again = start_again(Path(checkpoint_dir))
            kept = (
                f"; its last epochs' training loss had already risen above the one it started "
                f"from: {again}, at --lr {lower}"
            )
    return Diverged(
        f"training diverged in epoch {epoch + 1}: {what}; lower the learning rate (lr={config.lr:g}: "
        f"try --lr {lower}) or scale the data to a smaller range{kept}"
    )


def _still_learning(history: Sequence[dict], start: float | None) -> bool:
    """Whether the last epoch's training loss is at most the one the run started from (its first
    step's, ``start``: the same loss, where validation's may differ, a VAE's at beta 1, a
    denoiser's on clean inputs): at lr 20 the first epochs ended far above their start, and the
    checkpoint they left, continued at a lower rate, trained on at a validation loss of 7.0
    (0.94 for the mean); started again at that rate it reached 0.81."""
    if not history or start is None or not math.isfinite(start):
        return True
    last = history[-1].get("train_loss")
    return last is None or float(last) <= start


@dataclass
class _Run:
    """What one call of :func:`train` works with: the model (and its DDP wrapper), the data, the
    optimizer and the shape of an epoch."""

    model: torch.nn.Module
    net: torch.nn.Module  # the model, or its DistributedDataParallel wrapper under torchrun
    loss_fn: LossFn
    inputs: Any
    targets: Any
    config: TrainConfig
    optimizer: torch.optim.Optimizer
    autocast: Any
    device: torch.device
    memory_format: torch.memory_format
    checkpoint_dir: str | Path | None
    callbacks: list
    pass_steps: int  # steps of one pass over the data
    steps: int  # steps of an epoch
    rank: int = 0
    world: int = 1
    # The loss the run started from (the first step's, before any update): the scale a diverged
    # loss is measured against (:data:`BLOWUP`); set by the first step of this call.
    start_loss: float | None = None
    validation: tuple[Any, Any] | None = None  # (inputs, targets) of the validation loss
    data_id: str | None = None  # the inputs' fingerprint, once read (resume.data_id)


# A finite loss this many times the loss the run started from (the untrained model's) is a
# diverged run. An untrained model already predicts nothing, so a training that merely goes badly
# stays within a small multiple of its starting loss (a warm-up spike, a bad restart: a few times,
# far below 1e3); weights that ran away grow the loss by many orders of magnitude (an lr of 1e8 on
# standardised data ended at 5e32 from about 1). Six orders of magnitude leave healthy runs a
# margin of more than a thousand and catch a blow-up long before float32 overflows.
BLOWUP = 1e6
# ... provided the median batch loss grew this many times too: a healthy run's median batch loss
# stays near or below the untrained model's; a few extreme rows raise their batches' alone
GROWTH = 10.0


def train(
    model: torch.nn.Module,
    loss_fn: LossFn,
    inputs: Any,
    targets: Any = None,
    *,
    config: TrainConfig,
    validation: tuple[Any, Any] | None = None,
    val_loss_fn: LossFn | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: bool = False,
    callbacks: Sequence[object] = (),
) -> list[dict]:
    """Train ``model`` in place with Adam; return the history (one dict per epoch).

    ``inputs``/``targets`` (targets default to inputs) and ``validation`` are tensors already
    on the model's device, or row stores read batch by batch. ``val_loss_fn`` defaults to
    ``loss_fn``. ``config.batch_size`` is the global batch, split across processes under torchrun.
    The loop is driven by :class:`aekit.training.trainer.Trainer`, which owns the checkpoint folder,
    resuming and the callbacks.
    """
    run = _start(model, loss_fn, inputs, targets, config, checkpoint_dir, callbacks)
    run.validation = validation
    stopping = _EarlyStopping(config, watched=validation is not None)
    history, start_epoch = resume_from_checkpoint(run, stopping) if resume else ([], 0)
    config = run.config  # a resume keeps the checkpoint's unit of an epoch (_keep_unit)
    if history:  # resumed: the scale is the first epoch's loss, not the trained model's
        run.start_loss = float(history[0]["train_loss"])
    _call(run.callbacks, "on_train_begin", config.epochs, run.steps)
    last = config.epochs if config.stop_after is None else min(config.epochs, config.stop_after)
    if start_epoch and stopping.should_stop(start_epoch - 1):
        last = start_epoch  # it had stopped early: an uninterrupted run trains no further
        note(
            f"the run stopped early after epoch {start_epoch} (patience {config.patience}: no "
            f"better validation loss since); resuming trains no further: raise the patience to "
            f"train on"
        )
    for epoch in range(start_epoch, last):
        _stop.check()  # a stop whose interrupt was lost on the way (aekit._stop)
        _call(run.callbacks, "on_epoch_start", epoch, run.steps)
        with _seeded_global_rng(run, epoch):
            t0 = time.perf_counter()
            train_loss, typical = _train_epoch(run, epoch)
            seconds = time.perf_counter() - t0  # training time; validation is not counted
            val_loss = None
            if validation is not None:
                # The bare model: DDP's forward would sync buffers, and the slices may differ in batch count.
                val_loss = evaluate_loss(
                    model,
                    val_loss_fn or loss_fn,
                    *validation,
                    batch_size=config.eval_batch_size,
                    seed=epoch_seed(config.seed, 0, stream=2),
                )
        _check_finite(run, epoch, (train_loss, typical), val_loss, history)
        record = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "seconds": seconds,
        }
        history.append(record)
        logger.info(
            "epoch %d/%d train_loss=%.6g val_loss=%s",
            epoch + 1,
            config.epochs,
            train_loss,
            val_loss,
        )
        stop = stopping.update(epoch, val_loss, model)
        _checkpoint(run, epoch, history, stopping)
        _call(run.callbacks, "on_epoch_end", record)
        if stop:
            logger.info(
                "early stopping after epoch %d (best val_loss %.6g)", epoch + 1, stopping.best
            )
            break
    stopping.restore_best(model)
    model.to(memory_format=torch.contiguous_format)  # as a loaded model is, so both predict alike
    return history


def memory_format_for(inputs: Any, config: TrainConfig) -> torch.memory_format:
    """Channels-last for images: oneDNN's (CPU) and cuDNN's convolutions then skip layout conversions
    (about 10% of a batch-32 denoising step on 2 CPU cores: benchmarks/README.md)."""
    images = config.channels_last and is_images(inputs)
    return torch.channels_last if images else torch.contiguous_format


def autocast_for(device: torch.device, config: TrainConfig) -> Any:
    """bf16 autocast of the forward pass where it is safe (convs, matmuls), weights, optimizer and
    reductions in fp32 (it pays where matmuls dominate: GPUs, CPUs with bf16 units); else nothing."""
    if config.precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam, its whole update in one fused kernel where torch has one for the parameters' device
    (CPU and CUDA): the same arithmetic in one pass over each tensor instead of a dozen small ops,
    which is most of a small model's step on a CPU (docs/guide/scale.md)."""
    params = list(model.parameters())
    kw = {"lr": config.lr, "weight_decay": config.weight_decay}
    fusable = all(p.device.type in ("cpu", "cuda") and p.dtype == torch.float32 for p in params)
    if fusable:
        try:
            return torch.optim.Adam(params, fused=True, **kw)
        except (RuntimeError, TypeError):  # an older torch: no fused Adam for this device
            pass
    return torch.optim.Adam(params, **kw)


def first_batch(inputs: Any, targets: Any, config: TrainConfig, device: torch.device):
    """(inputs, targets) of the first ``batch_size`` samples, laid out as the loop's batches are."""
    fmt = memory_format_for(inputs, config)
    idx = torch.arange(min(config.batch_size, len(inputs)))
    if isinstance(inputs, torch.Tensor):
        idx = idx.to(device)
    xb = take(inputs, idx, device).contiguous(memory_format=fmt)
    tb = xb if targets is None or targets is inputs else take(targets, idx, device)
    return xb, tb.contiguous(memory_format=fmt)


def _start(model, loss_fn, inputs, targets, config, checkpoint_dir, callbacks) -> _Run:
    """Check the settings and data, lay out the model, make the optimizer (and DDP under torchrun)."""
    config.validate()
    try:
        callbacks = list(callbacks or ())
    except TypeError:
        raise ArgumentTypeError(
            f"callbacks must be a list of callback objects, got {callbacks!r}"
        ) from None
    device = data_device(inputs, model)
    n = len(inputs)
    if n == 0:
        raise UsageError("no training samples; expected at least one")
    memory_format = memory_format_for(inputs, config)
    model.to(memory_format=memory_format)
    autocast = autocast_for(device, config)
    optimizer = make_optimizer(model, config)
    pass_steps = math.ceil(n / config.batch_size)
    # One process: train ``model`` itself. Several: DDP averages the gradients of every step
    # (it also copies rank 0's weights to the others here, so all start equal).
    net = model
    if distributed.init(device):
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        net = DistributedDataParallel(model, device_ids=ids)
    return _Run(
        model=model,
        net=net,
        loss_fn=loss_fn,
        inputs=inputs,
        targets=inputs if targets is None else targets,
        config=config,
        optimizer=optimizer,
        autocast=autocast,
        device=device,
        memory_format=memory_format,
        checkpoint_dir=checkpoint_dir,
        callbacks=callbacks,
        pass_steps=pass_steps,
        steps=pass_steps * config.passes,
        rank=distributed.rank(),
        world=distributed.world_size(),
    )


@contextlib.contextmanager
def _seeded_global_rng(run: _Run, epoch: int):
    """torch's global generator (and the CUDA device's) seeded from ``(seed, epoch)`` for one epoch,
    the caller's state restored after: randomness inside a user's own network (``nn.Dropout``,
    ``torch.randn``) draws the same numbers in every run with that seed, and on ``--resume``."""
    cuda = run.device.type == "cuda"
    index = (run.device.index if run.device.index is not None else 0) if cuda else None
    seed = epoch_seed(run.config.seed, epoch, stream=3 + 1000 * run.rank)
    # not under GLOBAL_RNG: held for a whole epoch, it ran threaded fits one epoch at a time and
    # kept aekit.load waiting for another thread's epoch (aekit's own networks draw nothing here)
    with borrowed_rng(index):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def _train_epoch(run: _Run, epoch: int) -> tuple[float, float]:
    """One epoch of optimizer steps; its mean training loss and its median batch loss (the
    epoch's one host sync)."""
    config, n = run.config, len(run.inputs)
    run.net.train()
    # Seeded per epoch, so a resumed run draws the same batches and noise; the shuffle is
    # the same on every process, the noise differs (each process draws for its own rows).
    shuffle = torch.Generator().manual_seed(epoch_seed(config.seed, epoch))
    order = torch.cat([torch.randperm(n, generator=shuffle) for _ in range(config.passes)])
    if isinstance(run.inputs, torch.Tensor):
        order = order.to(run.device)  # (passes * n,)
    noise_seed = epoch_seed(config.seed, epoch, stream=1 + 1000 * run.rank)
    generator = torch.Generator(device=run.device).manual_seed(noise_seed)
    # float32 as the losses are, whatever the default dtype
    loss_sum = torch.zeros((), device=run.device, dtype=torch.float32)
    # each step's, for the median at the end
    losses = torch.zeros(run.steps, device=run.device, dtype=torch.float32)
    seen = 0
    report_every = max(1, run.steps // 50)
    for step in range(run.steps):
        done, within = divmod(step, run.pass_steps)  # passes done, step within this pass
        start = done * n + within * config.batch_size
        idx = order[start : min(start + config.batch_size, (done + 1) * n)]  # a pass ends short
        if run.world > 1:
            idx = _shard(idx, run.rank, run.world)
        loss = _step(run, idx, generator, epoch * run.steps + step, epoch)
        if run.start_loss is None:  # once per call: the scale of a diverged loss (BLOWUP)
            first = loss.detach().to(torch.float64, copy=True)
            run.start_loss = float(distributed.all_reduce_sum(first)) / run.world
        loss_sum += loss.detach() * len(idx)  # stays on the device: no sync per step
        losses[step] = loss.detach()
        seen += len(idx)
        if step % report_every == 0:
            # A NaN/inf loss stays in the sum: one look every ~2% of an epoch stops a diverged run
            # early (alone: under DDP every process checks the reduced loss at the epoch's end).
            if run.world == 1 and not bool(torch.isfinite(loss_sum)):
                overflow = overflowing_data(
                    (run.inputs, run.targets), run.device, run.start_loss,
                    (epoch, float(loss_sum), "training"),
                )  # fmt: skip
                raise overflow or _diverged(epoch, config, float(loss_sum), run.checkpoint_dir)
            _call(run.callbacks, "on_batch_end", epoch, step)
    seen_t = torch.tensor(float(seen), device=run.device, dtype=torch.float64)
    median = losses.median().double()  # each process's; their mean under DDP
    totals = distributed.all_reduce_sum(torch.stack([loss_sum.double(), seen_t, median]))
    return float(totals[0] / totals[1]), float(totals[2]) / run.world


def _step(run: _Run, idx: torch.Tensor, generator: torch.Generator, global_step: int, epoch: int):
    """One optimizer step on the samples ``idx``: zero_grad -> forward + loss -> backward -> step."""
    xb = take(run.inputs, idx, run.device).contiguous(memory_format=run.memory_format)
    tb = xb
    if run.targets is not run.inputs:
        tb = take(run.targets, idx, run.device).contiguous(memory_format=run.memory_format)
    config = run.config
    if config.schedule != "constant":
        for group in run.optimizer.param_groups:
            group["lr"] = lr_at(config, global_step, run.steps * config.epochs)
    run.optimizer.zero_grad(set_to_none=True)
    with run.autocast:
        loss = run.loss_fn(run.net, xb, tb, generator)
    loss.backward()
    try:
        run.optimizer.step()
    except RuntimeError as exc:  # Adam's step size itself beyond float range (an enormous lr)
        if "overflow" not in str(exc):
            raise
        raise _diverged(epoch, config, math.inf, run.checkpoint_dir, weights=True) from None
    return loss


def _check_finite(
    run: _Run, epoch: int, train: tuple[float, float], val_loss: float | None, history=()
) -> None:
    """A diverged run is an error: a non-finite loss or weights after the epoch, or a loss
    :data:`BLOWUP` times the one the run started from.

    ``train``: the epoch's mean and median batch loss. A few extreme rows (a logger's 65535 among
    readings of 21.3) keep their batches' losses high whatever the rate: the epoch's mean of 1e7
    was called a divergence that no lower rate cured. Weights that ran away raise the loss of
    most batches too: so a loss past :data:`BLOWUP` times the start is a divergence when the
    median batch loss ran away as well (past :data:`GROWTH` times the start), or on its own.
    An epoch's mean past :data:`BLOWUP` times the lowest of the epochs before it (``history``; at
    least the start's scale, so a loss that fell near 0 does not make ordinary noise a
    divergence) is one too, whatever its median: extreme rows weigh on every epoch's mean alike, while
    a mean of 1.5e9 after one of 15 (lr 20) was a few steps that ran away, and left the weights
    useless (a loss of 8000 to the end, reported as overfitting).
    """
    train_loss, typical = train
    val_ok = val_loss is None or math.isfinite(val_loss)
    if not math.isfinite(train_loss) or not val_ok:
        split, value = (
            ("training", train_loss) if not math.isfinite(train_loss) else ("validation", val_loss)
        )
        data = (run.inputs, run.targets) if split == "training" else run.validation
        overflow = overflowing_data(data, run.device, run.start_loss, (epoch, value, split))
        if overflow is not None:
            raise overflow
    if not math.isfinite(train_loss) or not val_ok or not _finite_weights(run.model):
        bad = train_loss if not math.isfinite(train_loss) else val_loss
        weights = math.isfinite(bad or 0.0)
        raise _diverged(
            epoch,
            run.config,
            bad,
            run.checkpoint_dir,
            weights=weights,
            history=history,
            start=run.start_loss,
        )
    if run.start_loss is None or not math.isfinite(run.start_loss):
        return
    # a likelihood's loss may start negative (|start|), and may fall far below zero as the model
    # fits (a Gaussian VAE's nats): only a loss running up is a blow-up. The floor of 1 keeps a
    # start near 0 (tiny data, no scaling) from calling a loss of 1e-5 diverged
    scale = max(abs(run.start_loss), 1.0)
    checks = [("training loss", typical)]  # most batches' loss past BLOWUP: diverged, whatever else
    if typical > GROWTH * scale:  # most batches' loss ran away too: so did the mean, or validation
        checks += [("training loss", train_loss), ("validation loss", val_loss)]
    for name, value in checks:
        if value is not None and value > BLOWUP * scale:
            raise _diverged(
                epoch, run.config, value, run.checkpoint_dir, history=history, start=run.start_loss,
                grew=f"the {name} grew to {value:.4g} from {run.start_loss:.4g} at the start",
            )  # fmt: skip
    lowest = min((float(r["train_loss"]) for r in history), default=math.inf)
    if train_loss > BLOWUP * max(lowest, scale):
        base = (
            f"{lowest:.4g} in an earlier epoch"
            if lowest >= scale
            else f"{run.start_loss:.4g} at the start"
        )
        raise _diverged(
            epoch, run.config, train_loss, run.checkpoint_dir, history=history, start=run.start_loss,
            grew=f"the training loss grew to {train_loss:.4g} from {base}",
        )  # fmt: skip


def _checkpoint(run: _Run, epoch: int, history: list[dict], stopping: _EarlyStopping) -> None:
    """A checkpoint after this epoch when it is due (one writer; the others wait for it)."""
    config = run.config
    due = (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs
    if run.checkpoint_dir is None or not due:
        return
    if distributed.is_main_process():
        save_checkpoint(
            run.checkpoint_dir,
            model=run.model,
            optimizer=run.optimizer,
            epoch=epoch + 1,
            history=history,
            extra={
                "stopping": stopping.state(),
                "unit": {"passes": config.passes, "min_epochs": config.min_epochs},
                "data": data_id(run),  # a resume on other data says so (resume._same_data)
            },
            extra_tensors=stopping.best_tensors(),
        )
    distributed.barrier()  # no process runs ahead of a checkpoint


class _EarlyStopping:
    """Stop after ``patience`` epochs without a better validation loss (never before
    ``min_epochs``); the best epoch's weights are kept. Its state goes into every checkpoint, so a
    resumed run stops where the uninterrupted one stops and keeps the same best weights."""

    def __init__(self, config: TrainConfig, *, watched: bool = True):
        # off without patience, or without a validation loss to watch (``watched``)
        self.patience = config.patience if watched else None
        self.min_epochs = config.min_epochs
        self.best, self.best_state, self.bad_epochs = math.inf, None, 0
        self.why_off = "patience=None" if config.patience is None else "no validation data"

    def update(self, epoch: int, val_loss: float | None, model: torch.nn.Module) -> bool:
        """Whether to stop after ``epoch`` (0-based)."""
        if self.patience is None or val_loss is None:
            return False
        if val_loss < self.best:
            self.best, self.bad_epochs = val_loss, 0
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return False
        self.bad_epochs += 1
        return self.should_stop(epoch)

    def should_stop(self, epoch: int) -> bool:
        """Whether the epochs without improvement so far end training after ``epoch`` (0-based)."""
        return (
            self.patience is not None
            and self.bad_epochs >= self.patience
            and epoch + 1 >= self.min_epochs
        )

    def state(self) -> dict[str, Any]:
        """The JSON part of the state (the best weights are :meth:`best_tensors`)."""
        best = None if self.best_state is None else self.best
        return {"best": best, "bad_epochs": self.bad_epochs}

    def best_tensors(self) -> dict[str, torch.Tensor]:
        return {f"best.{k}": v for k, v in (self.best_state or {}).items()}

    def restore(self, state: Any, tensors: dict[str, torch.Tensor], where: Any) -> None:
        """The state a checkpoint saved (none in one written before early stopping was kept)."""
        if state is None:
            return
        best, bad = (
            (state.get("best"), state.get("bad_epochs")) if isinstance(state, dict) else (0, -1)
        )
        best_state = {k[len("best.") :]: v for k, v in tensors.items() if k.startswith("best.")}
        ok_best = best is None or (isinstance(best, (int, float)) and not isinstance(best, bool))
        if not ok_best or isinstance(bad, bool) or not isinstance(bad, int) or bad < 0:
            raise RunFailure(
                f"{where}: the early-stopping state is damaged ({state!r}); "
                f"{start_again(Path(where))}"
            )
        if self.patience is None:  # off now: the weights it kept are not this run's to judge
            self._drop(best if best_state else None)
            return
        if best is not None and best_state:
            self.best, self.best_state = float(best), best_state
        self.bad_epochs = bad

    def _drop(self, best: Any) -> None:
        """Early stopping is off in a run resumed from one that watched it: the epochs the resumed
        run trains are judged by nothing, so its final weights are its last epoch's, as a run
        without early stopping ends (the checkpoint's best put back at the end threw every resumed
        epoch away, silently). Said when a best is dropped."""
        if best is not None:
            note(
                f"the checkpoint kept its best epoch's weights (validation loss {float(best):.6g}) "
                f"for early stopping, which is off in this fit ({self.why_off}): they are dropped, "
                f"and the final weights are the last epoch's",
                ("patience",),
            )

    def restore_best(self, model: torch.nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
