"""A tqdm progress bar for the shared training loop (a loop callback; terminals only)."""

from __future__ import annotations

import sys


class ProgressBar:
    """Shows one bar per epoch on stderr; the loop calls it every few steps."""

    def __init__(self, epochs: int | None = None):
        self.epochs = epochs  # the total; the loop says it at the start (epochs="auto" is resolved there)
        self.bar = None

    def on_train_begin(self, epochs: int, steps: int) -> None:
        self.epochs = epochs

    def on_epoch_start(self, epoch: int, steps: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{self.epochs}", unit="step", leave=False,
                        file=sys.stderr, dynamic_ncols=True)
        self._last = 0

    def on_batch_end(self, epoch: int, step: int) -> None:
        self.bar.update(step - self._last)
        self._last = step

    def on_epoch_end(self, record: dict) -> None:
        if self.bar is not None:
            self.bar.close()
        val = "" if record.get("val_loss") is None else f"  val_loss {record['val_loss']:.6g}"
        sys.stderr.write(f"epoch {record['epoch']}/{self.epochs}  train_loss {record['train_loss']:.6g}{val}"
                         f"  ({record['seconds']:.1f}s)\n")


def progress_callbacks(quiet: bool) -> list:
    """A progress bar when stderr is a terminal and ``quiet`` is off; otherwise nothing."""
    return [ProgressBar()] if not quiet and sys.stderr.isatty() else []
