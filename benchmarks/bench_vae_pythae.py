"""aekit's VAE and pythae's VAE with the same encoder and decoder modules, in one process (issue 34).

    pip install pythae     # not a dependency of aekit: this benchmark's only
    python benchmarks/bench_vae_pythae.py [--epochs 5] [--k 1000] [--n-iw 1000] [--variants vae,beta4,iw5]

Binarized MNIST, the same split, the same initial weights (one set of modules, copied into both),
the same epochs, batch size, Adam learning rate (constant) for both. Per variant: the plain VAE,
``beta=4`` (pythae's BetaVAE) and ``iw_samples=5`` (pythae's IWAE with 5 samples). Quality: the test
ELBO (one z per image, analytic KL) and the importance-weighted NLL with ``k`` samples on the first
``n_iw`` test images, each by its own library's estimator (aekit ``VAE.evaluate``, pythae
``get_nll``), in nats per image. Seconds per epoch: training only (pythae's from epoch callbacks).

The networks are an MLP 784-512-256-(mean, logvar of 16) and its mirror, subclassing pythae's
BaseEncoder/BaseDecoder and returning pythae's ModelOutput, which aekit takes as it is. The only
difference: pythae's Bernoulli loss takes probabilities, aekit's logits, so pythae's decoder ends in
a sigmoid (the same weights). Timings are printed, never asserted.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import tempfile
import time

import _common as C
import numpy as np
import torch
from torch import nn

import aekit
from aekit.data import load_builtin

try:
    from pythae.data.datasets import BaseDataset
    from pythae.models import IWAE, VAE, BetaVAE, BetaVAEConfig, IWAEConfig, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.trainers import BaseTrainer, BaseTrainerConfig
    from pythae.trainers.training_callbacks import TrainingCallback
except ImportError as exc:  # pragma: no cover - an optional comparison
    raise SystemExit(f"this benchmark needs pythae (pip install pythae): {exc}") from None

LATENT = 16
for _name in [n for n in logging.root.manager.loggerDict if n.startswith("pythae")]:
    logging.getLogger(_name).setLevel(logging.WARNING)  # its trainer logs every setting


class Encoder(BaseEncoder):
    """(B, 1, 28, 28) -> ModelOutput(embedding=mean, log_covariance=logvar), each (B, 16)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU()
        )
        self.mean, self.logvar = nn.Linear(256, LATENT), nn.Linear(256, LATENT)

    def forward(self, x):
        h = self.net(x)
        return ModelOutput(embedding=self.mean(h), log_covariance=self.logvar(h))


class Decoder(BaseDecoder):
    """(B, 16) -> ModelOutput(reconstruction=(B, 1, 28, 28)): logits, or probabilities for pythae."""

    def __init__(self, probabilities: bool = False):
        super().__init__()
        self.probabilities = probabilities
        self.net = nn.Sequential(
            nn.Linear(LATENT, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784)
        )

    def forward(self, z):
        out = self.net(z).reshape(-1, 1, 28, 28)
        return ModelOutput(reconstruction=torch.sigmoid(out) if self.probabilities else out)


class EpochClock(TrainingCallback):
    """Seconds of each pythae training epoch."""

    def __init__(self):
        self.seconds: list[float] = []

    def on_epoch_begin(self, training_config, **kwargs):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, training_config, **kwargs):
        self.seconds.append(time.perf_counter() - self.t0)


VARIANTS = {  # name -> (aekit VAE parameters, pythae model class, its config's extra fields)
    "vae": ({}, VAE, VAEConfig, {}),
    "beta4": ({"beta": 4.0}, BetaVAE, BetaVAEConfig, {"beta": 4.0}),
    "iw5": ({"iw_samples": 5}, IWAE, IWAEConfig, {"number_samples": 5}),
}


def run_aekit(variant, modules, x, x_test, args, device) -> C.Result:
    params, *_ = VARIANTS[variant]
    encoder, decoder = (copy.deepcopy(m) for m in modules)
    vae = aekit.VAE(
        encoder=encoder,
        decoder=decoder,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        schedule="constant",
        device=str(device),
        **params,
    )
    C.reset_peak(device)
    vae.fit(x)
    res = C.Result(f"aekit {variant}", args.epochs, len(x), [r["seconds"] for r in vae.history_])
    figures = vae.evaluate(x_test, k=args.k, n_iw=args.n_iw, seed=0)
    res.quality = {"test_elbo": figures["test_elbo"], "nll_iw": figures["test_nll_iw"]}
    res.peak_mb = C.peak_mb(device)
    return res


def run_pythae(variant, modules, x, x_test, args, device) -> C.Result:
    _, model_cls, config_cls, extra = VARIANTS[variant]
    encoder, decoder = (copy.deepcopy(m) for m in modules)
    decoder.probabilities = True  # pythae's "bce" takes probabilities
    model = model_cls(
        config_cls(input_dim=(1, 28, 28), latent_dim=LATENT, reconstruction_loss="bce", **extra),
        encoder=encoder,
        decoder=decoder,
    )
    clock = EpochClock()
    with tempfile.TemporaryDirectory() as out:
        config = BaseTrainerConfig(
            output_dir=out,
            num_epochs=args.epochs,
            learning_rate=args.lr,
            per_device_train_batch_size=args.batch_size,
            optimizer_cls="Adam",
            no_cuda=device.type != "cuda",
        )
        C.reset_peak(device)
        data = BaseDataset(torch.as_tensor(x), torch.zeros(len(x)))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            BaseTrainer(model, data, training_config=config, callbacks=[clock]).train()  # quiet
    model = model.to(device).eval()
    res = C.Result(f"pythae {variant}", args.epochs, len(x), clock.seconds)
    xt = torch.as_tensor(x_test).to(device)
    with torch.no_grad():
        torch.manual_seed(0)
        enc = model.encoder(xt)
        mean, logvar = enc.embedding, enc.log_covariance
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        probs = model.decoder(z)["reconstruction"].clamp(1e-7, 1 - 1e-7)
        log_px = (xt * probs.log() + (1 - xt) * (1 - probs).log()).flatten(1).sum(1)
        kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).sum(1)
        res.quality["test_elbo"] = float((log_px - kl).mean())
        torch.manual_seed(0)
        # get_nll returns the mean log p(x) (negative), despite its name
        res.quality["nll_iw"] = -float(model.get_nll(xt[: args.n_iw], n_samples=args.k))
    res.peak_mb = C.peak_mb(device)
    return res


def main() -> None:
    args = C.parse_args(
        __doc__.splitlines()[0], epochs=5, batch_size=64, k=1000, n_iw=1000, lr=1e-3, variants="vae,beta4,iw5"
    )  # fmt: skip
    device = C.device_of(args.device)
    x = load_builtin("binarized-mnist", "train").x.astype(np.float32)
    x_test = load_builtin("binarized-mnist", "test").x.astype(np.float32)
    torch.manual_seed(0)
    modules = (Encoder(), Decoder())  # one set of initial weights, copied into both
    for variant in args.variants.split(","):
        results = [
            run_pythae(variant, modules, x, x_test, args, device),
            run_aekit(variant, modules, x, x_test, args, device),
        ]
        C.report(
            f"{variant}: MLP VAE on binarized MNIST, batch {args.batch_size}, lr {args.lr}, "
            f"{args.epochs} epochs; NLL k={args.k} on {args.n_iw} test images",
            results,
            device,
        )


if __name__ == "__main__":
    main()
