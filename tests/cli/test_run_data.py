"""After a run trained with $AEKIT_DATA set (as `make demo` does), evaluate, plot and interpolate work
from a plain shell: the run recorded its data root. --data-dir still overrides it."""

from __future__ import annotations

import json

import numpy as np

from aekit.cli.main import main


def test_commands_on_a_builtin_run_find_its_data_without_aekit_data(
    tmp_path, shared_data, monkeypatch, capsys
):
    run = tmp_path / "basic"
    monkeypatch.setenv("AEKIT_DATA", str(shared_data))
    assert (
        main(
            [
                "train",
                "basic",
                "--dataset",
                "mnist",
                "--epochs",
                "1",
                "--batch-size",
                "4096",
                "--latent-dim",
                "2",
                "--no-figures",
                "--quiet",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert json.loads((run / "config.json").read_text())["data"]["data_dir"] == str(
        shared_data.resolve()
    )

    import aekit
    from aekit.recipes import DataSpec

    vae = aekit.VAE(latent_dim=2, epochs=0, device="cpu").fit(np.zeros((2, 1, 28, 28), np.float32))
    vae.save(
        tmp_path / "vae",
        extra={"family": "vae", "seed": 0, "data": DataSpec(dataset="mnist").to_json()},
    )

    # a plain shell: no $AEKIT_DATA and an empty user cache, so the data is found only where the runs say
    monkeypatch.delenv("AEKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0 and "val_mse" in capsys.readouterr().out
    assert (
        main(["plot", str(run), "--quiet"]) == 0 and (run / "figures" / "latent_map.png").is_file()
    )
    assert (
        main(
            [
                "interpolate",
                str(tmp_path / "vae"),
                "--from",
                "0",
                "--to",
                "1",
                "--steps",
                "3",
                "--output",
                str(tmp_path / "i.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "i.npy").shape == (3, 1, 28, 28)
    capsys.readouterr()
    # --data-dir overrides the recorded root: an empty one is where it looks (and fails, offline)
    monkeypatch.setattr(
        "aekit.data.download.download_resource",
        lambda *a, **k: (_ for _ in ()).throw(OSError("offline")),
    )
    assert main(["evaluate", str(run), "--data-dir", str(tmp_path / "nowhere")]) != 0
    assert "nowhere" in capsys.readouterr().err
