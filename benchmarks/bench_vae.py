"""Convolutional VAE recipe (binarized MNIST, latent 2, Adam 1e-4, batch 32, ELBO): plain loop vs aekit.

    python benchmarks/bench_vae.py [--epochs 10] [--preset strong]

The plain loop trains the same network (Glorot init) with a DataLoader and the analytic-KL
negative ELBO written out inline; quality is the test ELBO in nats per image (higher is better).
Keras (TensorFlow's CVAE tutorial, its own Monte Carlo ELBO) and pythae (its ``VAE`` and trainer,
the same network) run too where installed (benchmarks/peers.py); GFLOP/s counts the conv and
linear layers' multiply-adds of a training step (3x the forward).
"""

from __future__ import annotations

import _common as C
import peers
import torch
import torch.nn.functional as F

import aekit
from aekit.data import load_builtin
from aekit.models.vae import ConvVAE, VAEConfig
from aekit.recipes.vae import RECIPE


def neg_elbo(model, x):
    mean, logvar = model.encode(x)
    z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()  # the reparameterization trick
    logits = model.decode(z)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).sum(1)
    return (rec + kl).mean()


def plain_loop(x, x_test, epochs, batch_size, device) -> C.Result:
    torch.manual_seed(0)
    model = ConvVAE(VAEConfig(latent_dim=2)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x), batch_size=batch_size, shuffle=True
    )
    res = C.Result("plain PyTorch loop", epochs, len(x))
    C.reset_peak(device)
    for _ in range(epochs):
        with C.Timer(device) as t:
            for (xb,) in loader:
                xb = xb.to(device)
                opt.zero_grad()
                loss = neg_elbo(model, xb)
                loss.backward()
                opt.step()
        res.seconds.append(t.seconds)
    with torch.no_grad():
        xt = x_test.to(device)
        res.quality["test_elbo"] = -sum(
            neg_elbo(model, xt[i : i + 1000]).item() * len(xt[i : i + 1000])
            for i in range(0, len(xt), 1000)
        ) / len(xt)
    res.peak_mb = C.peak_mb(device)
    return res


def aekit_run(x, x_test, epochs, batch_size, device, preset) -> C.Result:
    # the tutorial's settings (Adam 1e-4, constant), as the plain loop and the peers train
    params = {**RECIPE.presets["recipe"], "epochs": epochs, "batch_size": batch_size}
    params["device"] = str(device)
    name = "aekit (recipe settings)"
    if preset:
        params = {**RECIPE.presets[preset], "device": str(device)}
        name = f"aekit --preset {preset}"
    vae = aekit.VAE(**params)
    C.reset_peak(device)
    vae.fit(x.numpy(), validation_data=x_test.numpy())
    res = C.Result(name, len(vae.history_), len(x), [r["seconds"] for r in vae.history_])
    res.quality = {"test_elbo": float(vae.elbo(x_test.numpy()).mean())}
    res.peak_mb = C.peak_mb(device)
    return res


def main() -> None:
    args = C.parse_args(__doc__.splitlines()[0], epochs=10, batch_size=32, preset="")
    device = C.device_of(args.device)
    x = torch.as_tensor(load_builtin("binarized-mnist", "train").x)
    x_test = torch.as_tensor(load_builtin("binarized-mnist", "test").x)
    results = (
        [] if args.skip_plain else [plain_loop(x, x_test, args.epochs, args.batch_size, device)]
    )
    results.append(aekit_run(x, x_test, args.epochs, args.batch_size, device, args.preset))
    if not args.skip_peers:
        xs, ts = x.numpy(), x_test.numpy()
        results.append(peers.keras_vae(xs, ts, args.epochs, args.batch_size, args.threads))
        results.append(peers.pythae_vae(xs, ts, args.epochs, args.batch_size))
    results = [r for r in results if r is not None]
    flops = C.training_flops(ConvVAE(VAEConfig(latent_dim=2)), x[:1])
    for r in results:
        r.flops_per_sample = r.flops_per_sample or flops
    C.report(f"convolutional VAE, batch {args.batch_size}", results, device)


if __name__ == "__main__":
    main()
