"""TensorBoard logs: event files that TensorBoard's own reader loads, with scalars, images and a projector."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

import aekit
from aekit.errors import UsageError

pytest.importorskip("tensorboard")

from aekit.training.tensorboard import INSTALL_HINT, TensorBoardLog


def read_events(folder):
    """(scalar tags, image tags, accumulator) as TensorBoard reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    acc.Reload()
    return set(acc.Tags()["scalars"]), set(acc.Tags()["images"]), acc


def read_projector(folder):
    """The projector's config, parsed as TensorBoard's projector plugin parses it."""
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    return text_format.Parse((folder / "projector_config.pbtxt").read_text(), ProjectorConfig())


def images(n=64, seed=0):
    return np.random.default_rng(seed).random((n, 1, 8, 8), dtype=np.float32)


def test_an_autoencoder_writes_scalars_images_and_a_projector_with_labels_and_sprite(tmp_path):
    X = images()
    log = TensorBoardLog(
        tmp_path / "tb",
        labels=[i % 3 for i in range(20)],
        class_names=["a", "b", "c"],
        image_every=2,
    )
    aekit.Autoencoder(latent_dim=3, epochs=3, batch_size=16, schedule="onecycle", device="cpu").fit(
        X, validation_data=X[:20], tensorboard=log
    )
    scalars, image_tags, acc = read_events(tmp_path / "tb")
    assert {"loss/train", "loss/val", "learning_rate", "seconds"} <= scalars
    assert [e.step for e in acc.Scalars("loss/train")] == [1, 2, 3]
    lrs = [e.value for e in acc.Scalars("learning_rate")]
    assert lrs[0] != lrs[-1]  # one-cycle: the rate moves
    assert image_tags == {"reconstructions"}
    assert [e.step for e in acc.Images("reconstructions")] == [2, 3]  # every 2 epochs and the last
    config = read_projector(tmp_path / "tb")
    emb = config.embeddings[0]
    assert emb.tensor_name.startswith("latent")
    assert list(emb.sprite.single_image_dim) == [8, 8]
    folder = tmp_path / "tb"
    rows = (folder / emb.tensor_path).read_text().strip().splitlines()
    assert len(rows) == 20 and len(rows[0].split("\t")) == 3
    assert (folder / emb.metadata_path).read_text().split() == [
        ["a", "b", "c"][i % 3] for i in range(20)
    ]
    assert (folder / emb.sprite.image_path).is_file()


def test_labels_with_tabs_or_line_breaks_are_one_field_each_in_the_projectors_metadata(tmp_path):
    # interop probe 58 #5: "a\tb" and "x\ny" made 48 metadata lines for 40 vectors
    X = images()
    names = ["a\tb", "x\ny", "plain"]
    log = TensorBoardLog(tmp_path / "tb", labels=[names[i % 3] for i in range(20)])
    ae = aekit.Autoencoder(latent_dim=3, epochs=1, batch_size=16, device="cpu")
    ae.fit(X, validation_data=X[:20], tensorboard=log)
    emb = read_projector(tmp_path / "tb").embeddings[0]
    lines = (tmp_path / "tb" / emb.metadata_path).read_text().splitlines()
    assert lines == [["a b", "x y", "plain"][i % 3] for i in range(20)]


def test_labels_that_are_not_utf8_are_written_with_the_bytes_replaced(tmp_path):
    """probe 59 locale H1: a class folder named in Latin-1 bytes (caf\xe9, held as
    "caf\udce9") raised UnicodeEncodeError when the projector's labels were written, after
    training; one named in UTF-8 but read under an ASCII locale comes out as its own text."""
    X = images()
    names = ["caf\udce9", "\udce7\udc8a\udcac"]
    log = TensorBoardLog(tmp_path / "tb", labels=[i % 2 for i in range(20)], class_names=names)
    aekit.Autoencoder(latent_dim=3, epochs=1, batch_size=16, device="cpu").fit(
        X, validation_data=X[:20], tensorboard=log
    )
    emb = read_projector(tmp_path / "tb").embeddings[0]
    lines = (tmp_path / "tb" / emb.metadata_path).read_text(encoding="utf-8").splitlines()
    assert lines == [["caf\ufffd", "\u72ac"][i % 2] for i in range(20)]


def test_the_vae_shows_samples_and_a_table_model_writes_no_images(tmp_path):
    aekit.VAE(latent_dim=2, channels=(4, 4), epochs=1, batch_size=16, device="cpu").fit(
        images(), tensorboard=tmp_path / "v"
    )
    assert read_events(tmp_path / "v")[1] == {"reconstructions", "samples"}
    rows = np.random.default_rng(0).random((50, 5))
    aekit.AnomalyDetector(hidden=(4,), latent_dim=2, epochs=1, device="cpu").fit(
        rows, tensorboard=str(tmp_path / "d")
    )
    scalars, image_tags, _ = read_events(tmp_path / "d")
    assert "loss/train" in scalars and image_tags == set()
    emb = read_projector(tmp_path / "d").embeddings[0]
    assert not emb.sprite.image_path  # rows: no sprite
    # no validation data given: the validation half of the detector's own held-out tenth of the normal
    # rows (validation_fraction=0.1: 5 rows, 2 validate; 19 calibrate, what fpr:0.05 needs)
    assert len((tmp_path / "d" / emb.tensor_path).read_text().splitlines()) == 2


def test_without_the_package_one_line_says_how_to_install_it(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_tensorboard(name, globals=None, locals=None, fromlist=(), level=0):
        absolute = level == 0 and (name == "tensorboard" or name.startswith("tensorboard."))
        if absolute or name == "torch.utils.tensorboard":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(UsageError, match="aekit\\[tensorboard\\]") as info:
        aekit.Autoencoder(epochs=1, device="cpu").fit(images(), tensorboard=tmp_path / "tb")
    assert str(info.value) == INSTALL_HINT
    assert not (tmp_path / "tb").exists()


def test_a_failed_or_interrupted_fit_closes_its_log(tmp_path):
    """Probe 57 citizen #5: a fit that raised (a failing callback, a notebook's Stop) left its
    TensorBoard writer open, one writer thread per failed fit; the epochs before stay logged."""
    import threading

    class Stop:
        def __init__(self, error):
            self.error = error

        def on_epoch_start(self, epoch, steps):
            if epoch == 2:
                raise self.error

    X = np.random.default_rng(0).random((64, 12), dtype=np.float32)
    for i, error in enumerate((KeyboardInterrupt(), ValueError("a callback's bug"))):
        with pytest.raises(type(error)):
            aekit.Autoencoder(latent_dim=3, epochs=5, threads=1).fit(
                X, tensorboard=tmp_path / f"tb{i}", callbacks=[Stop(error)]
            )
        scalars, _, acc = read_events(tmp_path / f"tb{i}")
        assert [e.step for e in acc.Scalars("loss/train")] == [1, 2]
    writers = [t for t in threading.enumerate() if type(t).__name__ == "_AsyncWriterThread"]
    assert not writers
