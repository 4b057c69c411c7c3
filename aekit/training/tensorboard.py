"""TensorBoard logs of a training run: a callback of the shared loop.

What it writes into ``log_dir`` (read with ``tensorboard --logdir DIR``):

* scalars per epoch: ``loss/train``, ``loss/val``, ``learning_rate`` (the schedule's rate at the
  epoch's last step) and ``seconds``;
* images every ``image_every`` epochs and after the last one: whatever the estimator draws
  (reconstructions under their originals, denoised images, VAE samples);
* at the end, the held-out latent vectors for TensorBoard's projector, with their labels and, for
  images, a sprite of the images themselves.

This module knows nothing of estimators: what to draw comes in as plain functions
(:meth:`TensorBoardLog.bind`), which the estimator gives it. TensorBoard itself is an optional
extra (``pip install 'aekit[tensorboard]'``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._io import readable
from ..errors import UsageError
from . import distributed

logger = logging.getLogger(__name__)

INSTALL_HINT = "TensorBoard logging needs the tensorboard package: pip install 'aekit[tensorboard]'"


def require_tensorboard() -> None:
    """Raise one clear line when the tensorboard package is missing (before any training starts)."""
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def check_log_dir(log_dir: Any) -> Path:
    """``log_dir`` as a Path, refused in one line when it cannot be a folder of event files: not a
    path, an existing file, under a file, or in a folder that cannot be written."""
    import os

    from ..errors import ArgumentTypeError

    if (
        isinstance(log_dir, bool)
        or not isinstance(log_dir, (str, os.PathLike))
        or not str(log_dir).strip()
    ):
        raise ArgumentTypeError(f"tensorboard: the log folder must be a path, got {log_dir!r}")
    path = Path(log_dir)
    if path.exists() and not path.is_dir():
        raise UsageError(f"tensorboard: {path} is a file; give a folder for the event files")
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(
            f"tensorboard: cannot write the event files in {path}: {parent} is not a writable "
            f"folder; give another folder"
        )
    return path


FIELD_BREAKS = str.maketrans("\t\r\n", "   ")  # metadata.tsv: one label, one field, one line


class TensorBoardLog:
    """A training-loop callback writing TensorBoard event files and a projector embedding.

    Parameters
    ----------
    log_dir : str or Path
        The folder of the event files (created).
    labels : sequence, optional
        One label per held-out sample the estimator embeds (class ids or names), shown in the projector.
    class_names : sequence of str, optional
        Names of integer labels (label ``i`` is shown as ``class_names[i]``).
    image_every : int, default 2
        Draw images every this many epochs (and after the last one).
    max_embed : int, default 2000
        Held-out samples embedded for the projector at most.

    Examples
    --------
    >>> est.fit(X, validation_data=V, tensorboard=TensorBoardLog("runs/tb", labels=y_val))   # doctest: +SKIP
    """

    def __init__(
        self,
        log_dir: str | Path,
        *,
        labels: Sequence[Any] | None = None,
        class_names: Sequence[str] | None = None,
        image_every: int = 2,
        max_embed: int = 2000,
    ):
        require_tensorboard()
        if isinstance(image_every, bool) or not isinstance(image_every, int) or image_every < 1:
            raise UsageError(f"image_every must be a whole number >= 1, got {image_every!r}")
        self.log_dir = check_log_dir(log_dir)
        self.labels = None if labels is None else list(labels)
        self.class_names = None if class_names is None else list(class_names)
        self.image_every = image_every
        self.max_embed = max_embed
        self.images: Callable[[], dict[str, np.ndarray]] | None = None
        self.embedding: Callable[[int], tuple[np.ndarray, np.ndarray | None]] | None = None
        self.lr: Callable[[int, int], float] | None = None
        self._writer = None
        self._epochs = 0
        self._steps = 0

    def bind(
        self,
        *,
        images: Callable[[], dict[str, np.ndarray]] | None = None,
        embedding: Callable[[int], tuple[np.ndarray, np.ndarray | None]] | None = None,
        lr: Callable[[int, int], float] | None = None,
    ) -> TensorBoardLog:
        """What to draw, given by the estimator.

        ``images()``: tag -> images (n, C, H, W) in [0, 1]. ``embedding(n)``: the first ``n`` held-out
        latent vectors (n, k) and, for images, the images (n, C, H, W) for the sprite.
        ``lr(step, total_steps)``: the learning rate at a global optimizer step.
        """
        self.images, self.embedding, self.lr = images, embedding, lr
        return self

    # ---- the loop's hooks ----------------------------------------------------------------------
    def _open(self):
        if self._writer is None and distributed.is_main_process():
            from torch.utils.tensorboard import SummaryWriter

            try:
                self.log_dir.mkdir(parents=True, exist_ok=True)
                self._writer = SummaryWriter(log_dir=str(self.log_dir))
            except OSError as exc:
                from .._io import write_failure

                raise write_failure(exc, self.log_dir) from None
        return self._writer

    def on_train_begin(self, epochs: int, steps: int) -> None:
        self._epochs, self._steps = epochs, steps
        self._open()

    def on_epoch_end(self, record: dict) -> None:
        writer = self._open()
        if writer is None:
            return
        epoch = int(record["epoch"])
        writer.add_scalar("loss/train", record["train_loss"], epoch)
        if record.get("val_loss") is not None:
            writer.add_scalar("loss/val", record["val_loss"], epoch)
        writer.add_scalar("seconds", record["seconds"], epoch)
        if self.lr is not None:
            writer.add_scalar(
                "learning_rate", self.lr(epoch * self._steps - 1, self._epochs * self._steps), epoch
            )
        if self.images is not None and (epoch % self.image_every == 0 or epoch == self._epochs):
            self._write_images(epoch)
        writer.flush()

    def _write_images(self, epoch: int) -> None:
        for tag, images in self.images().items():
            images = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
            self._writer.add_images(tag, images, epoch, dataformats="NCHW")

    def abandon(self) -> None:
        """After a failed or interrupted fit: the files closed as they are (no embedding of a model
        that did not finish); its writer's thread ended, which stayed alive for each failed fit."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(OSError):  # the fit's own error is the one to see
                writer.close()

    def close(self, epoch: int | None = None) -> None:
        """After training: the projector embedding of the final model, then close the files."""
        writer = self._open()
        if writer is None:
            return
        if self.embedding is not None:
            z, images = self.embedding(self.max_embed)
            z = np.asarray(z, dtype=np.float32).reshape(len(z), -1)  # (n, ...) -> (n, k)
            meta = None
            if self.labels is not None:
                meta = [self._label_name(v) for v in self.labels[: len(z)]]
                if len(meta) < len(z):
                    meta = None  # labels of another length than the embedding: leave them out
            label_img = None
            if images is not None and np.ndim(images) == 4:
                label_img = np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0)
                if label_img.shape[1] not in (1, 3):
                    label_img = None  # the sprite takes grayscale or RGB images only
            import torch

            writer.add_embedding(
                torch.from_numpy(z),
                metadata=meta,
                label_img=None if label_img is None else torch.from_numpy(label_img),
                global_step=epoch if epoch is not None else self._epochs,
                tag="latent",
            )
        writer.flush()
        writer.close()
        self._writer = None
        logger.info("TensorBoard logs in %s (tensorboard --logdir %s)", self.log_dir, self.log_dir)

    def _label_name(self, value: Any) -> str:
        """A label as one field of the projector's metadata.tsv: a tab or line break in it made
        more lines than vectors (48 for 40), which the projector refuses (interop probe 58 #5)."""
        name = str(value)
        if self.class_names is not None:
            with contextlib.suppress(ValueError, TypeError, IndexError):
                name = str(self.class_names[int(value)])
        return readable(name).translate(FIELD_BREAKS)  # metadata.tsv is strict UTF-8
