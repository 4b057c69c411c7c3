"""Denoising recipe (Fashion-MNIST, Gaussian 0.2, Conv 16/8 stride 2, Adam 1e-3, batch 32, MSE): plain loop vs aekit.

    python benchmarks/bench_denoise.py [--epochs 10] [--preset fast]

The plain loop is the pytorch/examples way: the noisy copy made once up front (as in the
tutorial), a DataLoader over (noisy, clean) pairs, Glorot init. aekit draws fresh noise for
every batch on the device and evaluates on one fixed seeded noisy copy of the test set. Keras
runs the tutorial's code where installed (benchmarks/peers.py; pythae has no denoiser); GFLOP/s
counts the conv layers' multiply-adds of a training step (3x the forward).
"""

from __future__ import annotations

import _common as C
import peers
import torch
from torch import nn

import aekit
from aekit.data import load_builtin
from aekit.models.conv import ConvAutoencoder, ConvConfig
from aekit.recipes.denoise import RECIPE


def noisy(x: torch.Tensor, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (x + 0.2 * torch.randn(x.shape, generator=g)).clamp(0, 1)


def plain_loop(x, x_test, epochs, batch_size, device) -> C.Result:
    torch.manual_seed(0)
    model = ConvAutoencoder(ConvConfig(in_channels=1)).to(device)  # the same network, Glorot init
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    pairs = torch.utils.data.TensorDataset(noisy(x, 1), x)
    loader = torch.utils.data.DataLoader(pairs, batch_size=batch_size, shuffle=True)
    res = C.Result("plain PyTorch loop", epochs, len(x))
    C.reset_peak(device)
    for _ in range(epochs):
        with C.Timer(device) as t:
            for xb, cb in loader:
                xb, cb = xb.to(device), cb.to(device)
                opt.zero_grad()
                loss = nn.functional.mse_loss(model(xb), cb)
                loss.backward()
                opt.step()
        res.seconds.append(t.seconds)
    with torch.no_grad():
        xt, nt = x_test.to(device), noisy(x_test, 2).to(device)
        res.quality["val_mse"] = nn.functional.mse_loss(model(nt), xt).item()
    res.peak_mb = C.peak_mb(device)
    return res


def aekit_run(x, x_test, epochs, batch_size, device, preset) -> C.Result:
    params = {**RECIPE.defaults, "epochs": epochs, "batch_size": batch_size, "device": str(device)}
    name = "aekit (recipe settings)"
    if preset:
        params = {**RECIPE.defaults, **RECIPE.presets[preset], "device": str(device)}
        name = f"aekit --preset {preset}"
    den = aekit.Denoiser(**params)
    C.reset_peak(device)
    den.fit(x.numpy(), validation_data=x_test.numpy())
    res = C.Result(name, len(den.history_), len(x), [r["seconds"] for r in den.history_])
    res.quality = {"val_mse": den.evaluate(x_test.numpy())["val_mse"]}
    first = next((r["epoch"] for r in den.history_ if r["val_loss"] <= 0.0071), None)
    if first is not None:
        res.quality["s_to_0.0071"] = sum(r["seconds"] for r in den.history_[:first])
    res.peak_mb = C.peak_mb(device)
    return res


def main() -> None:
    args = C.parse_args(__doc__.splitlines()[0], epochs=10, batch_size=32, preset="")
    device = C.device_of(args.device)
    x = torch.as_tensor(load_builtin("fashion-mnist", "train").x)
    x_test = torch.as_tensor(load_builtin("fashion-mnist", "test").x)
    results = (
        [] if args.skip_plain else [plain_loop(x, x_test, args.epochs, args.batch_size, device)]
    )
    results.append(aekit_run(x, x_test, args.epochs, args.batch_size, device, args.preset))
    if not args.skip_peers:
        keras = peers.keras_denoise(
            x.numpy(), x_test.numpy(), args.epochs, args.batch_size, args.threads
        )
        results += [keras] if keras is not None else []
    flops = C.training_flops(ConvAutoencoder(ConvConfig(in_channels=1)), x[:1])
    for r in results:
        r.flops_per_sample = r.flops_per_sample or flops
    C.report(f"denoising autoencoder, batch {args.batch_size}", results, device)


if __name__ == "__main__":
    main()
