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

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

from ..errors import ArgumentTypeError, Diverged, UsageError
from . import distributed
from .checkpoint import has_checkpoint, load_checkpoint, save_checkpoint

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
    min_epochs: int = (
        0  # early stopping never stops before this many epochs (tiny data: an epoch is one step)
    )
    eval_batch_size: int = 1024  # batch size for validation; bounds the activations' memory
    checkpoint_every: int = 1  # epochs between checkpoints when a checkpoint folder is given
    precision: str = (
        "fp32"  # "fp32", or "bf16": bfloat16 autocast of the forward pass (weights stay fp32)
    )
    channels_last: bool = (
        True  # images (B, C, H, W) in channels-last memory (faster convs; same values)
    )

    def validate(self) -> TrainConfig:
        for name in (
            "epochs",
            "passes",
            "batch_size",
            "eval_batch_size",
            "checkpoint_every",
            "min_epochs",
        ):
            value = getattr(self, name)
            low = 0 if name in ("epochs", "min_epochs") else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise UsageError(f"{name} must be a whole number >= {low}, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise UsageError(f"lr must be a positive number, got {self.lr!r}")
        if self.schedule not in ("constant", "onecycle"):
            raise UsageError(f"schedule must be 'constant' or 'onecycle', got {self.schedule!r}")
        if self.precision not in PRECISIONS:
            raise UsageError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed < 2**63
        ):
            raise UsageError(f"seed must be a whole number in [0, 2**63), got {self.seed!r}")
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            raise UsageError(f"patience must be a whole number >= 1 or None, got {self.patience!r}")
        return self


def _take(data: Any, idx: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The rows ``idx`` of a device tensor (an index op on the device) or of a row store (read from disk)."""
    if isinstance(data, torch.Tensor):
        return data[idx]
    return torch.from_numpy(data.take(idx.cpu().numpy())).to(device, non_blocking=True)


def _slice(data: Any, start: int, stop: int, device: torch.device) -> torch.Tensor:
    if isinstance(data, torch.Tensor):
        return data[start:stop]
    return torch.from_numpy(data.rows(start, stop)).to(device, non_blocking=True)


def _data_device(data: Any, model: torch.nn.Module) -> torch.device:
    """Where batches go: the tensor's device, or the model's for a row store."""
    if isinstance(data, torch.Tensor):
        return data.device
    return next(model.parameters()).device


def _is_images(data: Any) -> bool:
    """(N, C, H, W) data, for which channels-last memory pays."""
    return (data.dim() if isinstance(data, torch.Tensor) else len(data.sample_shape) + 1) == 4


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

    def on_train_begin(
        self, epochs: int, steps: int
    ) -> None: ...  # the total epochs, and steps an epoch
    def on_epoch_start(self, epoch: int, steps: int) -> None: ...
    def on_batch_end(self, epoch: int, step: int) -> None: ...
    def on_epoch_end(self, record: dict) -> None: ...


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
    device = _data_device(inputs, model)
    rank, world = distributed.rank(), distributed.world_size()
    n = len(inputs)
    lo, hi = n * rank // world, n * (rank + 1) // world  # this process's contiguous slice
    generator = torch.Generator(device=device).manual_seed(seed + rank)
    totals = torch.zeros(2, device=device, dtype=torch.float64)  # (sum of losses, samples)
    for start in range(lo, hi, batch_size):
        stop = min(hi, start + batch_size)
        xb = _slice(inputs, start, stop, device)
        tb = xb if targets is inputs else _slice(targets, start, stop, device)
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


def _diverged(
    epoch: int,
    config: TrainConfig,
    value: float | None,
    checkpoint_dir: str | Path | None,
    *,
    weights: bool = False,
) -> Diverged:
    """The one-line error of a run whose loss or weights stopped being finite in ``epoch`` (0-based)."""
    what = "the weights became non-finite" if weights else f"the loss became {value}"
    # A tenth of the rate; from a rate far above any Adam setting (> 0.1), Adam's usual 1e-3 instead.
    lower = f"{config.lr / 10 if config.lr <= 0.1 else 1e-3:g}"
    kept = ""
    if checkpoint_dir is not None and has_checkpoint(checkpoint_dir):
        kept = f"; the last good checkpoint is kept: continue it with --resume --lr {lower}"
    return Diverged(
        f"training diverged in epoch {epoch + 1}: {what}; lower the learning rate (lr={config.lr:g}: "
        f"try --lr {lower}) or scale the data to a smaller range{kept}"
    )


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
    """
    config.validate()
    try:
        callbacks = list(callbacks or ())
    except TypeError:
        raise ArgumentTypeError(
            f"callbacks must be a list of callback objects, got {callbacks!r}"
        ) from None
    targets = inputs if targets is None else targets
    val_loss_fn = val_loss_fn or loss_fn
    device = _data_device(inputs, model)
    n = len(inputs)
    if n == 0:
        raise UsageError("no training samples; expected at least one")
    # Channels-last weights and batches let oneDNN's (CPU) and cuDNN's convolutions skip layout
    # conversions: the denoising recipe's epoch is ~10% shorter at batch 32 on 2 CPU cores.
    memory_format = (
        torch.channels_last
        if config.channels_last and _is_images(inputs)
        else torch.contiguous_format
    )
    model.to(memory_format=memory_format)
    # bf16 autocast runs the forward pass in bfloat16 where it is safe (convs, matmuls) and keeps the
    # weights, the optimizer and the reductions in fp32. It pays where matmuls dominate (GPUs, larger
    # models); for the recipes' tiny models on a 2-core CPU it is a wash.
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.precision == "bf16")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    pass_steps = math.ceil(n / config.batch_size)  # steps of one pass over the data
    steps = pass_steps * config.passes  # steps of an epoch
    total_steps = steps * config.epochs

    history: list[dict] = []
    best, best_state, bad_epochs = math.inf, None, 0
    start_epoch = 0
    if resume and checkpoint_dir is not None and has_checkpoint(checkpoint_dir):
        state = load_checkpoint(checkpoint_dir, model=model, optimizer=optimizer)
        start_epoch, history = int(state["epoch"]), list(state["history"])
        for group in (
            optimizer.param_groups
        ):  # a resumed run may change these (a lower lr after a divergence)
            group["lr"], group["weight_decay"] = config.lr, config.weight_decay
        logger.info("resuming from %s after epoch %d", checkpoint_dir, start_epoch)

    # One process: train ``model`` itself. Several: DDP averages the gradients of every step
    # (it also copies rank 0's weights to the others here, so all start equal).
    rank, world = distributed.rank(), distributed.world_size()
    net = model
    if distributed.init(device):
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    writes = distributed.is_main_process()

    _call(callbacks, "on_train_begin", config.epochs, steps)
    for epoch in range(start_epoch, config.epochs):
        _call(callbacks, "on_epoch_start", epoch, steps)
        net.train()
        t0 = time.perf_counter()
        # Seeded per epoch, so a resumed run draws the same batches and noise; the shuffle is
        # the same on every process, the noise differs (each process draws for its own rows).
        shuffle = torch.Generator().manual_seed(epoch_seed(config.seed, epoch))
        order = torch.cat(
            [torch.randperm(n, generator=shuffle) for _ in range(config.passes)]
        )  # (passes * n,)
        if isinstance(inputs, torch.Tensor):
            order = order.to(device)
        noise_seed = epoch_seed(config.seed, epoch, stream=1 + 1000 * rank)
        generator = torch.Generator(device=device).manual_seed(noise_seed)
        loss_sum = torch.zeros((), device=device)
        seen = 0
        report_every = max(1, steps // 50)
        for step in range(steps):
            done, within = divmod(step, pass_steps)  # passes done, step within this pass
            start = done * n + within * config.batch_size
            idx = order[
                start : min(start + config.batch_size, (done + 1) * n)
            ]  # a pass ends with its short batch
            if world > 1:
                idx = _shard(idx, rank, world)
            xb = _take(inputs, idx, device).contiguous(memory_format=memory_format)
            tb = (
                xb
                if targets is inputs
                else _take(targets, idx, device).contiguous(memory_format=memory_format)
            )
            if config.schedule != "constant":
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(config, epoch * steps + step, total_steps)

            optimizer.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(net, xb, tb, generator)
            loss.backward()
            try:
                optimizer.step()
            except (
                RuntimeError
            ) as exc:  # Adam's step size itself beyond float range (an enormous lr)
                if "overflow" not in str(exc):
                    raise
                raise _diverged(epoch, config, math.inf, checkpoint_dir, weights=True) from None

            loss_sum += loss.detach() * len(idx)  # stays on the device: no sync per step
            seen += len(idx)
            if step % report_every == 0:
                # A NaN/inf loss stays in the sum: one look every ~2% of an epoch stops a diverged run
                # early (alone: under DDP every process checks the reduced loss at the epoch's end).
                if world == 1 and not bool(torch.isfinite(loss_sum)):
                    raise _diverged(epoch, config, float(loss_sum), checkpoint_dir)
                _call(callbacks, "on_batch_end", epoch, step)
        totals = distributed.all_reduce_sum(
            torch.stack(
                [loss_sum.double(), torch.tensor(float(seen), device=device, dtype=torch.float64)]
            )
        )
        train_loss = float(totals[0] / totals[1])  # the epoch's one host sync
        seconds = time.perf_counter() - t0  # training time; validation is not counted
        val_loss = None
        if validation is not None:
            # The bare model: DDP's forward would sync buffers, and the slices may differ in batch count.
            val_loss = evaluate_loss(
                model,
                val_loss_fn,
                *validation,
                batch_size=config.eval_batch_size,
                seed=epoch_seed(config.seed, 0, stream=2),
            )
        if (
            not math.isfinite(train_loss)
            or (val_loss is not None and not math.isfinite(val_loss))
            or not _finite_weights(model)
        ):
            bad = train_loss if not math.isfinite(train_loss) else val_loss
            raise _diverged(epoch, config, bad, checkpoint_dir, weights=math.isfinite(bad or 0.0))
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

        stop = False
        if config.patience is not None and val_loss is not None:
            if val_loss < best:
                best, bad_epochs = val_loss, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_epochs += 1
                stop = bad_epochs >= config.patience and epoch + 1 >= config.min_epochs
        if checkpoint_dir is not None and (
            (epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs
        ):
            if writes:  # one writer; the others wait so that no process runs ahead of a checkpoint
                save_checkpoint(
                    checkpoint_dir,
                    model=model,
                    optimizer=optimizer,
                    epoch=epoch + 1,
                    history=history,
                )
            distributed.barrier()
        _call(callbacks, "on_epoch_end", record)
        if stop:
            logger.info("early stopping after epoch %d (best val_loss %.6g)", epoch + 1, best)
            break
    if best_state is not None:  # early stopping keeps the best epoch's weights
        model.load_state_dict(best_state)
    model.to(memory_format=torch.contiguous_format)  # as a loaded model is, so both predict alike
    return history
