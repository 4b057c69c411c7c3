"""The new-user trials of issues 21 and 33: aekit on data it was never tuned on, run as a new user would.

Issue 33's part (``--part 33``) is described at :func:`make_data33`; issue 21's (``--part 21``) here.

The data (made here, seeded, from scikit-learn's bundled sets; nothing is downloaded):

* ``digits/0 ... 9/*.png``: scikit-learn's 1,797 digits as 8x8 grayscale PNGs in class sub-folders;
* ``digits8.npy`` and ``digits16.npy``: the same digits as ``(1797, 1, 8, 8)`` in [0, 1], and
  upscaled to 16x16;
* ``cancer.csv``: the breast-cancer table (569 rows, 30 raw features) with a ``patient_id`` and a
  ``diagnosis`` (B/M) column;
* ``photos/``: 300 RGB JPEG photos of 45x37 (width x height) pixels, seeded crops of scikit-learn's
  two sample photographs, each downscaled 2-4x so that they look like small natural photos.

Every step is a plain ``aekit`` command in a fresh process, from a plain environment (no AEKIT_DATA,
an empty cache folder), with stderr not a terminal. Figures that depend on the output's units are
measured here from what the commands write (``reconstruct``, ``denoise``, ``sample``), so "before"
and "after" compare alike. Run it with two checkouts to compare them in the same process::

    python benchmarks/new_user_trial.py --before /work/main --after .       # both, side by side
    python benchmarks/new_user_trial.py --after .                            # one checkout

Timings are printed, never asserted; the machine is shared, so treat them as taken under load.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
if not SHARED.is_dir():  # a worktree beside the main checkout
    SHARED = Path("/work/shared/datasets")


# ---- the data -----------------------------------------------------------------------------------


def make_data(folder: Path) -> None:
    """Write the trial's four datasets into ``folder`` (seeded; idempotent)."""
    from PIL import Image
    from sklearn.datasets import load_breast_cancer, load_digits, load_sample_images

    if (folder / "done").is_file():
        if not (folder / "digits8.npy").is_file():  # data made by an earlier version of this script
            np.save(folder / "digits8.npy", (load_digits().images / 16).astype(np.float32)[:, None])
        return
    folder.mkdir(parents=True, exist_ok=True)
    digits = load_digits()
    for i, (img, label) in enumerate(zip(digits.images, digits.target)):
        d = folder / "digits" / str(label)
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray((img / 16 * 255).round().astype(np.uint8), "L").save(d / f"{i:04d}.png")
    big = (
        np.stack(
            [
                np.asarray(
                    Image.fromarray((img / 16 * 255).astype(np.uint8), "L").resize(
                        (16, 16), Image.BILINEAR
                    )
                )
                for img in digits.images
            ]
        ).astype(np.float32)
        / 255
    )
    np.save(folder / "digits16.npy", big[:, None])  # (1797, 16, 16) -> (1797, 1, 16, 16)
    np.save(folder / "digits8.npy", (digits.images / 16).astype(np.float32)[:, None])

    cancer = load_breast_cancer()
    with open(folder / "cancer.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["patient_id", *[n.replace(" ", "_") for n in cancer.feature_names], "diagnosis"]
        )
        for i, (row, t) in enumerate(zip(cancer.data, cancer.target)):
            w.writerow([f"P{10000 + i}", *[f"{v:.6g}" for v in row], "B" if t == 1 else "M"])

    rng = np.random.default_rng(0)
    (folder / "photos").mkdir(exist_ok=True)
    for i in range(300):
        src = load_sample_images().images[i % 2]
        scale = rng.uniform(2, 4)
        w, h = int(45 * scale), int(37 * scale)
        y0, x0 = rng.integers(0, src.shape[0] - h), rng.integers(0, src.shape[1] - w)
        # Pillow: (width, height)
        crop = Image.fromarray(src[y0 : y0 + h, x0 : x0 + w]).resize((45, 37), Image.LANCZOS)
        crop.save(folder / "photos" / f"photo_{i:03d}.jpg", quality=90)
    (folder / "done").write_text("ok\n")


# ---- running aekit --------------------------------------------------------------------------------


def aekit(
    checkout: Path, home: Path, *args: str, env: dict | None = None
) -> tuple[int, str, str, float]:
    """``python -m aekit ARGS`` with ``checkout`` first on the path, a plain environment, stderr a pipe."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("AEKIT")}
    e.update(
        PYTHONPATH=str(checkout), XDG_CACHE_HOME=str(home / "cache"), HOME=str(home), **(env or {})
    )
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "aekit", *args],
        capture_output=True,
        text=True,
        env=e,
        cwd=home,
        timeout=1800,
    )
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t


def _metrics(run: Path) -> dict:
    try:
        return json.loads((run / "metrics.json").read_text())
    except (OSError, ValueError):
        return {}


def _pair(m: dict, a: str, b: str, digits: int = 1) -> str:
    """Two metrics as 'A / B'."""
    return " / ".join(f"{m.get(k, float('nan')):.{digits}f}" for k in (a, b))


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:110] if lines else ""


def _epoch_lines(stderr: str) -> int:
    return sum(1 for ln in stderr.splitlines() if ln.lstrip().lower().startswith("epoch"))


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _load_images(folder: Path, names: list[str]) -> np.ndarray:
    from PIL import Image

    return np.stack(
        [np.asarray(Image.open(folder / n).convert("RGB"), np.float32) / 255 for n in names]
    )


def trial(checkout: Path, data: Path, work: Path) -> dict[str, str]:
    """Run every step with ``checkout``'s aekit; return the figures, keyed by row name."""
    out: dict[str, str] = {}
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    runs = work / "runs"

    def train(name: str, *args: str, env: dict | None = None) -> Path | None:
        run = runs / name
        code, _, err, sec = aekit(checkout, work, "train", *args, "--out", str(run), env=env)
        out[f"{name}: train seconds"] = f"{sec:.1f}"
        out[f"{name}: per-epoch lines on stderr"] = str(_epoch_lines(err))
        warnings = _metrics(run).get("warnings")
        out[f"{name}: warnings"] = "none" if not warnings else " | ".join(w[:60] for w in warnings)
        if code != 0:
            out[f"{name}: error"] = _last_line(err)
            return None
        return run

    # 1. The breast-cancer table with the basic autoencoder (the README's kind of example).
    cancer = str(data / "cancer.csv")
    run = train(
        "table-basic",
        "basic",
        "--data",
        cancer,
        "--label-column",
        "diagnosis",
        "--id-column",
        "patient_id",
        "--latent-dim",
        "4",
    )
    if run:
        out["table-basic: val_mse (as reported)"] = (
            f"{_metrics(run).get('val_mse', float('nan')):.4g}"
        )
        code, _, err, _ = aekit(
            checkout,
            work,
            "reconstruct",
            str(run),
            "--input",
            cancer,
            "--output",
            str(work / "rec.csv"),
            "--label-column",
            "diagnosis",
            "--id-column",
            "patient_id",
        )
        if code == 0:
            header, rows = _read_csv(work / "rec.csv")
            _, raw = _read_csv(data / "cancer.csv")
            x = np.array([[float(v) for v in r[1:-1]] for r in raw])
            rec = np.array([[float(v) for v in r if _is_number(v)][-x.shape[1] :] for r in rows])
            rel = np.mean(((rec - x) ** 2).mean(0) / x.var(0))
            out["table-basic: reconstruction error / variance, raw units (all rows)"] = f"{rel:.3f}"
            out["table-basic: reconstruct's id column header"] = header[0]
        else:
            out["table-basic: reconstruct"] = _last_line(err)
        # a new file with one more column, the id column renamed
        cancer_extra = work / "cancer_extra.csv"
        hdr, rows = _read_csv(data / "cancer.csv")
        with open(cancer_extra, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["site", *hdr])
            w.writerows([["north", *r] for r in rows])
        code, _, err, _ = aekit(
            checkout,
            work,
            "encode",
            str(run),
            "--input",
            str(cancer_extra),
            "--output",
            str(work / "z_table.csv"),
        )
        if code == 0:
            header, rows = _read_csv(work / "z_table.csv")
            out["table-basic: encode a CSV with an extra column"] = (
                f"ok; header {','.join(header[:3])},..."
            )
        else:
            out["table-basic: encode a CSV with an extra column"] = "failed: " + _last_line(err)

    # 2. The anomaly detector on the same table, then `aekit score` with the id column.
    run = train(
        "table-anomaly",
        "anomaly",
        "--data",
        cancer,
        "--label-column",
        "diagnosis",
        "--normal-label",
        "B",
        "--id-column",
        "patient_id",
    )
    if run:
        m = _metrics(run)
        out["table-anomaly: roc_auc"] = f"{m.get('roc_auc', float('nan')):.3f}"
        code, _, err, _ = aekit(
            checkout,
            work,
            "score",
            str(run),
            "--input",
            cancer,
            "--output",
            str(work / "scores.csv"),
            "--id-column",
            "patient_id",
            "--label-column",
            "diagnosis",
        )
        if code == 0:
            header, _ = _read_csv(work / "scores.csv")
            out["table-anomaly: score's header"] = ",".join(header)
        else:
            out["table-anomaly: score"] = "failed: " + _last_line(err)

    # 3. The VAE on small digits .npy files (8x8 and 16x16), defaults only.
    for name in ("digits8", "digits16"):
        run = train(f"{name}-vae", "vae", "--data", str(data / f"{name}.npy"))
        if not run:
            continue
        out[f"{name}-vae: test_elbo / test_kl (nats)"] = _pair(
            _metrics(run), "test_elbo", "test_kl", 2
        )
        code, _, err, _ = aekit(
            checkout, work, "sample", str(run), "--n", "64", "--output", str(work / "s.npy")
        )
        if code == 0:
            s = np.load(work / "s.npy").reshape(64, -1)
            x = np.load(data / f"{name}.npy").reshape(1797, -1)
            out[f"{name}-vae: sample spread / data spread (0 = all alike)"] = (
                f"{s.std(0).mean() / x.std(0).mean():.3f}"
            )
        else:
            out[f"{name}-vae: sample"] = "failed: " + _last_line(err)
        (work / "s.npy").unlink(missing_ok=True)

    # 4. The denoiser on 300 small RGB photos, defaults only; then `aekit denoise` on noisy copies.
    run = train("photos-denoise", "denoise", "--data", str(data / "photos"))
    if run:
        m = _metrics(run)
        out["photos-denoise: val_psnr / noisy_psnr (dB)"] = _pair(m, "val_psnr", "noisy_psnr")
        from PIL import Image

        names = sorted(p.name for p in (data / "photos").glob("*.jpg"))
        clean = _load_images(data / "photos", names)
        noisy = np.clip(clean + 0.2 * np.random.default_rng(1).standard_normal(clean.shape), 0, 1)
        (work / "noisy").mkdir()
        for n, img in zip(names, noisy):
            png = work / "noisy" / n.replace(".jpg", ".png")
            Image.fromarray((img * 255).round().astype(np.uint8), "RGB").save(png)
        code, _, err, _ = aekit(
            checkout,
            work,
            "denoise",
            str(run),
            "--input",
            str(work / "noisy"),
            "--output",
            str(work / "denoised"),
        )
        if code == 0:
            den = _load_images(work / "denoised", [n.replace(".jpg", ".png") for n in names])
            noisy8 = _load_images(work / "noisy", [n.replace(".jpg", ".png") for n in names])

            def psnr(a):
                return 10 * np.log10(1 / np.mean((a - clean) ** 2))

            def colour(a):  # mean distance of each pixel from its gray: 0 for a gray image
                return np.abs(a - a.mean(-1, keepdims=True)).mean()

            out["photos-denoise: all 300, denoised / noisy PSNR (dB)"] = (
                f"{psnr(den):.1f} / {psnr(noisy8):.1f}"
            )
            out["photos-denoise: colour kept (denoised / clean)"] = (
                f"{colour(den) / colour(clean):.2f}"
            )
        else:
            out["photos-denoise: denoise"] = "failed: " + _last_line(err)

    # 5. The basic autoencoder on the digits folder (class sub-folders), then encode to CSV.
    run = train("digits-basic", "basic", "--data", str(data / "digits"))
    if run:
        out["digits-basic: val_mse"] = f"{_metrics(run).get('val_mse', float('nan')):.4g}"
        code, _, err, _ = aekit(
            checkout,
            work,
            "encode",
            str(run),
            "--input",
            str(data / "digits"),
            "--output",
            str(work / "z.csv"),
        )
        if code == 0:
            with open(work / "z.csv") as f:
                first = f.readline().strip()
            out["digits-basic: encode to CSV, first line"] = first[:50]
        else:
            out["digits-basic: encode"] = "failed: " + _last_line(err)
        out["digits-basic: colours in the latent map"] = str(
            _colours(run / "figures" / "latent_map.png")
        )

    # 6. A built-in dataset trained with AEKIT_DATA set (as `make demo` does), then used from a plain shell.
    if SHARED.is_dir():
        run = train(
            "mnist-vae",
            "vae",
            "--dataset",
            "mnist",
            "--epochs",
            "1",
            "--batch-size",
            "256",
            "--no-figures",
            env={"AEKIT_DATA": str(SHARED)},
        )
        if run:
            for cmd in (
                ["evaluate", str(run)],
                ["plot", str(run)],
                [
                    "interpolate",
                    str(run),
                    "--from",
                    "0",
                    "--to",
                    "1",
                    "--output",
                    str(work / "i.png"),
                ],
            ):
                code, _, err, sec = aekit(checkout, work, *cmd)
                out[f"mnist-vae: aekit {cmd[0]} without AEKIT_DATA"] = (
                    f"ok ({sec:.0f} s)" if code == 0 else "failed: " + _last_line(err)[:70]
                )
    return out


def _colours(png: Path) -> int:
    """Distinct hues among a figure's saturated pixels (1: one colour for all points; 10: one per class)."""
    import colorsys

    from PIL import Image

    if not png.is_file():
        return 0
    rgb = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3) / 255
    hues = [colorsys.rgb_to_hsv(*p) for p in rgb[(rgb.max(1) - rgb.min(1)) > 0.25]]
    bins, counts = np.unique([round(h * 36) % 36 for h, _, _ in hues], return_counts=True)
    return int((counts > 100).sum())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--before", type=Path, help="a checkout of aekit to compare against (e.g. /work/main)"
    )
    p.add_argument(
        "--after", type=Path, default=REPO, help="the checkout under test (default: this one)"
    )
    p.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "aekit-new-user-trial"
    )
    p.add_argument("--part", choices=("21", "33", "all"), default="all", help="which trial")
    args = p.parse_args()
    parts = []
    if args.part in ("21", "all"):
        make_data(args.work / "data")
        parts.append(("", trial, args.work / "data"))
    if args.part in ("33", "all"):
        from new_user_trial33 import make_data33, trial33

        make_data33(args.work / "data33")
        parts.append(("33-", trial33, args.work / "data33"))
    columns = {}
    for label, checkout in (("before", args.before), ("after", args.after)):
        if checkout is None:
            continue
        t = time.perf_counter()
        columns[label] = {}
        for prefix, run_trial, data in parts:
            columns[label].update(
                run_trial(checkout.resolve(), data, args.work / f"{prefix}{label}")
            )
        print(f"{label}: {checkout} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    rows = list(dict.fromkeys(k for c in columns.values() for k in c))
    print("| step: figure | " + " | ".join(columns) + " |")
    print("| --- | " + " | ".join("---" for _ in columns) + " |")
    for r in rows:
        print(f"| {r} | " + " | ".join(c.get(r, "") for c in columns.values()) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
