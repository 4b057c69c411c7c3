"""ECG5000 anomaly recipe (dense 140-32-16-8-16-32-140, min-max, MAE, Adam, batch 512): plain loop vs aekit.

    python benchmarks/bench_anomaly.py [--epochs 20] [--preset robust]

The plain loop is the TensorFlow tutorial's steps in PyTorch: the classic split, global min-max
scaling from the training data, training on the normal beats only, threshold = mean + std of the
training errors.
"""

from __future__ import annotations

import _common as C
import torch
from sklearn.metrics import accuracy_score, roc_auc_score
from torch import nn

import aekit
from aekit.data import ecg5000_classic_split
from aekit.models.init import init_weights
from aekit.recipes.anomaly import RECIPE


def plain_loop(train, test, epochs, batch_size, device) -> C.Result:
    torch.manual_seed(0)
    lo, hi = train.x.min(), train.x.max()
    x = torch.as_tensor((train.x[train.y == 1] - lo) / (hi - lo), device=device)
    xt = torch.as_tensor((test.x - lo) / (hi - lo), device=device)
    model = nn.Sequential(
        nn.Linear(140, 32),
        nn.ReLU(),
        nn.Linear(32, 16),
        nn.ReLU(),
        nn.Linear(16, 8),
        nn.ReLU(),
        nn.Linear(8, 16),
        nn.ReLU(),
        nn.Linear(16, 32),
        nn.ReLU(),
        nn.Linear(32, 140),
        nn.Sigmoid(),
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
                opt.zero_grad()
                loss = nn.functional.l1_loss(model(xb), xb)
                loss.backward()
                opt.step()
        res.seconds.append(t.seconds)
    with torch.no_grad():
        train_err = (model(x) - x).abs().mean(1).cpu().numpy()
        test_err = (model(xt) - xt).abs().mean(1).cpu().numpy()
    pred_anomaly = test_err > train_err.mean() + train_err.std()
    res.quality = {
        "accuracy": accuracy_score(test.y == 0, pred_anomaly),
        "roc_auc": roc_auc_score(test.y == 0, test_err),
    }
    res.peak_mb = C.peak_mb(device)
    return res


def aekit_run(train, test, epochs, batch_size, device, preset) -> C.Result:
    params = {
        **RECIPE.presets["recipe"],
        "epochs": epochs,
        "batch_size": batch_size,
        "device": str(device),
    }
    name = "aekit (recipe settings)"
    if preset:
        params = {**RECIPE.presets[preset], "device": str(device)}
        name = f"aekit --preset {preset}"
    det = aekit.AnomalyDetector(**params)
    C.reset_peak(device)
    normal = train.x[train.y == 1]
    det.fit(normal, validation_data=test.x)
    res = C.Result(name, len(det.history_), len(normal), [r["seconds"] for r in det.history_])
    m = det.evaluate(test.x, (test.y == 0).astype(int))
    res.quality = {"accuracy": m["accuracy"], "roc_auc": m["roc_auc"]}
    res.peak_mb = C.peak_mb(device)
    return res


def main() -> None:
    args = C.parse_args(__doc__.splitlines()[0], epochs=20, batch_size=512, preset="")
    device = C.device_of(args.device)
    train, test = ecg5000_classic_split()
    results = (
        [] if args.skip_plain else [plain_loop(train, test, args.epochs, args.batch_size, device)]
    )
    results.append(aekit_run(train, test, args.epochs, args.batch_size, device, args.preset))
    C.report(f"ECG5000 anomaly detection, batch {args.batch_size}", results, device)


if __name__ == "__main__":
    main()
