"""Progress for people watching: training epochs, and long passes over data (evaluation, scoring).

``verbose`` has Keras' and scikit-learn's meaning: 0 is silent; 1 is a progress bar when the
stream is a terminal and otherwise a line per epoch, at most one a second (a log file, CI, ``nohup``, ``make demo
2>log``); 2 is one line per epoch, always. Lines go to stderr, so results on stdout stay clean.

:class:`TrainingProgress` is a callback of the shared loop (``on_train_begin``, ``on_epoch_start``,
``on_batch_end``, ``on_epoch_end``); the estimators' ``verbose`` and the CLI both use it.
:class:`Pass` reports a long pass over samples (``aekit evaluate`` of a VAE, scoring a big file); it
stays silent for passes shorter than :data:`QUIET_SECONDS`, so quick calls print nothing.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from ..errors import UsageError

QUIET_SECONDS = 2.0  # a pass that ends sooner prints nothing
LINE_EVERY = 1.0  # at most one line a second when epochs are shorter (the last epoch always prints)
PASS_LINE_EVERY = 10.0  # seconds between the lines of a long pass when the stream is not a terminal


def check_verbose(value: Any) -> int:
    """``verbose`` as 0, 1 or 2 (bools count as 0/1), else a one-line UsageError."""
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, int) or value not in (0, 1, 2):
        raise UsageError(
            f"verbose must be 0 (silent), 1 (progress bar, or a line per epoch off a terminal) "
            f"or 2 (a line per epoch), got {value!r}"
        )
    return value


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def _tqdm(**kwargs: Any) -> Any:
    """A tqdm bar, or None where tqdm cannot be imported: a TQDM_* variable it cannot read
    (``TQDM_NCOLS=abc``) failed its import, and with it the training, as "internal error", as did
    tqdm not installed (probe 64 packaging #2); the progress is then said in lines, as off a
    terminal."""
    try:
        from tqdm import tqdm
    except (ImportError, ValueError):
        return None
    return tqdm(**kwargs)


def _say(stream: IO[str], line: str) -> None:
    """Write ``line`` to ``stream``; a stream that fails (a full log disk, a device error, a log
    pipe gone) loses the line, not the training or the pass it tells of."""
    try:
        stream.write(line)
        stream.flush()
    except OSError:
        pass


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class TrainingProgress:
    """A loop callback that shows training progress on ``stream`` (default: stderr).

    Parameters
    ----------
    verbose : {1, 2}
        1: a bar per epoch on a terminal, otherwise a line per epoch (at most one a second); 2: a line
        per epoch, always.
    stream : file, optional
        Where to write (default ``sys.stderr``, looked up when training starts).

    Examples
    --------
    >>> from aekit.training.progress import TrainingProgress
    >>> ae = aekit.Autoencoder(epochs=3).fit(X, callbacks=[TrainingProgress(2)])   # doctest: +SKIP
    epoch 1/3  train_loss 0.0612  (0.4s)
    """

    def __init__(self, verbose: int = 1, stream: IO[str] | None = None):
        self.verbose = check_verbose(verbose)
        self.stream = stream
        self.epochs: int | None = None
        self._bar = None
        self._last_line = -float("inf")

    def _out(self) -> IO[str]:
        return self.stream if self.stream is not None else sys.stderr

    def on_train_begin(self, epochs: int, steps: int) -> None:
        self.epochs = epochs  # epochs="auto" is resolved by now
        self.use_bar = self.verbose == 1 and _is_terminal(self._out())

    def on_epoch_start(self, epoch: int, steps: int) -> None:
        if not getattr(self, "use_bar", False):
            return
        self._bar = _tqdm(
            total=steps,
            desc=f"epoch {epoch + 1}/{self.epochs}",
            unit="step",
            leave=False,
            file=self._out(),
            dynamic_ncols=True,
        )
        self.use_bar = self._bar is not None
        self._step = 0

    def on_batch_end(self, epoch: int, step: int) -> None:
        if self._bar is not None:
            self._bar.update(step - self._step)
            self._step = step

    def on_epoch_end(self, record: dict) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        now = time.monotonic()
        last = self.epochs is not None and record["epoch"] >= self.epochs
        if (
            self.verbose == 1
            and not getattr(self, "use_bar", False)
            and not last
            and record["epoch"] > 1
            and now - self._last_line < LINE_EVERY
        ):
            return  # short epochs off a terminal: a line a second is enough to read
        self._last_line = now
        losses = "  ".join(
            f"{k} {_fmt(v)}"
            for k, v in record.items()
            if k not in ("epoch", "seconds") and v is not None
        )
        _say(
            self._out(),
            f"epoch {record['epoch']}/{self.epochs}  {losses}  ({record['seconds']:.1f}s)\n",
        )


class Pass:
    """Progress of one long pass over ``total`` items (None: unknown): silent unless it lasts over
    :data:`QUIET_SECONDS`.

    Then a bar on a terminal, otherwise a line every :data:`PASS_LINE_EVERY` seconds and one at the end.
    ``verbose=0`` is always silent.

    Examples
    --------
    >>> with Pass(1000, "log-likelihood", unit="images", verbose=1) as p:   # doctest: +SKIP
    ...     for batch in batches:
    ...         p.update(len(batch))
    """

    def __init__(
        self,
        total: int | None,
        desc: str,
        *,
        unit: str = "samples",
        verbose: int = 1,
        stream: IO[str] | None = None,
    ):
        self.total, self.desc, self.unit = (None if total is None else int(total)), desc, unit
        self.verbose = check_verbose(verbose)
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.t0 = time.monotonic()
        self._bar = None
        self._last = self.t0
        self._spoke = False
        self._no_bar = False

    def update(self, n: int) -> None:
        self.done += int(n)
        if not self.verbose:
            return
        now = time.monotonic()
        if now - self.t0 < QUIET_SECONDS:
            return
        if _is_terminal(self.stream) and self._open_bar(n) is not None:
            self._bar.update(int(n))
        elif now - self._last >= PASS_LINE_EVERY or not self._spoke:
            self._line(now)

    def _open_bar(self, n: int) -> Any:
        """The pass's bar, opened at its first update (None where tqdm cannot be had: lines)."""
        if self._bar is None and not self._no_bar:
            self._bar = _tqdm(
                total=self.total,
                initial=self.done - int(n),
                desc=self.desc,
                unit=f" {self.unit}",
                leave=False,
                file=self.stream,
                dynamic_ncols=True,
            )
            self._no_bar = self._bar is None
        return self._bar

    def _line(self, now: float) -> None:
        self._last, self._spoke = now, True
        of = "" if self.total is None else f"/{self.total}"
        _say(self.stream, f"{self.desc}: {self.done}{of} {self.unit} ({now - self.t0:.0f}s)\n")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._spoke and (self.total is None or self.done >= self.total):
            self._line(time.monotonic())

    def __enter__(self) -> Pass:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
