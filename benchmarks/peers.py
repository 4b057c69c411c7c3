"""The peers of the recipe benchmarks, run in the same process when installed: Keras and pythae.

Keras runs the TensorFlow tutorials' own code ("Intro to Autoencoders": the basic and the
denoising autoencoder; "Convolutional Variational Autoencoder"), on the TensorFlow backend when
it is installed (``KERAS_BACKEND`` otherwise); pythae (``pythae.models.AE``/``VAE`` with its
``BaseTrainer``) trains the same networks as aekit's recipes through its own trainer. Neither is
a dependency of aekit: each function returns None when its library is missing.

    pip install keras tensorflow-cpu pythae        # into the benchmark environment only
"""

from __future__ import annotations

import os
import time

import _common as C
import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _keras():
    try:
        import keras
    except ImportError:
        return None
    return keras


def _keras_threads(threads: int | None) -> None:
    if threads and os.environ["KERAS_BACKEND"] == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised
            pass


class _EpochTimer:
    """A Keras callback keeping each epoch's training seconds (validation excluded) and val loss."""

    def __init__(self, keras):
        outer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                outer.t0 = time.perf_counter()

            def on_test_begin(self, logs=None):
                outer.seconds.append(time.perf_counter() - outer.t0)

            def on_epoch_end(self, epoch, logs=None):
                outer.val.append(float((logs or {}).get("val_loss", np.nan)))

        self.seconds: list[float] = []
        self.val: list[float] = []
        self.callback = Callback()


def _time_to(res: C.Result, val: list[float], target: float, key: str) -> None:
    first = next((i for i, v in enumerate(val) if v <= target), None)
    if first is not None:
        res.quality[key] = sum(res.seconds[: first + 1])


def keras_basic(x, x_test, epochs, batch_size, threads=None, target=0.0089) -> C.Result | None:
    """The tutorial's basic autoencoder: Flatten, Dense(64, relu) | Dense(784, sigmoid), Adam, MSE."""
    keras = _keras()
    if keras is None:
        return None
    _keras_threads(threads)
    x, x_test = np.asarray(x).reshape(-1, 28, 28), np.asarray(x_test).reshape(-1, 28, 28)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(784, activation="sigmoid"),
            keras.layers.Reshape((28, 28)),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    timer = _EpochTimer(keras)
    model.fit(x, x, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
              validation_data=(x_test, x_test), callbacks=[timer.callback])  # fmt: skip
    res = C.Result(f"Keras ({os.environ['KERAS_BACKEND']})", epochs, len(x), timer.seconds)
    res.quality["val_mse"] = timer.val[-1]
    _time_to(res, timer.val, target, f"s_to_{target}")
    res.flops_per_sample = 3 * 2 * (784 * 64 + 64 * 784)
    return res


def keras_denoise(x, x_test, epochs, batch_size, threads=None, target=0.0071) -> C.Result | None:
    """The tutorial's denoiser: Conv2D 16, 8 (stride 2) | Conv2DTranspose 8, 16 (stride 2), Conv2D 1."""
    keras = _keras()
    if keras is None:
        return None
    _keras_threads(threads)
    x = np.asarray(x).reshape(-1, 28, 28, 1)
    x_test = np.asarray(x_test).reshape(-1, 28, 28, 1)
    rng = np.random.default_rng(1)
    noisy = np.clip(x + 0.2 * rng.standard_normal(x.shape, np.float32), 0, 1)
    noisy_test = np.clip(x_test + 0.2 * rng.standard_normal(x_test.shape, np.float32), 0, 1)
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(16, 3, activation="relu", padding="same", strides=2),
            layers.Conv2D(8, 3, activation="relu", padding="same", strides=2),
            layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same"),
            layers.Conv2DTranspose(16, 3, strides=2, activation="relu", padding="same"),
            layers.Conv2D(1, 3, activation="sigmoid", padding="same"),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    timer = _EpochTimer(keras)
    model.fit(noisy, x, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
              validation_data=(noisy_test, x_test), callbacks=[timer.callback])  # fmt: skip
    res = C.Result(f"Keras ({os.environ['KERAS_BACKEND']})", epochs, len(x), timer.seconds)
    res.quality["val_mse"] = timer.val[-1]
    _time_to(res, timer.val, target, f"s_to_{target}")
    return res


def keras_vae(x, x_test, epochs, batch_size, threads=None) -> C.Result | None:
    """TensorFlow's CVAE tutorial with its own training step (Monte Carlo ELBO, Adam 1e-4), TF only."""
    if _keras() is None or os.environ["KERAS_BACKEND"] != "tensorflow":
        return None
    import tensorflow as tf

    _keras_threads(threads)
    tf.keras.utils.set_random_seed(0)
    latent = 2
    layers = tf.keras.layers
    encoder = tf.keras.Sequential(
        [
            layers.InputLayer(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, strides=2, activation="relu"),
            layers.Conv2D(64, 3, strides=2, activation="relu"),
            layers.Flatten(),
            layers.Dense(2 * latent),
        ]
    )
    decoder = tf.keras.Sequential(
        [
            layers.InputLayer(shape=(latent,)),
            layers.Dense(7 * 7 * 32, activation="relu"),
            layers.Reshape((7, 7, 32)),
            layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu"),
            layers.Conv2DTranspose(1, 3, strides=1, padding="same"),
        ]
    )
    optimizer = tf.keras.optimizers.Adam(1e-4)
    log2pi = tf.math.log(2.0 * np.pi)

    def log_normal(sample, mean, logvar):
        return tf.reduce_sum(-0.5 * ((sample - mean) ** 2 * tf.exp(-logvar) + logvar + log2pi), 1)

    def loss_of(xb):
        mean, logvar = tf.split(encoder(xb), 2, axis=1)
        z = mean + tf.random.normal(tf.shape(mean)) * tf.exp(logvar * 0.5)
        logits = decoder(z)
        cross = tf.nn.sigmoid_cross_entropy_with_logits(logits=logits, labels=xb)
        logpx_z = -tf.reduce_sum(cross, axis=[1, 2, 3])
        return -tf.reduce_mean(logpx_z + log_normal(z, 0.0, 0.0) - log_normal(z, mean, logvar))

    @tf.function
    def train_step(xb):
        with tf.GradientTape() as tape:
            loss = loss_of(xb)
        variables = encoder.trainable_variables + decoder.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))

    x = np.asarray(x, np.float32).reshape(-1, 28, 28, 1)
    x_test = np.asarray(x_test, np.float32).reshape(-1, 28, 28, 1)
    data = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=0).batch(batch_size)
    res = C.Result("Keras/TF tutorial", epochs, len(x))
    for _ in range(epochs):
        t0 = time.perf_counter()
        for xb in data:
            train_step(xb)
        res.seconds.append(time.perf_counter() - t0)
    elbo = [-float(loss_of(x_test[i : i + 1000])) * len(x_test[i : i + 1000])
            for i in range(0, len(x_test), 1000)]  # fmt: skip
    res.quality["test_elbo"] = sum(elbo) / len(x_test)
    return res


# ---- pythae ----------------------------------------------------------------------------------------


def _pythae():
    try:
        import pythae
    except ImportError:
        return None
    return pythae


def pythae_run(model, x, x_test, epochs, batch_size, lr, name) -> C.Result:
    """``model`` (a pythae model) trained by pythae's BaseTrainer; seconds per epoch from its log."""
    from pythae.trainers import BaseTrainer, BaseTrainerConfig

    config = BaseTrainerConfig(
        output_dir=os.path.join(os.environ.get("TMPDIR", "/tmp"), "pythae_bench"),
        num_epochs=epochs,
        learning_rate=lr,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=1000,
        steps_saving=None,
        seed=0,
        no_cuda=True,
    )
    import torch
    from pythae.data.datasets import BaseDataset

    def dataset(a):
        a = torch.as_tensor(np.asarray(a))
        return BaseDataset(a, torch.zeros(len(a)))

    seconds: list[float] = []
    trainer = BaseTrainer(model, train_dataset=dataset(x), eval_dataset=dataset(x_test),
                          training_config=config)  # fmt: skip
    epoch_of = trainer.train_step

    def timed(epoch):
        t0 = time.perf_counter()
        out = epoch_of(epoch)
        seconds.append(time.perf_counter() - t0)
        return out

    trainer.train_step = timed
    trainer.train()
    return C.Result(name, epochs, len(x), seconds)


def _pythae_nets(kind: str):
    """pythae's encoder and decoder wrapping aekit's recipe networks (the same layers and init)."""
    import torch
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder

    class Encoder(BaseEncoder):
        def __init__(self, net, vae):
            super().__init__()
            self.net, self.vae = net, vae

        def forward(self, x):
            if self.vae:
                mean, logvar = self.net.encode(x)
                return ModelOutput(embedding=mean, log_covariance=logvar)
            return ModelOutput(embedding=self.net.encoder(x))

    class Decoder(BaseDecoder):
        def __init__(self, net, vae):
            super().__init__()
            self.net, self.vae = net, vae

        def forward(self, z):
            out = torch.sigmoid(self.net.decode(z)) if self.vae else self.net.decoder(z)
            return ModelOutput(reconstruction=out)

    return Encoder, Decoder


def pythae_ae(x, x_test, epochs, batch_size) -> C.Result | None:
    """pythae's ``AE`` with the basic recipe's dense network (784-64-784, Glorot), Adam 1e-3, MSE."""
    if _pythae() is None:
        return None
    import torch
    from pythae.models import AE, AEConfig

    from aekit.models.dense import DenseAutoencoder, DenseConfig

    torch.manual_seed(0)
    net = DenseAutoencoder(DenseConfig(input_shape=(1, 28, 28), latent_dim=64, hidden=()))
    Encoder, Decoder = _pythae_nets("ae")
    config = AEConfig(input_dim=(1, 28, 28), latent_dim=64, reconstruction_loss="mse")
    model = AE(config, encoder=Encoder(net, False), decoder=Decoder(net, False))
    res = pythae_run(model, x, x_test, epochs, batch_size, 1e-3, "pythae AE")
    with torch.no_grad():
        xt = torch.as_tensor(np.asarray(x_test))
        res.quality["val_mse"] = float(((net(xt) - xt) ** 2).mean())
    return res


def pythae_vae(x, x_test, epochs, batch_size, lr=1e-4) -> C.Result | None:
    """pythae's ``VAE`` with the VAE recipe's conv network (latent 2), Adam ``lr``, Bernoulli (BCE)."""
    if _pythae() is None:
        return None
    import torch
    from pythae.models import VAE, VAEConfig

    from aekit.models.vae import ConvVAE
    from aekit.models.vae import VAEConfig as NetConfig

    torch.manual_seed(0)
    net = ConvVAE(NetConfig(latent_dim=2))
    Encoder, Decoder = _pythae_nets("vae")
    config = VAEConfig(input_dim=(1, 28, 28), latent_dim=2, reconstruction_loss="bce")
    model = VAE(config, encoder=Encoder(net, True), decoder=Decoder(net, True))
    res = pythae_run(model, x, x_test, epochs, batch_size, lr, "pythae VAE")
    res.quality["test_elbo"] = _test_elbo(net, np.asarray(x_test))
    return res


def _test_elbo(net, x_test: np.ndarray) -> float:
    """The analytic-KL ELBO of the test images in nats per image (as benchmarks/bench_vae.py)."""
    import torch
    import torch.nn.functional as F

    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x_test), 1000):
            xb = torch.as_tensor(x_test[i : i + 1000])
            mean, logvar = net.encode(xb)
            z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
            rec = F.binary_cross_entropy_with_logits(net.decode(z), xb, reduction="none")
            kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).sum(1)
            total -= float((rec.flatten(1).sum(1) + kl).sum())
    return total / len(x_test)
