import contextlib
import json
import math

import numpy as np
import pytest
import torch

from aekit.errors import DataError, Diverged, UsageError
from aekit.training.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from aekit.training.loop import TrainConfig, lr_at, train


def _model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(8, 3), torch.nn.ReLU(), torch.nn.Linear(3, 8))


def _loss(model, x, t, g):
    return torch.nn.functional.mse_loss(model(x), t)


def _noisy_loss(model, x, t, g):  # uses the generator, like the denoiser and the VAE
    return torch.nn.functional.mse_loss(model(x + 0.1 * torch.randn(x.shape, generator=g)), t)


@pytest.fixture
def data():
    return torch.rand(200, 8, generator=torch.Generator().manual_seed(1))


def test_loss_goes_down_and_history_has_one_record_per_epoch(data):
    hist = train(
        _model(),
        _loss,
        data,
        config=TrainConfig(epochs=5, batch_size=16, lr=1e-2),
        validation=(data, data),
    )
    assert [r["epoch"] for r in hist] == [1, 2, 3, 4, 5]
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert hist[-1]["val_loss"] < hist[0]["val_loss"]
    assert all(r["seconds"] > 0 for r in hist)


def test_same_seed_same_weights_other_seed_other_weights(data):
    def run(seed):
        m = _model()
        train(m, _noisy_loss, data, config=TrainConfig(epochs=2, batch_size=16, seed=seed))
        return torch.cat([p.flatten() for p in m.parameters()])

    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))


@pytest.mark.parametrize("passes", [1, 3])
def test_resume_from_checkpoint_gives_the_uninterrupted_weights(tmp_path, data, passes):
    full = _model()
    train(
        full,
        _noisy_loss,
        data,
        config=TrainConfig(epochs=6, batch_size=16, lr=1e-2, schedule="onecycle", passes=passes),
    )

    class Kill:  # the process dies right after epoch 3's checkpoint
        def on_epoch_end(self, record):
            if record["epoch"] == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(
            _model(),
            _noisy_loss,
            data,
            config=TrainConfig(
                epochs=6, batch_size=16, lr=1e-2, schedule="onecycle", passes=passes
            ),
            checkpoint_dir=tmp_path,
            callbacks=[Kill()],
        )
    resumed = _model(seed=99)  # a fresh process builds a different model before loading
    hist = train(
        resumed,
        _noisy_loss,
        data,
        config=TrainConfig(epochs=6, batch_size=16, lr=1e-2, schedule="onecycle", passes=passes),
        checkpoint_dir=tmp_path,
        resume=True,
    )
    assert [r["epoch"] for r in hist] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(full.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_an_epoch_of_several_passes_sees_every_row_once_a_pass():
    rows = torch.arange(10.0).reshape(10, 1)  # (10, 1): each row its own number
    seen = []

    def loss(model, x, t, g):
        seen.append(x.flatten().tolist())
        return torch.nn.functional.mse_loss(model(x), t)

    torch.manual_seed(0)
    hist = train(
        torch.nn.Linear(1, 1), loss, rows, config=TrainConfig(epochs=2, batch_size=4, passes=3)
    )
    # each pass ends with its short batch
    assert len(hist) == 2 and [len(b) for b in seen] == [4, 4, 2] * 6
    for p in range(6):
        assert sorted(sum(seen[3 * p : 3 * p + 3], [])) == list(range(10))
    assert seen[:3] != seen[3:6]  # a fresh shuffle each pass


def test_onecycle_schedule_warms_up_then_decays():
    cfg = TrainConfig(lr=1.0, schedule="onecycle")
    lrs = [lr_at(cfg, s, 100) for s in range(100)]
    assert lrs[0] < 0.1 and max(lrs) == pytest.approx(1.0, rel=1e-2) and lrs[-1] < 0.01
    assert lr_at(TrainConfig(lr=0.5), 7, 100) == 0.5


def test_early_stopping_stops_and_keeps_the_best_weights(data):
    calls = []

    class Spy:
        def on_epoch_end(self, record):
            calls.append(record["epoch"])

    hist = train(
        _model(),
        _loss,
        data,
        config=TrainConfig(epochs=50, batch_size=200, lr=10.0, patience=2),
        validation=(data, data),
        callbacks=[Spy()],
    )
    assert len(hist) < 50 and calls == [r["epoch"] for r in hist]
    late = train(
        _model(),
        _loss,
        data,
        config=TrainConfig(
            epochs=50, batch_size=200, lr=10.0, patience=2, min_epochs=len(hist) + 5
        ),
        validation=(data, data),
    )
    assert len(late) >= len(hist) + 5  # min_epochs: no early stop before then


@pytest.mark.parametrize(
    "kw",
    [
        dict(epochs=-1),
        dict(batch_size=0),
        dict(lr=0.0),
        dict(lr=math.nan),
        dict(schedule="cosine"),
        dict(patience=0),
        dict(precision="fp16"),
        dict(min_epochs=-1),
        dict(passes=0),
        dict(stop_after=0),
    ],
)
def test_bad_config_is_a_one_line_usage_error(kw, data):
    with pytest.raises(UsageError) as e:
        train(_model(), _loss, data, config=TrainConfig(**kw))
    assert "\n" not in str(e.value)


def test_checkpoint_is_atomic_and_keeps_only_the_latest(tmp_path, data):
    m = _model()
    opt = torch.optim.Adam(m.parameters())
    for epoch in (1, 2, 3):
        save_checkpoint(tmp_path, model=m, optimizer=opt, epoch=epoch, history=[])
    assert has_checkpoint(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-0003.safetensors", "latest.json"]
    state = load_checkpoint(
        tmp_path, model=_model(5), optimizer=torch.optim.Adam(_model(5).parameters())
    )
    assert state["epoch"] == 3


def _conv(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3, padding=1)
    )


def test_channels_last_trains_the_same_model_and_hands_back_a_plain_one():
    images = torch.rand(64, 2, 6, 6, generator=torch.Generator().manual_seed(2))
    models = []
    for channels_last in (False, True):
        m = _conv()
        train(
            m,
            _loss,
            images,
            config=TrainConfig(epochs=2, batch_size=16, channels_last=channels_last),
        )
        # as a loaded model, so both predict alike
        assert all(p.is_contiguous() for p in m.parameters())
        models.append(m)
    for a, b in zip(*(m.parameters() for m in models)):
        # a memory layout, not other arithmetic
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_bf16_autocast_trains_and_keeps_fp32_weights():
    images = torch.rand(64, 2, 6, 6, generator=torch.Generator().manual_seed(2))
    m = _conv()
    hist = train(
        m,
        _loss,
        images,
        config=TrainConfig(epochs=4, batch_size=16, lr=1e-2, precision="bf16"),
        validation=(images, images),
    )
    assert hist[-1]["val_loss"] < hist[0]["val_loss"]
    assert all(p.dtype == torch.float32 for p in m.parameters())


def test_stop_after_ends_early_on_the_full_schedule(data):
    """``stop_after`` ends the loop after that many epochs, the learning rate laid over ``epochs``:
    the losses of a 6-epoch onecycle run's first 2 epochs, not those of a 2-epoch run."""

    def losses(**kw):
        config = TrainConfig(batch_size=16, lr=1e-2, schedule="onecycle", **kw)
        return [r["train_loss"] for r in train(_model(), _noisy_loss, data, config=config)]

    full, ended = losses(epochs=6), losses(epochs=6, stop_after=2)
    assert ended == full[:2] and len(full) == 6
    assert losses(epochs=2) != ended  # a 2-epoch schedule decays sooner


def test_a_loss_grown_by_orders_of_magnitude_is_diverged_even_when_finite():
    x = torch.randn(300, 8, generator=torch.Generator().manual_seed(0))  # standardised data
    config = TrainConfig(epochs=1, batch_size=32, lr=1e8)
    with pytest.raises(Diverged, match=r"training loss grew to .* lower the learning rate"):
        train(_model(), _loss, x, config=config, validation=(x, x))


def test_a_high_but_healthy_learning_rate_is_not_called_diverged():
    x = torch.randn(300, 8, generator=torch.Generator().manual_seed(0))
    hist = train(_model(), _loss, x, config=TrainConfig(epochs=5, batch_size=32, lr=0.1))
    assert all(math.isfinite(r["train_loss"]) for r in hist)


@pytest.mark.parametrize(("lr", "schedule"), [(30, "onecycle"), (100, "constant")])
def test_a_divergence_within_the_first_epoch_is_caught(lr, schedule):
    # judged on the median batch loss alone, a run whose losses grew during its one epoch kept a
    # modest median, and a validation loss measured against its own first epoch passed too
    import aekit

    X = np.random.default_rng(0).normal(size=(20000, 16)).astype(np.float32)
    with pytest.raises(Diverged, match="grew to"):
        aekit.Autoencoder(epochs=1, lr=lr, schedule=schedule, threads=1, verbose=0).fit(X)


def test_an_epoch_whose_loss_jumped_by_orders_of_magnitude_is_diverged():
    """Probe 56 advice #7: at --lr 20 a few steps of epoch 3 ran away (its mean 1.5e9 after 15, its
    median ordinary) and left the weights useless; the run ended "overfitting"."""
    calls = []

    def jumping(model, x, t, g):  # 10 steps an epoch: one step of epoch 3 runs away
        calls.append(1)
        return _loss(model, x, t, g) * (1e10 if len(calls) == 25 else 1.0)

    x = torch.randn(320, 8, generator=torch.Generator().manual_seed(0))
    config = TrainConfig(epochs=4, batch_size=32, lr=1e-3)
    with pytest.raises(
        Diverged, match=r"epoch 3: the training loss grew to .* from .* at the start"
    ):
        train(_model(), jumping, x, config=config)
    assert len(calls) == 30  # epochs 1 and 2 passed: ordinary losses


@pytest.mark.parametrize(
    "rising, advice", [(False, "continue it with --resume"), (True, "start again")]
)
def test_a_diverged_run_is_told_to_continue_its_checkpoint_only_if_it_was_learning(
    tmp_path, rising, advice
):
    """Verify 56 of advice #7: at --lr 20 the checkpoint kept was already useless (validation 7.0
    where the mean gives 0.94); continued at 0.001 it stayed at 7.0, started again it reached 0.81."""
    calls = []

    def jumping(
        model, x, t, g
    ):  # every step after the first 5x worse when rising; step 25 runs away
        calls.append(1)
        worse = 5.0 if rising and len(calls) > 1 else 1.0
        return _loss(model, x, t, g) * (1e10 if len(calls) == 25 else worse)

    x = torch.randn(320, 8, generator=torch.Generator().manual_seed(0))
    config = TrainConfig(epochs=4, batch_size=32, lr=1e-3)
    with pytest.raises(Diverged, match=advice):
        train(_model(), jumping, x, config=config, checkpoint_dir=tmp_path / "ck")


def test_a_few_extreme_rows_are_no_divergence_at_any_rate():
    # a logger's 65535 among readings of unit spread: the batches holding it keep a loss of 1e9
    # whatever the rate; the epoch's mean was called a divergence that no lower rate cured
    x = torch.randn(600, 8, generator=torch.Generator().manual_seed(0))
    x[[100, 400], 2] = 65535.0
    for lr in (1e-3, 1e-5):
        hist = train(_model(), _loss, x, config=TrainConfig(epochs=3, batch_size=32, lr=lr))
        assert len(hist) == 3 and hist[-1]["train_loss"] > 1e5  # the two rows' losses in it
    # in the validation rows too, where the first epoch's loss is the scale
    hist = train(
        _model(), _loss, x[:300] * 0 + torch.randn(300, 8), config=TrainConfig(epochs=2, lr=1e-3),
        validation=(x, x),
    )  # fmt: skip
    assert len(hist) == 2 and hist[0]["val_loss"] > 1e6


def test_a_convolutional_model_trained_channels_last_resumes_exactly(tmp_path):
    """The checkpoint's Adam moments loaded contiguous beside channels-last weights: fused Adam
    paired each weight with another's moments, and a resumed denoiser or VAE drifted."""

    def conv():
        torch.manual_seed(0)
        return torch.nn.Sequential(
            torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.Conv2d(4, 2, 3, padding=1)
        )

    images = torch.rand(24, 2, 6, 6, generator=torch.Generator().manual_seed(2))
    config = dict(batch_size=4, lr=1e-2, schedule="constant", seed=0)
    full = conv()
    train(full, _noisy_loss, images, config=TrainConfig(epochs=3, **config))
    first = conv()
    train(
        first, _noisy_loss, images, config=TrainConfig(epochs=1, **config), checkpoint_dir=tmp_path
    )
    resumed = conv()
    train(resumed, _noisy_loss, images, config=TrainConfig(epochs=3, **config),
          checkpoint_dir=tmp_path, resume=True)  # fmt: skip
    for a, b in zip(full.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("stop_at", [3, None])  # interrupted mid-patience; a finished run extended
def test_a_resumed_run_keeps_early_stopping_and_its_best_weights(tmp_path, data, stop_at):
    """Probe 51 ae 2: the checkpoint lacked the best loss, the wait and the best weights, so a
    resumed --patience run started its patience afresh, trained on and kept a worse model."""
    config = dict(batch_size=200, lr=10.0, patience=2)
    val = (data, data)
    full = _model()
    hist = train(full, _loss, data, config=TrainConfig(epochs=50, **config), validation=val)
    assert 4 <= len(hist) < 50  # it stops early, after its best epoch and two worse ones

    class Kill:
        def on_epoch_end(self, record):
            if record["epoch"] == stop_at:
                raise KeyboardInterrupt

    first = TrainConfig(epochs=50 if stop_at else len(hist), **config)
    with pytest.raises(KeyboardInterrupt) if stop_at else contextlib.nullcontext():
        train(_model(), _loss, data, config=first, validation=val,
              checkpoint_dir=tmp_path, callbacks=[Kill()])  # fmt: skip
    resumed = _model(seed=99)
    again = train(resumed, _loss, data, config=TrainConfig(epochs=50, **config), validation=val,
                  checkpoint_dir=tmp_path, resume=True)  # fmt: skip
    assert [r["val_loss"] for r in again] == [r["val_loss"] for r in hist]
    for a, b in zip(full.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_resuming_a_checkpoint_past_the_epochs_asked_for_is_refused(tmp_path, data):
    """Probe 51 ae 4, in Python: epochs=1 resumed from 3 trained epochs returned them untouched."""
    train(
        _model(), _loss, data, config=TrainConfig(epochs=3, batch_size=50), checkpoint_dir=tmp_path
    )
    with pytest.raises(UsageError, match="has trained 3 epochs, more than epochs=1"):
        train(_model(), _loss, data, config=TrainConfig(epochs=1, batch_size=50),
              checkpoint_dir=tmp_path, resume=True)  # fmt: skip


def test_epochs_of_fits_in_threads_leave_the_callers_generator_as_it_was():
    """probe 59 races 4: each fit's epoch forked torch's global generator on its own; two fits in
    threads interleaved the saves and restores, and the caller's generator was left at a fit's
    seeded stream (docs/guide/sklearn.md promises the caller's state back)."""
    import threading
    from types import SimpleNamespace

    from aekit.training.loop import _seeded_global_rng

    def run(seed):
        return SimpleNamespace(
            device=torch.device("cpu"), config=SimpleNamespace(seed=seed), rank=0
        )

    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():  # A's epoch begins first and ends first
        with _seeded_global_rng(run(0), 1):
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def b():
        a_in.wait(10)
        with _seeded_global_rng(run(1), 1):
            b_in.set()
            a_out.wait(10)

    torch.manual_seed(123)
    before = torch.get_rng_state()
    threads = [threading.Thread(target=f) for f in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert torch.equal(torch.get_rng_state(), before)


def _family(name):
    """(a one-epoch estimator of the family, data for it): the six families the loop trains."""
    import aekit

    rng = np.random.default_rng(0)
    table = rng.standard_normal((60, 4)).astype(np.float32)
    images = rng.random((16, 1, 8, 8)).astype(np.float32)
    series = np.sin(np.arange(600) / 5).astype(np.float32)
    return {
        "Autoencoder": (lambda **k: aekit.Autoencoder(latent_dim=2, **k), table),
        "AnomalyDetector": (lambda **k: aekit.AnomalyDetector(**k), table),
        "Denoiser": (lambda **k: aekit.Denoiser(**k), images),
        "VAE": (lambda **k: aekit.VAE(**k), (images > 0.5).astype(np.float32)),
        "SeriesDetector": (
            lambda **k: aekit.SeriesDetector(method="reconstruction", window=16, **k),
            series,
        ),
        "ImageAnomalyDetector": (
            lambda **k: aekit.ImageAnomalyDetector(method="ssim", channels=(4,), **k),
            images,
        ),
    }[name]


@pytest.mark.parametrize(
    "family",
    ["Autoencoder", "AnomalyDetector", "Denoiser", "VAE", "SeriesDetector", "ImageAnomalyDetector"],
)
def test_numpy_scalars_for_lr_seed_and_patience_are_taken_in_every_family(family):
    """probe 60 training 2: the parameter table took np.float32 lr and NumPy integer seed and
    patience, and fit then refused them ("lr must be a positive number, got np.float32(0.001)"),
    breaking a search over seeds from rng.integers. The same fit as with built-in numbers."""
    make, data = _family(family)
    given = {"lr": np.float32(1e-3), "seed": np.int64(3)}
    if family != "ImageAnomalyDetector":  # it has no patience
        given["patience"] = np.int32(2)
    plain = {k: v.item() for k, v in given.items()}
    a = make(epochs=1, threads=1, **given).fit(data)
    b = make(epochs=1, threads=1, **plain).fit(data)
    assert [r["train_loss"] for r in a.history_] == [r["train_loss"] for r in b.history_]


def test_train_config_takes_numpy_scalars_as_built_in_numbers():
    """probe 60 training 2: stop_after and the whole-number settings too; a bool stays refused."""
    config = TrainConfig(
        epochs=np.int64(2), lr=np.float64(0.01), seed=np.uint32(7), stop_after=np.int16(1)
    ).validate()
    assert (type(config.epochs), type(config.lr), type(config.seed), type(config.stop_after)) == (
        int,
        float,
        int,
        int,
    )
    with pytest.raises(UsageError, match="seed must be a whole number"):
        TrainConfig(seed=np.bool_(True)).validate()
    with pytest.raises(UsageError, match="lr must be a positive number"):
        TrainConfig(lr=np.float32("nan")).validate()


@pytest.mark.parametrize("off", ["patience", "validation"])
def test_a_resume_without_early_stopping_keeps_its_last_epoch_not_the_checkpoints_best(
    tmp_path, data, caplog, off
):
    """probe 60 training 1: a run trained with patience, resumed with patience=None or without
    validation data, put the checkpoint's best weights back at the end: every resumed epoch was
    thrown away, silently. Early stopping is off in the resumed run, so its weights are the last
    epoch's, as an uninterrupted run without early stopping ends, and a note says the best was
    dropped."""
    val = (data[:50], data[:50])
    first = dict(batch_size=16, lr=1e-2, patience=50)
    train(_model(), _loss, data, config=TrainConfig(epochs=3, **first), validation=val,
          checkpoint_dir=tmp_path)  # fmt: skip
    resumed = _model(seed=5)
    kw = dict(batch_size=16, lr=1e-2, patience=None if off == "patience" else 50)
    with caplog.at_level("WARNING", logger="aekit.notes"):
        hist = train(resumed, _loss, data, config=TrainConfig(epochs=6, **kw),
                     validation=None if off == "validation" else val,
                     checkpoint_dir=tmp_path, resume=True)  # fmt: skip
    whole = _model()  # the uninterrupted run without early stopping
    train(whole, _loss, data, config=TrainConfig(epochs=6, batch_size=16, lr=1e-2))
    assert len(hist) == 6
    assert all(torch.equal(a, b) for a, b in zip(resumed.parameters(), whole.parameters()))
    assert "they are dropped, and the final weights are the last epoch's" in caplog.text


def test_a_resume_that_still_watches_keeps_the_best_epoch_of_the_whole_run(tmp_path, data):
    """probe 60 training 1: with patience and validation on both sides, the checkpoint's best still
    stands against the resumed epochs (an uninterrupted run's best)."""
    val = (data[:50], data[:50])
    config = dict(batch_size=16, lr=0.5, patience=50)  # a rate that makes the loss jump about
    whole = _model()
    train(whole, _loss, data, config=TrainConfig(epochs=6, **config), validation=val)
    train(_model(), _loss, data, config=TrainConfig(epochs=3, **config), validation=val,
          checkpoint_dir=tmp_path)  # fmt: skip
    resumed = _model(seed=5)
    train(resumed, _loss, data, config=TrainConfig(epochs=6, **config), validation=val,
          checkpoint_dir=tmp_path, resume=True)  # fmt: skip
    assert all(torch.equal(a, b) for a, b in zip(resumed.parameters(), whole.parameters()))


@pytest.mark.parametrize("lr", [1e-6, 1e-2])
def test_a_value_whose_square_overflows_is_the_datas_fault_not_a_divergence(data, lr):
    """probe 60 training 5: one value of 1e20 (a missing-reading sentinel) in the training rows gave
    "training diverged ...: lower the learning rate" at any rate; in the validation rows, with a
    finite training loss, the same. No rate cures it: one line names the split and the value (not
    a row: the loop's rows are shuffled into splits, review 1 F5)."""
    bad = data.clone()
    bad[7, 2] = 1e20
    with pytest.raises(DataError, match=r"training loss became inf .* data, not the learning rate"):
        train(_model(), _loss, bad, config=TrainConfig(epochs=2, batch_size=16, lr=lr))
    with pytest.raises(
        DataError, match=r"validation loss became inf .* value of 1e\+20 in the validation rows \("
    ):
        train(_model(), _loss, data, config=TrainConfig(epochs=2, batch_size=16, lr=lr),
              validation=(bad, bad))  # fmt: skip


def test_a_divergence_on_ordinary_data_still_says_lower_the_learning_rate(data):
    """probe 60 training 5: the data's check looks only once a loss failed, and finds nothing here."""
    with pytest.raises(Diverged, match="lower the learning rate"):
        train(_model(), _loss, data * 1e3, config=TrainConfig(epochs=3, batch_size=16, lr=1e8))


def test_a_resume_trains_on_in_the_checkpoints_unit_of_an_epoch(tmp_path, data, caplog):
    """probe 60 training 4: 41 auto epochs of 4 passes resumed with an explicit epochs=50 trained
    9 single passes (its patience counted those, its floor dropped to 0), and the history mixed
    the two units under one name. The checkpoint keeps its passes and floor; a resume trains on
    in them, as the uninterrupted run of that unit does, and a note says so."""
    packed = dict(batch_size=16, lr=1e-2, patience=50, min_epochs=4)
    whole = _model()
    train(whole, _noisy_loss, data, config=TrainConfig(epochs=5, passes=4, **packed))
    train(_model(), _noisy_loss, data, config=TrainConfig(epochs=3, passes=4, **packed),
          checkpoint_dir=tmp_path)  # fmt: skip
    resumed = _model(seed=5)
    with caplog.at_level("WARNING", logger="aekit.notes"):
        train(resumed, _noisy_loss, data, config=TrainConfig(epochs=5, batch_size=16, lr=1e-2,
              patience=50), checkpoint_dir=tmp_path, resume=True)  # fmt: skip
    assert all(torch.equal(a, b) for a, b in zip(resumed.parameters(), whole.parameters()))
    assert "the checkpoint's epochs are 4 passes over the data each" in caplog.text
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["extra"]["unit"] == {"passes": 4, "min_epochs": 4}
