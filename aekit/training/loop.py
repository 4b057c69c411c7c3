"""The one training loop every model family shares.

It reads top to bottom: for each epoch, a seeded shuffle; for each batch,
zero_grad -> forward + loss -> backward -> step; then validation, history and a
checkpoint. The data stays on the device as tensors and batches are index slices, so
there are no DataLoader round-trips, and the loss is summed on the device so there is
no host sync per step (one ``.item()`` per epoch).

Every epoch's random streams (shuffle, noise, reparameterisation) are seeded from
``(seed, epoch)``, so a run resumed from a checkpoint draws exactly what an
uninterrupted run draws and ends with the same weights on the CPU.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Protocol, Sequence

import torch

from ..errors import UsageError
from .checkpoint import has_checkpoint, load_checkpoint, save_checkpoint

logger = logging.getLogger(__name__)

# loss_fn(model, inputs, targets, generator) -> scalar mean loss of the batch.
# ``generator`` is a seeded torch.Generator on the data's device for noise and sampling.
LossFn = Callable[[torch.nn.Module, torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


@dataclass
class TrainConfig:
    epochs: int = 10  # passes over the training data
    batch_size: int = 32  # samples per optimizer step
    lr: float = 1e-3  # Adam's learning rate (peak rate under "onecycle")
    weight_decay: float = 0.0  # L2 penalty, Adam's coupled form
    schedule: str = "constant"  # "constant" or "onecycle" (warm-up then cosine decay, per step)
    seed: int = 0  # seeds the shuffle and every random draw of the loss
    patience: Optional[int] = None  # early stopping: epochs without val improvement; None = off
    eval_batch_size: int = 1024  # batch size for validation; bounds the activations' memory
    checkpoint_every: int = 1  # epochs between checkpoints when a checkpoint folder is given

    def validate(self) -> "TrainConfig":
        for name in ("epochs", "batch_size", "eval_batch_size", "checkpoint_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "epochs" else 1):
                raise UsageError(f"{name} must be a whole number >= {0 if name == 'epochs' else 1}, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise UsageError(f"lr must be a positive number, got {self.lr!r}")
        if self.schedule not in ("constant", "onecycle"):
            raise UsageError(f"schedule must be 'constant' or 'onecycle', got {self.schedule!r}")
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            raise UsageError(f"patience must be a whole number >= 1 or None, got {self.patience!r}")
        return self


class Callback(Protocol):
    """Optional hooks; the CLI uses them for progress bars. Every method is optional."""

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
def evaluate_loss(model: torch.nn.Module, loss_fn: LossFn, inputs: torch.Tensor, targets: torch.Tensor,
                  *, batch_size: int = 1024, seed: int = 0) -> float:
    """Mean of ``loss_fn`` over ``inputs`` in large batches (sample-weighted)."""
    was_training = model.training
    model.eval()
    generator = torch.Generator(device=inputs.device).manual_seed(seed)
    total = torch.zeros((), device=inputs.device, dtype=torch.float64)
    for start in range(0, len(inputs), batch_size):
        xb, tb = inputs[start:start + batch_size], targets[start:start + batch_size]
        total += loss_fn(model, xb, tb, generator).double() * len(xb)
    model.train(was_training)
    return float(total / max(1, len(inputs)))


def _call(callbacks: Sequence[object], hook: str, *args) -> None:
    for cb in callbacks:
        fn = getattr(cb, hook, None)
        if fn is not None:
            fn(*args)


def train(model: torch.nn.Module, loss_fn: LossFn, inputs: torch.Tensor, targets: torch.Tensor | None = None, *,
          config: TrainConfig, validation: tuple[torch.Tensor, torch.Tensor] | None = None,
          val_loss_fn: LossFn | None = None, checkpoint_dir: str | Path | None = None, resume: bool = False,
          callbacks: Sequence[object] = ()) -> list[dict]:
    """Train ``model`` in place with Adam; return the history (one dict per epoch).

    ``inputs``/``targets`` (targets default to inputs) and ``validation`` must already be
    on the model's device. ``val_loss_fn`` defaults to ``loss_fn``.
    """
    config.validate()
    targets = inputs if targets is None else targets
    val_loss_fn = val_loss_fn or loss_fn
    device = inputs.device
    n = len(inputs)
    if n == 0:
        raise UsageError("no training samples; expected at least one")
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps = math.ceil(n / config.batch_size)
    total_steps = steps * config.epochs

    history: list[dict] = []
    best, best_state, bad_epochs = math.inf, None, 0
    start_epoch = 0
    if resume and checkpoint_dir is not None and has_checkpoint(checkpoint_dir):
        state = load_checkpoint(checkpoint_dir, model=model, optimizer=optimizer)
        start_epoch, history = int(state["epoch"]), list(state["history"])
        logger.info("resuming from %s after epoch %d", checkpoint_dir, start_epoch)

    for epoch in range(start_epoch, config.epochs):
        _call(callbacks, "on_epoch_start", epoch, steps)
        model.train()
        t0 = time.perf_counter()
        # Seeded per epoch, so a resumed run draws the same batches and noise.
        shuffle = torch.Generator().manual_seed(epoch_seed(config.seed, epoch))
        order = torch.randperm(n, generator=shuffle).to(device)
        generator = torch.Generator(device=device).manual_seed(epoch_seed(config.seed, epoch, stream=1))
        loss_sum = torch.zeros((), device=device)
        report_every = max(1, steps // 50)
        for step in range(steps):
            idx = order[step * config.batch_size:(step + 1) * config.batch_size]
            xb = inputs[idx]
            tb = xb if targets is inputs else targets[idx]
            if config.schedule != "constant":
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(config, epoch * steps + step, total_steps)

            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model, xb, tb, generator)
            loss.backward()
            optimizer.step()

            loss_sum += loss.detach() * len(idx)  # stays on the device: no sync per step
            if step % report_every == 0:
                _call(callbacks, "on_batch_end", epoch, step)
        train_loss = float(loss_sum) / n  # the epoch's one host sync
        seconds = time.perf_counter() - t0  # training time; validation is not counted
        val_loss = None
        if validation is not None:
            val_loss = evaluate_loss(model, val_loss_fn, *validation, batch_size=config.eval_batch_size,
                                     seed=epoch_seed(config.seed, 0, stream=2))
        record = {"epoch": epoch + 1, "train_loss": train_loss, "val_loss": val_loss, "seconds": seconds}
        history.append(record)
        logger.info("epoch %d/%d train_loss=%.6g val_loss=%s", epoch + 1, config.epochs, train_loss, val_loss)

        stop = False
        if config.patience is not None and val_loss is not None:
            if val_loss < best:
                best, bad_epochs = val_loss, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_epochs += 1
                stop = bad_epochs >= config.patience
        if checkpoint_dir is not None and ((epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs):
            save_checkpoint(checkpoint_dir, model=model, optimizer=optimizer, epoch=epoch + 1, history=history)
        _call(callbacks, "on_epoch_end", record)
        if stop:
            logger.info("early stopping after epoch %d (best val_loss %.6g)", epoch + 1, best)
            break
    if best_state is not None:  # early stopping keeps the best epoch's weights
        model.load_state_dict(best_state)
    return history
