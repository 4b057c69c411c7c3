"""aekit.training.trainer.Trainer.say_unused: the run's options given to a fit that trains nothing."""

from __future__ import annotations

import numpy as np

import aekit

RNG = np.random.default_rng(0)


class Stop:
    def on_epoch_start(self, *args, **kwargs):
        raise ValueError("stopped")


def test_run_options_a_fit_does_not_use_are_said(tmp_path, caplog):
    """Notebook probe #2, #3: checkpoint_dir and callbacks given to a fit that trains no network (the
    series neighbours, the image bank), and the ssim network's epochs to the bank, did nothing,
    without a word."""
    series = np.sin(np.arange(600) / 10).astype(np.float32)
    caplog.clear()
    aekit.SeriesDetector(window=16).fit(series, checkpoint_dir=tmp_path / "c1", callbacks=[Stop()])
    assert "fit(checkpoint_dir=..., callbacks=...): method='neighbors' trains no network" in (
        caplog.text
    )
    assert not (tmp_path / "c1").exists()
    images = RNG.random((20, 1, 12, 12)).astype(np.float32)
    caplog.clear()
    det = aekit.ImageAnomalyDetector(epochs=7, lr=0.5, bank_size=64)
    det.fit(images, checkpoint_dir=tmp_path / "c2")
    assert "fit(checkpoint_dir=...): method='features' trains no network" in caplog.text
    assert "epochs, lr set the 'ssim' method's training" in caplog.text
    caplog.clear()
    aekit.SeriesDetector(window=16).fit(series)  # nothing given: nothing said
    aekit.ImageAnomalyDetector(bank_size=64).fit(images)
    assert "not used" not in caplog.text
