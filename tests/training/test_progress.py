"""Progress: a line per epoch off a terminal, silence at verbose=0, long passes reported, bad verbose refused."""

from __future__ import annotations

import io

import numpy as np
import pytest

from aekit.errors import UsageError
from aekit.training import progress
from aekit.training.progress import Pass, TrainingProgress, check_verbose


def _records(n):
    return [
        {"epoch": e, "train_loss": 1.0 / e, "val_loss": 2.0 / e, "seconds": 0.5}
        for e in range(1, n + 1)
    ]


def _run(cb, n):
    cb.on_train_begin(n, 4)
    for r in _records(n):
        cb.on_epoch_start(r["epoch"] - 1, 4)
        cb.on_batch_end(r["epoch"] - 1, 0)
        cb.on_epoch_end(r)


def test_verbose_2_writes_one_line_per_epoch_with_losses_and_seconds():
    out = io.StringIO()
    _run(TrainingProgress(2, stream=out), 3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert (
        lines[0].startswith("epoch 1/3") and "train_loss 1" in lines[0] and "val_loss 2" in lines[0]
    )
    assert lines[0].endswith("(0.5s)")


def test_verbose_1_off_a_terminal_writes_lines_at_most_one_a_second_and_always_the_last(
    monkeypatch,
):
    out = io.StringIO()  # not a terminal
    _run(TrainingProgress(1, stream=out), 5)
    lines = out.getvalue().splitlines()
    assert (
        lines[0].startswith("epoch 1/5") and lines[-1].startswith("epoch 5/5") and len(lines) == 2
    )
    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    out = io.StringIO()
    _run(TrainingProgress(1, stream=out), 5)
    assert len(out.getvalue().splitlines()) == 5


@pytest.mark.parametrize("bad", [3, -1, "2", 1.5])
def test_bad_verbose_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="verbose"):
        check_verbose(bad)


def test_a_short_pass_is_silent_a_long_one_reports(monkeypatch):
    out = io.StringIO()
    with Pass(100, "scoring", verbose=1, stream=out) as p:
        p.update(100)
    assert out.getvalue() == ""
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.0)
    out = io.StringIO()
    with Pass(100, "scoring", unit="rows", verbose=1, stream=out) as p:
        p.update(40)
        p.update(60)
    assert out.getvalue().splitlines() == [
        "scoring: 40/100 rows (0s)",
        "scoring: 100/100 rows (0s)",
    ]
    out = io.StringIO()
    with Pass(None, "scoring", verbose=0, stream=out) as p:
        p.update(10)
    assert out.getvalue() == ""


def test_estimator_verbose_prints_epochs_and_zero_is_silent(capsys):
    import aekit

    X = np.random.default_rng(0).random((64, 6), dtype=np.float32)
    aekit.Autoencoder(latent_dim=2, epochs=2, verbose=2, device="cpu").fit(X)
    err = capsys.readouterr().err.splitlines()
    assert [e.split()[1] for e in err] == ["1/2", "2/2"]
    aekit.Autoencoder(latent_dim=2, epochs=2, verbose=0, device="cpu").fit(X)
    assert capsys.readouterr().err == ""
    with pytest.raises(UsageError, match="verbose"):
        aekit.Denoiser(verbose=5).fit(np.zeros((4, 1, 8, 8), np.float32))


class _Full(io.StringIO):
    """A stream on a full disk: every write and flush fails with ENOSPC."""

    def write(self, text):
        raise OSError(28, "No space left on device")

    def flush(self):
        raise OSError(28, "No space left on device")


def test_a_failing_stream_loses_the_lines_not_the_training(monkeypatch):
    """Probe 62 env #2: a full log disk (ENOSPC) raised out of the epoch's line and stopped the
    training; a pass over data likewise."""
    _run(TrainingProgress(2, stream=_Full()), 3)
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.0)
    with Pass(10, "scoring", verbose=1, stream=_Full()) as p:
        p.update(10)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_tqdm_variable_it_cannot_read_gives_lines_not_a_failure(monkeypatch):
    """Probe 62 env #1: TQDM_NCOLS=abc (or TQDM_MININTERVAL=x) on a terminal failed tqdm's import,
    and with it the training, as "internal error"; the progress is said in lines instead."""
    import sys

    for name in [m for m in sys.modules if m.partition(".")[0] == "tqdm"]:
        monkeypatch.delitem(sys.modules, name)  # imported again, under the variable
    monkeypatch.setenv("TQDM_NCOLS", "abc")
    out = _Terminal()
    _run(TrainingProgress(1, stream=out), 2)
    assert [line.split()[:2] for line in out.getvalue().splitlines()] == [
        ["epoch", "1/2"],
        ["epoch", "2/2"],
    ]
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.0)
    with Pass(10, "scoring", verbose=1, stream=out) as p:
        p.update(10)
    assert out.getvalue().splitlines()[-1].startswith("scoring: 10/10 samples")
