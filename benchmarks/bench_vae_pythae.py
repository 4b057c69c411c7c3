"""aekit's VAE and pythae's VAE with the same encoder and decoder modules, in one process (issue 34).

    pip install pythae     # not a dependency of aekit: this benchmark's only
    python benchmarks/bench_vae_pythae.py [--epochs 5] [--k 1000] [--n-iw 1000] [--variants vae,beta4,iw5]
        [--threads N] [--rounds R] [--free-bits F] [--skip-peers]

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

Threads: pythae trains on torch's threads (all cores), aekit on those it chooses (one beside busy
neighbours; docs/guide/scale.md); ``--threads N`` puts both on N. ``--rounds R`` then measures
seconds per epoch again in turns, one epoch of each library R times (the order swapped every round),
since on a shared machine the load changes between one library's epochs and the other's.
``--free-bits F`` sets aekit's ``free_bits`` (its default is 0.5 nats per latent dimension, which
pythae's objectives do not have; 0 gives pythae's objective exactly); ``--skip-peers`` runs aekit alone.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import statistics
import tempfile
import time

import _common as C
import numpy as np
import torch
from torch import nn

import aekit
from aekit.data import load_builtin
from aekit.estimators.vae import FREE_BITS

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


def fit_aekit(variant, modules, x, args, device, epochs):
    """aekit's VAE trained ``epochs`` on ``x`` from copies of ``modules``; its seconds per epoch."""
    params, *_ = VARIANTS[variant]
    encoder, decoder = (copy.deepcopy(m) for m in modules)
    vae = aekit.VAE(
        encoder=encoder,
        decoder=decoder,
        epochs=epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        schedule="constant",
        device=str(device),
        threads=args.threads,  # --threads N: both libraries on N threads (else aekit chooses its own)
        **params,
        free_bits=args.free_bits,
    )
    vae.fit(x)
    return vae, [r["seconds"] for r in vae.history_]


def run_aekit(variant, modules, x, x_test, args, device) -> C.Result:
    C.reset_peak(device)
    vae, seconds = fit_aekit(variant, modules, x, args, device, args.epochs)
    res = C.Result(f"aekit {variant}", args.epochs, len(x), seconds)
    figures = vae.evaluate(x_test, k=args.k, n_iw=args.n_iw, seed=0)
    res.quality = {"test_elbo": figures["test_elbo"], "nll_iw": figures["test_nll_iw"]}
    res.peak_mb = C.peak_mb(device)
    return res


def fit_pythae(variant, modules, x, args, device, epochs):
    """pythae's model trained ``epochs`` on ``x`` from copies of ``modules``; its seconds per epoch."""
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
            num_epochs=epochs,
            learning_rate=args.lr,
            per_device_train_batch_size=args.batch_size,
            optimizer_cls="Adam",
            no_cuda=device.type != "cuda",
        )
        data = BaseDataset(torch.as_tensor(x), torch.zeros(len(x)))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            BaseTrainer(model, data, training_config=config, callbacks=[clock]).train()  # quiet
    return model.to(device).eval(), clock.seconds


def run_pythae(variant, modules, x, x_test, args, device) -> C.Result:
    C.reset_peak(device)
    model, seconds = fit_pythae(variant, modules, x, args, device, args.epochs)
    res = C.Result(f"pythae {variant}", args.epochs, len(x), seconds)
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


def alternate(variant, modules, x, args, device) -> None:
    """Seconds per epoch measured in turns: one epoch of each library, ``--rounds`` times, the order
    swapped every round (pythae, aekit, aekit, pythae, ...), so that a change in the machine's load
    (other processes on the cores) falls on both alike; the median of each and of the ratios."""
    fits = {"pythae": fit_pythae, "aekit": fit_aekit}
    times = {name: [] for name in fits}
    for r in range(args.rounds):
        for name in list(fits) if r % 2 == 0 else list(fits)[::-1]:
            times[name] += fits[name](variant, modules, x, args, device, 1)[1]
    ratios = [a / p for a, p in zip(times["aekit"], times["pythae"])]
    med = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"{variant}, alternating single epochs ({args.rounds} rounds): s/epoch median pythae "
        f"{med['pythae']:.3f}, aekit {med['aekit']:.3f}; aekit / pythae median of the rounds' "
        f"ratios {statistics.median(ratios):.2f}x (each round: "
        + ", ".join(f"{p:.2f}/{a:.2f}" for p, a in zip(times["pythae"], times["aekit"]))
        + " s, pythae/aekit)"
    )


def main() -> None:
    args = C.parse_args(
        __doc__.splitlines()[0], epochs=5, batch_size=64, k=1000, n_iw=1000, lr=1e-3,
        variants="vae,beta4,iw5", rounds=0, free_bits=FREE_BITS,
    )  # fmt: skip
    device = C.device_of(args.device)
    x = load_builtin("binarized-mnist", "train").x.astype(np.float32)
    x_test = load_builtin("binarized-mnist", "test").x.astype(np.float32)
    torch.manual_seed(0)
    modules = (Encoder(), Decoder())  # one set of initial weights, copied into both
    for variant in args.variants.split(","):
        results = [] if args.skip_peers else [run_pythae(variant, modules, x, x_test, args, device)]
        results.append(run_aekit(variant, modules, x, x_test, args, device))
        C.report(
            f"{variant}: MLP VAE on binarized MNIST, batch {args.batch_size}, lr {args.lr}, "
            f"{args.epochs} epochs; NLL k={args.k} on {args.n_iw} test images; aekit's free_bits "
            f"{args.free_bits}, threads {args.threads or 'its own'}",
            results,
            device,
        )
        if args.rounds and not args.skip_peers:
            alternate(variant, modules, x, args, device)


if __name__ == "__main__":
    main()
