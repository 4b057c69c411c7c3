"""The served series model: a p-value per step only where the detector has calibration scores."""

from __future__ import annotations

import numpy as np
import torch

import aekit
from aekit.serve.models import Series

from ..synthetic_series import sine_series

torch.set_num_threads(1)


def test_a_calibrated_series_run_serves_p_values_and_an_uncalibrated_one_does_not():
    x, _ = sine_series(1600, kind="spike", at=1400, seed=2)
    kw = dict(method="neighbors", device="cpu", threads=1)
    plain = Series("s", aekit.SeriesDetector(**kw).fit(x[:1000]), {})
    calibrated = Series("s", aekit.SeriesDetector(threshold="fpr:0.05", **kw).fit(x[:1000]), {})
    assert [o.name for o in plain._outputs()] == ["score", "label"]
    assert [o.name for o in calibrated._outputs()] == ["score", "label", "p_value"]
    out = calibrated.compute(x[1000:], ("score", "label", "p_value"))
    np.testing.assert_array_equal(out["p_value"], calibrated.est.p_values(x[1000:]))
    # the kept-back steps count as the windows they span: too few for 5%, p <= 1 / (m + 1) flags
    least = 1 / (calibrated.est.calibration_windows_ + 1)
    np.testing.assert_array_equal(out["p_value"] <= max(0.05, least), out["label"] == 1)


def test_the_latent_output_is_described_as_it_is_answered():
    """A conv encoder's code (2, 4, 4): the metadata said [-1, 32], the answers were (B, 2, 4, 4)."""
    from aekit.serve.models import Encoder

    from ..nets import ConvDecoder, ConvEncoder

    X = np.random.default_rng(0).random((16, 1, 8, 8), dtype=np.float32)
    ae = aekit.Autoencoder(encoder=ConvEncoder((1, 8, 8)), decoder=ConvDecoder((1, 8, 8)),
                           epochs=1, device="cpu", threads=1).fit(X)  # fmt: skip
    served = Encoder("conv", ae, {})
    latent = next(o for o in served._outputs() if o.name == "latent")
    answer = served.compute(X[:2], ("latent",))["latent"]
    assert list(latent.json()["shape"])[1:] == list(answer.shape[1:]) == [2, 4, 4]
