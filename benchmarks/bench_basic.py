"""Basic autoencoder (Fashion-MNIST, latent 64, Adam 1e-3, batch 32, MSE): plain loop vs aekit.

    python benchmarks/bench_basic.py [--epochs 10] [--hidden 256,128] [--preset fast]

The plain loop is the pytorch/examples way: a DataLoader over a TensorDataset, Glorot init
(the recipe's), Adam, MSE. aekit runs the same recipe with ``schedule="constant"``.
With ``--preset fast`` aekit runs the fast preset instead and reports time to quality.
Keras (the tutorial's code) and pythae (its ``AE`` and trainer, the same network) run too where
installed (benchmarks/peers.py); GFLOP/s counts the linear layers' multiply-adds of a training
step (3x the forward) against the CPU's peak, printed below the table.
"""

from __future__ import annotations

import _common as C
import peers
import torch
from torch import nn

import aekit
from aekit.data import load_builtin
from aekit.models.init import init_weights
from aekit.recipes.autoencoder import BASIC, STACKED


def plain_loop(x, x_test, hidden, epochs, batch_size, device) -> C.Result:
    torch.manual_seed(0)
    widths = [784, *hidden, 64]
    enc = [nn.Flatten()] + [
        m for a, b in zip(widths[:-1], widths[1:]) for m in (nn.Linear(a, b), nn.ReLU())
    ]
    back = widths[::-1]
    dec = [m for a, b in zip(back[:-2], back[1:-1]) for m in (nn.Linear(a, b), nn.ReLU())]
    model = nn.Sequential(
        *enc, *dec, nn.Linear(back[-2], 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28))
    )
    init_weights(model, "glorot")
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
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
                loss = nn.functional.mse_loss(model(xb), xb)
                loss.backward()
                opt.step()
        res.seconds.append(t.seconds)
    with torch.no_grad():
        res.quality["val_mse"] = nn.functional.mse_loss(
            model(x_test.to(device)), x_test.to(device)
        ).item()
    res.peak_mb = C.peak_mb(device)
    return res


def aekit_run(x, x_test, hidden, epochs, batch_size, device, preset) -> C.Result:
    params = dict(
        hidden=hidden, epochs=epochs, batch_size=batch_size, schedule="constant", device=str(device)
    )
    name = "aekit (recipe settings)"
    if preset == "fast":
        params.update((STACKED if hidden else BASIC).presets["fast"], hidden=hidden)
        name = "aekit --preset fast"
    ae = aekit.Autoencoder(**params)
    C.reset_peak(device)
    ae.fit(x.numpy(), validation_data=x_test.numpy())
    res = C.Result(name, len(ae.history_), len(x), [r["seconds"] for r in ae.history_])
    res.quality = {"val_mse": ae.evaluate(x_test.numpy())["val_mse"]}
    first = next((r["epoch"] for r in ae.history_ if r["val_loss"] <= 0.0089), None)
    if first is not None:
        res.quality["s_to_0.0089"] = sum(r["seconds"] for r in ae.history_[:first])
    res.peak_mb = C.peak_mb(device)
    return res


def main(default_hidden: str = "", title: str = "basic autoencoder") -> None:
    args = C.parse_args(
        __doc__.splitlines()[0], epochs=10, batch_size=32, hidden=default_hidden, preset=""
    )
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    device = C.device_of(args.device)
    x = torch.as_tensor(load_builtin("fashion-mnist", "train").x)
    x_test = torch.as_tensor(load_builtin("fashion-mnist", "test").x)
    results = (
        []
        if args.skip_plain
        else [plain_loop(x, x_test, hidden, args.epochs, args.batch_size, device)]
    )
    results.append(aekit_run(x, x_test, hidden, args.epochs, args.batch_size, device, args.preset))
    if not hidden and not args.skip_peers:
        results.append(peers.keras_basic(x.numpy(), x_test.numpy(), args.epochs, args.batch_size,
                                         args.threads))  # fmt: skip
        results.append(peers.pythae_ae(x.numpy(), x_test.numpy(), args.epochs, args.batch_size))
    results = [r for r in results if r is not None]
    tiny = aekit.Autoencoder(hidden=hidden, epochs=1, threads=1).fit(x[:64].numpy())
    flops = C.training_flops(tiny.model_, x[:1])
    for r in results:
        r.flops_per_sample = r.flops_per_sample or flops
    C.report(f"{title}, hidden={hidden or '()'}, batch {args.batch_size}", results, device)


if __name__ == "__main__":
    main()
