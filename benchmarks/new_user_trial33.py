"""Issue 33's part of the new-user trial (run it through ``new_user_trial.py --part 33``).

Six kinds of data aekit was never tuned on, made here (seeded; nothing downloaded):

* ``users.csv``: a users table as an export gives it: ``user_id`` (U000001), ``signup_date``
  (ISO dates), ``plan`` and ``country`` (text), nine numeric columns driven by three hidden
  factors, empty cells in ``children`` and ``income``, and one typo'd entry (``4O`` for 40);
* ``mixed/``: 90 RGB photos in three sizes (48x40, 64x48, 80x60), crops of scikit-learn's photos;
* ``textures/CLASS/*.png``: 32x32 grayscale texture patches in six class folders (scikit-image's
  bundled textures when it is installed, else synthetic ones: gratings, checks, blobs, noise);
* ``weekly.csv``: eight weeks of hourly steps with a weekly and a daily rhythm and a ``timestamp``
  column, one anomalous day;
* ``traffic.csv``: hourly counts with heavy-tailed bursts (lognormal), a ``hour`` column;
* ``signals.csv``: 400 fixed-length signals (64 steps) with a ``label`` column (5% anomalous).

Each figure below is measured from what the commands write, so "before" and "after" compare alike.
The tables and series train with every default; the image runs pass ``--epochs`` (:data:`EPOCHS`)
so that the whole trial stays within minutes on a shared CPU (the VAE's default collapse shows at
40 passes already).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
from new_user_trial import _last_line, _metrics, _read_csv, aekit

EPOCHS = {"denoise": "8", "basic-images": "5", "vae": "40", "overfit": "150"}


def _users(folder: Path, rng: np.random.Generator) -> None:
    n = 600
    factors = rng.standard_normal((n, 3))
    mix = rng.standard_normal((3, 9))
    x = factors @ mix + 0.3 * rng.standard_normal((n, 9))  # rank 3 + noise
    names = [
        "age",
        "income",
        "children",
        "sessions",
        "minutes",
        "purchases",
        "returns",
        "tickets",
        "score",
    ]
    scale = np.array([12, 20000, 1, 30, 200, 5, 1, 2, 15])
    base = np.array([40, 50000, 2, 100, 600, 10, 2, 3, 50])
    values = x * scale + base
    plans, countries = ["basic", "pro", "team"], ["FR", "DE", "US", "JP", "BR"]
    with open(folder / "users.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "signup_date", "plan", "country", *names])
        for i in range(n):
            cells = [f"{v:.0f}" if k != 8 else f"{v:.2f}" for k, v in enumerate(values[i])]
            if rng.random() < 0.06:
                cells[2] = ""  # children: empty in the export
            if rng.random() < 0.03:
                cells[1] = ""  # income: not given
            if i == 16:
                cells[0] = "4O"  # a typo: letter O for zero
            day = np.datetime64("2022-01-01") + int(rng.integers(0, 900))
            w.writerow([f"U{i + 1:06d}", str(day), plans[i % 3], countries[i % 5], *cells])


def _photos(folder: Path, rng: np.random.Generator) -> None:
    from PIL import Image
    from sklearn.datasets import load_sample_images

    sources = load_sample_images().images
    (folder / "mixed").mkdir()
    for i in range(90):
        w, h = [(48, 40), (64, 48), (80, 60)][i % 3]
        src = sources[i % 2]
        s = rng.uniform(1.5, 3)
        cw, ch = int(w * s), int(h * s)
        y0, x0 = rng.integers(0, src.shape[0] - ch), rng.integers(0, src.shape[1] - cw)
        img = Image.fromarray(src[y0 : y0 + ch, x0 : x0 + cw]).resize((w, h), Image.LANCZOS)
        img.save(folder / "mixed" / f"img_{i:03d}.png")


def _texture_sources() -> list[np.ndarray]:
    """Grayscale texture images in [0, 1]: scikit-image's when installed, else synthetic ones."""
    try:
        from skimage import data as sk

        return [
            np.asarray(getattr(sk, n)(), np.float32).mean(-1) / 255
            if getattr(sk, n)().ndim == 3
            else np.asarray(getattr(sk, n)(), np.float32) / 255
            for n in ("brick", "grass", "gravel", "coins", "camera", "moon")
        ]
    except ImportError:
        yy, xx = np.mgrid[0:256, 0:256] / 256
        rng = np.random.default_rng(5)
        blobs = np.cumsum(np.cumsum(rng.standard_normal((256, 256)), 0), 1)
        return [
            0.5 + 0.4 * np.sin(2 * np.pi * 12 * xx),
            0.5 + 0.4 * np.sin(2 * np.pi * (9 * xx + 9 * yy)),
            ((np.floor(xx * 16) + np.floor(yy * 16)) % 2) * 0.8 + 0.1,
            (blobs - blobs.min()) / np.ptp(blobs),
            np.clip(0.5 + 0.2 * rng.standard_normal((256, 256)), 0, 1),
            0.5 + 0.4 * np.sin(2 * np.pi * 5 * yy) * np.sin(2 * np.pi * 5 * xx),
        ]


def _textures(folder: Path, rng: np.random.Generator) -> None:
    from PIL import Image

    for k, src in enumerate(_texture_sources()):
        d = folder / "textures" / f"class{k}"
        d.mkdir(parents=True)
        for i in range(60):
            y0, x0 = rng.integers(0, src.shape[0] - 32), rng.integers(0, src.shape[1] - 32)
            patch = (src[y0 : y0 + 32, x0 : x0 + 32] * 255).round().astype(np.uint8)
            Image.fromarray(patch, "L").save(d / f"{i:03d}.png")


def _series(folder: Path, rng: np.random.Generator) -> None:
    steps = 24 * 7 * 8
    t = np.arange(steps)
    weekly = (
        10
        + 3 * np.sin(2 * np.pi * t / 24)
        + 2 * (t // 24 % 7 >= 5)
        + 0.3 * rng.standard_normal(steps)
    )
    weekly[24 * 45 : 24 * 46] += 4 * np.sin(2 * np.pi * t[:24] / 6)  # one odd day
    start = np.datetime64("2024-01-01T00:00")
    with open(folder / "weekly.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "load"])
        w.writerows(
            [str(start + np.timedelta64(int(i), "h")), f"{v:.3f}"] for i, v in zip(t, weekly)
        )
    bursts = np.where(rng.random(steps) < 0.02, rng.lognormal(2, 2, steps), 1.0)  # heavy-tailed
    traffic = rng.poisson(200 + 150 * np.sin(2 * np.pi * t / 24) ** 2) * bursts
    with open(folder / "traffic.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["hour", "vehicles"])
        w.writerows([int(i), f"{v:.0f}"] for i, v in zip(t, traffic))


def _signals(folder: Path, rng: np.random.Generator) -> None:
    t = np.linspace(0, 1, 64)
    with open(folder / "signals.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", *[f"t{i}" for i in range(64)]])
        for i in range(400):
            bad = i % 20 == 0
            phase = rng.uniform(0, 0.1)
            x = np.sin(2 * np.pi * 3 * (t + phase)) + 0.1 * rng.standard_normal(64)
            if bad:
                x[rng.integers(10, 50) :][:8] += 2.5
            w.writerow(["bad" if bad else "ok", *[f"{v:.4f}" for v in x]])


def make_data33(folder: Path) -> None:
    """Write the six datasets into ``folder`` (seeded; made once)."""
    if (folder / "done").is_file():
        return
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(33)
    for make in (_users, _photos, _textures, _series, _signals):
        make(folder, rng)
    (folder / "done").write_text("ok\n")


# ---- the trial ------------------------------------------------------------------------------------


def _warnings(run: Path) -> str:
    w = _metrics(run).get("warnings") or []
    return "none" if not w else " | ".join(x[:70] for x in w)


def _notes(err: str) -> str:
    """aekit's own lines on stderr other than progress (what it left out, filled, warned)."""
    lines = [ln for ln in err.splitlines() if ln.startswith("aekit:")]
    return " | ".join(ln[:90] for ln in lines) or "none"


def _images_sizes(folder: Path) -> list[tuple[int, int]]:
    from PIL import Image

    return [Image.open(p).size for p in sorted(folder.glob("*.png"))]


def _keep_figure(run: Path, name: str, work: Path, tag: str) -> None:
    src = run / "figures" / name
    if src.is_file():
        (work / "figures").mkdir(exist_ok=True)
        shutil.copy(src, work / "figures" / f"{tag}-{name}")


def _pca_mse(csv_path: Path, k: int) -> float:
    """Held-out MSE of PCA with ``k`` components on the standardised numeric columns the run used."""
    from sklearn.decomposition import PCA

    header, rows = _read_csv(csv_path)
    cols = [
        i for i, h in enumerate(header) if h not in ("user_id", "signup_date", "plan", "country")
    ]

    def num(v: str) -> float:
        try:
            return float(v)
        except ValueError:
            return np.nan

    x = np.array([[num(r[i]) for i in cols] for r in rows])
    x = x[~np.isnan(x).any(1)]
    x = (x - x.mean(0)) / x.std(0)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))
    tr, te = x[idx[: int(0.8 * len(x))]], x[idx[int(0.8 * len(x)) :]]
    pca = PCA(k).fit(tr)
    return float(((pca.inverse_transform(pca.transform(te)) - te) ** 2).mean())


def _tables(checkout: Path, data: Path, work: Path, out: dict, train) -> None:
    users = data / "users.csv"
    for fam in ("basic", "stacked", "anomaly"):
        run, err = train(f"users-{fam}", fam, "--data", str(users), "--id-column", "user_id")
        out[f"users-{fam}: aekit lines at train"] = _notes(err)
        if run is None:
            continue
        _keep_figure(run, "reconstructions.png", work, f"users-{fam}")
        _keep_figure(run, "error_histogram.png", work, f"users-{fam}")
        if fam == "basic":
            code, _, err, _ = aekit(
                checkout,
                work,
                "encode",
                str(run),
                "--input",
                str(users),
                "--output",
                str(work / "z.csv"),
            )
            if code == 0:
                header, _ = _read_csv(work / "z.csv")
                k = sum(h.startswith("z") for h in header)
                out["users-basic: latent size (9 numeric columns)"] = str(k)
                mse = _metrics(run).get("val_mse", float("nan"))
                out["users-basic: val_mse / PCA's with as many components"] = (
                    f"{mse:.3g} / {_pca_mse(users, k):.3g}"
                )
            else:
                out["users-basic: encode"] = "failed: " + _last_line(err)
        if fam == "anomaly":
            code, _, err, _ = aekit(
                checkout,
                work,
                "score",
                str(run),
                "--input",
                str(users),
                "--output",
                str(work / "s.csv"),
            )
            if code == 0:
                header, rows = _read_csv(work / "s.csv")
                out["users-anomaly: score's header, rows"] = f"{','.join(header[:3])}; {len(rows)}"
            else:
                out["users-anomaly: score"] = "failed: " + _last_line(err)


def _images(checkout: Path, data: Path, work: Path, out: dict, train) -> None:
    from PIL import Image

    mixed = data / "mixed"
    for tag, extra in (("", ()), ("-64x48", ("--image-size", "64x48"))):
        run, err = train(
            f"mixed-denoise{tag}",
            "denoise",
            "--data",
            str(mixed),
            "--epochs",
            EPOCHS["denoise"],
            *extra,
        )
        if run is None:
            continue
        dst = work / f"den{tag}"
        code, _, err, _ = aekit(
            checkout, work, "denoise", str(run), "--input", str(mixed), "--output", str(dst)
        )
        if code == 0:
            same = _images_sizes(dst) == _images_sizes(mixed)
            modes = {Image.open(p).mode for p in dst.glob("*.png")}
            out[f"mixed-denoise{tag}: denoise writes each at its own size / modes"] = (
                f"{same} / {sorted(modes)}"
            )
        else:
            out[f"mixed-denoise{tag}: denoise"] = "failed: " + _last_line(err)
    run, err = train(
        "mixed-basic-64x48", "basic", "--data", str(mixed), "--image-size", "64x48",
        "--epochs", EPOCHS["basic-images"],
    )  # fmt: skip
    if run is not None:
        code, _, err, _ = aekit(
            checkout, work, "index", str(run), "--input", str(mixed), "--output", str(work / "ix")
        )
        out["mixed-basic-64x48: index without --image-size"] = (
            "ok" if code == 0 else "failed: " + _last_line(err)
        )
        if code == 0:
            code, _, err, _ = aekit(
                checkout,
                work,
                "neighbors",
                str(work / "ix"),
                "--query",
                str(mixed),
                "--output",
                str(work / "nb.csv"),
            )
            pngs = sorted(p.name for p in work.glob("nb*.png"))
            out["mixed-basic-64x48: neighbour figures for 90 queries"] = (
                f"{len(pngs)} file(s)" if code == 0 else "failed: " + _last_line(err)
            )
            for p in pngs[:2]:
                (work / "figures").mkdir(exist_ok=True)
                shutil.copy(work / p, work / "figures" / p)


def _textures_trial(checkout: Path, data: Path, work: Path, out: dict, train) -> None:
    tex = data / "textures"
    runs = [
        ("textures-vae", ("vae", "--data", str(tex))),
        (
            "textures-vae-collapsed",
            ("vae", "--data", str(tex), "--latent-dim", "1", "--beta", "1000"),
        ),
        (
            "photos-basic",
            (
                "basic",
                "--data",
                str(data / "mixed"),
                "--image-size",
                "32x32",
                "--latent-dim",
                "256",
            ),
        ),
    ]
    for name, args in runs:
        run, err = train(name, *args)
        if run is None:
            continue
        m = _metrics(run)
        if "vae" in name:
            out[f"{name}: test_kl (nats)"] = f"{m.get('test_kl', float('nan')):.2f}"
            dst = work / f"rec-{name}.npy"
            code, _, err, _ = aekit(
                checkout, work, "reconstruct", str(run), "--input", str(tex), "--output", str(dst)
            )
            if code == 0:
                r = np.load(dst).reshape(-1, 32 * 32)
                out[f"{name}: reconstructions' per-pixel std across inputs"] = (
                    f"{r.std(0).mean():.3f}"
                )
            else:
                out[f"{name}: reconstruct"] = "failed: " + _last_line(err)
            _keep_figure(run, "reconstructions.png", work, name)
        else:
            h = [json.loads(json.dumps(r)) for r in _history(run)]
            if h:
                out[f"{name}: last train / val loss"] = f"{h[-1]['train']:.4g} / {h[-1]['val']:.4g}"


def _history(run: Path) -> list[dict]:
    try:
        with open(run / "history.csv") as f:
            return [
                {"train": float(r["train_loss"]), "val": float(r["val_loss"] or "nan")}
                for r in csv.DictReader(f)
            ]
    except OSError:
        return []


def _series_trial(checkout: Path, data: Path, work: Path, out: dict, train) -> None:
    for name, time_col in (("weekly", "timestamp"), ("traffic", "hour")):
        path = data / f"{name}.csv"
        run, err = train(f"{name}-series", "series", "--data", str(path), "--time-column", time_col)
        if run is None:
            continue
        dst = work / f"{name}-scores.csv"
        code, _, err, _ = aekit(
            checkout,
            work,
            "score",
            str(run),
            "--input",
            str(path),
            "--time-column",
            time_col,
            "--output",
            str(dst),
        )
        if code == 0:
            header, rows = _read_csv(dst)
            flagged = np.mean(
                [r[header.index("is_anomaly")] in ("1", "True", "true") for r in rows]
            )
            out[f"{name}-series: score header / share of steps flagged"] = (
                f"{','.join(header)} / {flagged:.2f}"
            )
        else:
            out[f"{name}-series: score"] = "failed: " + _last_line(err)
        for fig in ("scores.png", "error_histogram.png"):
            _keep_figure(run, fig, work, f"{name}-series")
    run, err = train(
        "signals-anomaly",
        "anomaly",
        "--data",
        str(data / "signals.csv"),
        "--label-column",
        "label",
        "--normal-label",
        "ok",
    )
    if run is not None:
        out["signals-anomaly: roc_auc"] = f"{_metrics(run).get('roc_auc', float('nan')):.3f}"
        _keep_figure(run, "error_histogram.png", work, "signals-anomaly")
        _keep_figure(run, "reconstructions.png", work, "signals-anomaly")


def _small(checkout: Path, work: Path, out: dict) -> None:
    code, text, _, _ = aekit(checkout, work, "sample", "--help")
    out["aekit sample -n 16 accepted"] = "yes" if "-n N" in text else "no"
    readme = (checkout / "README.md").read_text()
    out["README names make install"] = "yes" if "make install" in readme else "no"


def trial33(checkout: Path, data: Path, work: Path) -> dict[str, str]:
    """Run issue 33's steps with ``checkout``'s aekit; the figures, keyed by row name."""
    out: dict[str, str] = {}
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)

    def train(name: str, *args: str):
        run = work / "runs" / name
        code, _, err, sec = aekit(checkout, work, "train", *args, "--out", str(run))
        out[f"{name}: train seconds (under load)"] = f"{sec:.0f}"
        out[f"{name}: warnings"] = _warnings(run) if code == 0 else "-"
        if code != 0:
            out[f"{name}: error"] = _last_line(err)
            return None, err
        return run, err

    for step in (_tables, _images, _textures_trial, _series_trial):
        step(checkout, data, work, out, train)
    _small(checkout, work, out)
    return out
