"""``SeriesDetector``: where in time a long signal goes wrong.

Train on a stretch of the signal that is normal. By default each window of a new series is scored
by its distance to the nearest training window, both z-normalised, channel by channel (the matrix
profile's "discord"), in units of how far apart normal windows lie there (:mod:`.neighbors`);
``method="reconstruction"`` scores it by the error of a
1-D convolutional autoencoder trained on the stretch's windows, ``method="both"`` by the sum of
the two, each in units of its training mean. A window's score is spread over the steps it covers
(:mod:`.windows`); steps above a threshold taken from the training stretch (no labels needed) are
anomalous, and consecutive anomalous steps make a range.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from ..._notes import note
from ...data.series import check_labels
from ...data.windows import (
    FALLBACK_WINDOW,
    WindowRows,
    dominant_period,
    sliding_windows,
    window_starts,
)
from ...errors import DataError, UsageError
from ...models.conv1d import Conv1dAutoencoder, Conv1dConfig
from ...training.threads import ThreadChoice, resolve, using_threads
from ...training.trainer import Trainer
from .. import params
from ..base import NeuralEstimator, column_names
from ..losses import per_sample_error, reconstruction_loss
from ..preprocessing import Scaler
from ..validation import label_vector
from .alarms import SeriesAlarms
from .inputs import (
    as_series,
    check_channel_names,
    check_columns,
    check_not_constant,
    check_steps_by_channels,
    numbered_chunks,
    record_feature_names,
)
from .metrics import series_metrics
from .neighbors import WindowNeighbors
from .trend import detrender, difference, resolve_detrend, through, whole
from .windows import AnomalyRange, find_ranges, scores_and_cover, step_scores

SCORE_CHUNK = 1 << 18  # steps scored at a time: bounds the memory of scoring an in-memory series
WINDOW_BATCH = 2048  # windows per forward pass when scoring
# windows per search when the neighbours alone score: the index's cost per batch is a pass over its
# groups, which a batch of 2,048 windows of a 20,000-step stretch paid 5 times over; at most
# NEIGHBOR_CELLS (windows x channels x steps: 64 MB of float32 a copy) when windows are long and many
NEIGHBOR_BATCH = 16384
NEIGHBOR_CELLS = 1 << 24
# level="auto": the neighbours' weight of a window's level (see the parameter's notes), and the
# weight on a stretch detrended by "level", where a heavier one would flag a fault's echo too
LEVEL = 1.0
DETRENDED_LEVEL = 0.3
# the parameters of the autoencoder, its error and its training, which the neighbours alone do not read
NETWORK_OPTIONS = (
    "channels", "latent_dim", "kernel_size", "init", "error", "loss", "epochs", "batch_size", "lr",
    "schedule", "precision", "patience",
)  # fmt: skip
# the parameters of the neighbours' search, which the autoencoder alone does not read
NEIGHBOR_OPTIONS = ("references", "level")


def _batches(x: np.ndarray, window: int, stride: int) -> Iterator[np.ndarray]:
    """The windows of ``x`` every ``stride`` steps, ``WINDOW_BATCH`` at a time (views)."""
    views = sliding_windows(x, window, stride)
    for i in range(0, len(views), WINDOW_BATCH):
        yield views[i : i + WINDOW_BATCH]


class SeriesDetector(SeriesAlarms, NeuralEstimator):
    """Anomalous steps and ranges of a long series, by the nearest training window (or reconstruction).

    Parameters
    ----------
    window : int or "auto", default "auto"
        Steps per window. "auto": the signal's dominant period, the highest peak of the
        autocorrelation of the training stretch (``window_source_`` says what was found); 64 steps
        when the signal shows no period.
    stride : int, default 1
        Steps between window starts, in training and scoring (at most ``window``). Larger strides
        score faster and localise more coarsely.
    method : {"neighbors", "reconstruction", "both"}, default "neighbors"
        A window's score. "neighbors": in each channel, the Euclidean distance of the z-normalised
        window to the nearest z-normalised training window (over ``sqrt(window)``), divided by how
        far apart normal windows lie there (the mean of that training window's 5 nearest distances
        and the channel's mean nearest distance; each training window's neighbours sought a window
        or more away); the highest over the channels. No network is trained. "reconstruction": the
        1-D convolutional autoencoder's error. "both": the two added, the error over its training
        mean. On the ECG5000-beat series of :mod:`aekit.data.labelled_series` the neighbours have
        the best VUS-PR of the nearest-window baseline, stumpy's matrix profile and TSB-AD's
        Sub-PCA (point PR-AUC 0.003 behind the baseline's), and on its synthetic faults the best
        or within 0.02 of it on each (``docs/guide/series.md``, "Choosing the default").
    references : int, default 50000
        Training windows kept to compare with, at most: an evenly strided sample of a longer
        stretch (exact nearest neighbours up to it; scoring time and memory grow with it).
    level : float or "auto", default "auto"
        The neighbours' weight of a window's level (its mean and standard deviation, in scaled
        units) beside its z-normalised shape: 0 compares shapes alone (the matrix profile), blind
        to a level shift or a drift within a window; 1 weighs a difference of one unit of level
        like a mean squared difference of shape of one per step. "auto" (``level_``): 1, or 0.3
        on a stretch detrended by "level". Measured on ``docs/guide/series.md``'s series: from
        0.3 to 1 the ECG-beat series' PR-AUC went 0.663 to 0.678 (0 gives 0.652) and single-channel
        spikes' 0.667 to 0.686; but a detrended recording models each step minus the mean of the
        last window of steps, a fault moves that mean for a window after it, and at 0.5 and above
        a 12-step stuck sensor's range grew to 25-27 steps (7-9 at 0.3); at 2 the shared UCR
        series' fine-shape anomaly was lost.
    detrend : {"auto", "none", "level", "difference"}, default "auto"
        What the detector models instead of the raw levels, so that a recording whose level climbs
        is not flagged everywhere after its training stretch (:mod:`.trend`): "level", each step
        minus the mean of the ``window_`` steps up to it; "difference", ``x[t] - x[t - 1]``. "auto":
        "level" when a straight line explains more than half of a channel's variance over the
        training stretch, else "none" (``detrend_``, ``detrend_source_`` say what was found).
    aggregate : {"auto", "max", "mean"}, default "auto"
        A step's score: the highest or the mean score of the windows covering it. "auto": the mean
        for ``method="neighbors"`` (ECG-beat series: PR-AUC 0.46 against 0.35 for "max"), the
        highest otherwise (the autoencoder's error: 0.46 against 0.24 for "mean").
    channels : tuple of int, default (32, 16)
        Encoder conv widths (each halves the length); the decoder mirrors them.
    latent_dim : int or None, default 16
        A dense code of this size between encoder and decoder, so that the network reconstructs
        the shapes of the normal stretch and not any shape; None: fully convolutional.
    kernel_size : int, default 7
    init : {"he", "glorot", "torch"}, default "he"
    scaler : {"standard", "minmax", "none"}, default "standard"
        Scaling fitted on the training stretch: ``standard`` is per channel (zero mean, unit
        variance); ``minmax`` uses the global min and max.
    error : {"mse", "mae"}, default "mse"
        A window's error: the mean squared or absolute error over its channels and steps.
    loss : {"mse", "mae"}, default "mse"
    threshold : {"max", "fpr", "pot", "mean_std", "percentile", "contamination", "mad"} or float, default "max"
        How ``threshold_`` comes from the training stretch's per-step scores. "max": the
        highest training score times ``margin``, so that nothing like the normal stretch is
        flagged; "fpr:RATE" (and "pot:RATE"): a per-step false-alarm rate, from the scores of the
        last 20% of the stretch (:mod:`.alarms`), which the detector then does not train on
        (``calibration_scores_``; :meth:`calibrate` replaces them, and its stretch then sets
        every rule); the others are those of :class:`aekit.AnomalyDetector`; a number is fixed.
    margin : float, default 1.5
        "max": the factor over the highest training score.
    k, q, contamination : float
        The parameters of "mean_std"/"mad", "percentile" and "contamination".
    epochs : int or "auto", default "auto"
        "auto": about ``auto_steps`` optimizer steps whatever the stretch's length.
    batch_size : int, default 64
    lr : float, default 1e-3
    schedule, precision, patience, seed, device, threads, verbose :
        As for :class:`aekit.AnomalyDetector`.
    encoder, decoder : torch.nn.Module or aekit.network(...), default None
        Your own networks in place of the 1-D convolutional one (``docs/guide/networks.md``): windows
        (B, channels, window) -> codes -> windows, checked on one window at ``fit``. ``input_shape``
        (channels, window) and ``latent_dim`` are passed to a spec whose constructor takes them;
        ``channels``, ``kernel_size`` and ``init`` are refused when set.

    Attributes
    ----------
    window_ : int
        The window used.
    method_ : str
        The method fitted.
    neighbors_ : aekit.estimators.series.neighbors.WindowNeighbors
        The z-normalised training windows (``references_``, ``starts_``) and each channel's mean
        distance (``scale_``); not with ``method="reconstruction"``.
    model_ : torch.nn.Module
        The autoencoder; not with ``method="neighbors"``.
    window_source_ : str
        How it was chosen ("given", or the autocorrelation peak found).
    detrend_ : str
        "none", "level" or "difference": what the detector models (see ``detrend``).
    detrend_source_ : str
        Why: "given", or the trend found (one line; ``aekit train series`` prints it).
    level_ : float
        The neighbours' weight of a window's level in use (see ``level``).
    scaler_ : aekit.estimators.preprocessing.Scaler
    decision_scores_ : ndarray of shape (n_train_steps,)
        Per-step scores of the training stretch.
    threshold_ : float
    calibration_scores_ : ndarray
        Sorted per-step scores of normal steps the detector never trained on (the kept-back end of
        the stretch, or :meth:`calibrate`'s series); absent unless one of the two made them.
    calibration_ : dict
        Where they came from: ``{"method": "tail" | "given" | "none", "steps": n}``.
    channel_names_ : list of str or None
        The channel (column) names seen at ``fit``.
    feature_names_in_ : ndarray of str
        The same names, where there were some (scikit-learn's name for them).
    constant_channels_ : list of str
        Channels that held one value over the training stretch (names, or numbers as text):
        any change in them scores as anomalous (``aekit train series`` warns).
    n_features_in_ : int
        Channels.
    history_ : list of dict

    Examples
    --------
    >>> import numpy as np, aekit
    >>> t = np.arange(4000)
    >>> x = np.sin(2 * np.pi * t / 40)
    >>> x[3000:3010] += 2.0
    >>> det = aekit.SeriesDetector(epochs=3).fit(x[:2000])
    >>> det.window_
    40
    >>> det.score_samples(x).shape
    (4000,)
    >>> det.ranges(x)[0].start >= 2950                               # doctest: +SKIP
    True
    """

    # what _build_model reads: a save records them as the model was built (base.NeuralEstimator)
    _model_params = (
        "encoder",
        "decoder",
        "channels",
        "kernel_size",
        "init",
        "latent_dim",
        "scaler",
    )
    parameters = params.SERIES_DETECTOR  # what each parameter may be (check_params)
    auto_steps = 1500  # optimizer steps of epochs="auto"

    def __init__(
        self,
        window: int | str = "auto",
        stride: int = 1,
        aggregate: str = "auto",
        method: str = "neighbors",
        references: int = 50_000,
        level: float | str = "auto",
        detrend: str = "auto",
        channels: Sequence[int] = (32, 16),
        latent_dim: int | None = 16,
        kernel_size: int = 7,
        init: str = "he",
        scaler: str = "standard",
        error: str = "mse",
        loss: str = "mse",
        threshold: str | float = "max",
        margin: float = 1.5,
        k: float = 3.0,
        q: float = 99.0,
        contamination: float = 0.01,
        epochs: int | str = "auto",
        batch_size: int = 64,
        lr: float = 1e-3,
        schedule: str = "constant",
        precision: str = "fp32",
        patience: int | None = None,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
        verbose: int = 0,
        encoder: Any = None,
        decoder: Any = None,
    ):
        self.window = window
        self.stride = stride
        self.aggregate = aggregate
        self.method = method
        self.references = references
        self.level = level
        self.detrend = detrend
        self.channels = channels
        self.latent_dim = latent_dim
        self.kernel_size = kernel_size
        self.init = init
        self.scaler = scaler
        self.error = error
        self.loss = loss
        self.threshold = threshold
        self.margin = margin
        self.k = k
        self.q = q
        self.contamination = contamination
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.schedule = schedule
        self.precision = precision
        self.patience = patience
        self.seed = seed
        self.device = device
        self.threads = threads
        self.verbose = verbose
        self.encoder = encoder
        self.decoder = decoder

    # ---- parameters ------------------------------------------------------------------------
    def _check_combinations(self) -> None:
        self.threshold_rule()
        if self.method == "neighbors" and self.encoder is not None:
            raise UsageError(
                "encoder= and decoder= are an autoencoder's, and method='neighbors' trains none: "
                "give method='both' (neighbours and reconstruction) or 'reconstruction'"
            )

    def _aggregate(self) -> str:
        """The aggregate in use: "auto" is the mean for the neighbours alone, else the highest."""
        if self.aggregate != "auto":
            return self.aggregate
        return "mean" if getattr(self, "method_", self.method) == "neighbors" else "max"

    def _level(self) -> float:
        """The level weight to fit with: ``level``, or for "auto" :data:`LEVEL`, and
        :data:`DETRENDED_LEVEL` when the detector models each step minus the mean of the window
        before it (``detrend_ == "level"``): that mean carries a fault on for a window after it."""
        if self.level != "auto":
            return float(self.level)
        return DETRENDED_LEVEL if self.detrend_ == "level" else LEVEL

    def _window_batch(self) -> int:
        """Windows scored at a time: a forward pass's batch, or a search's for the neighbours alone
        (fewer when the windows are long and many channels: 8 channels of 621 steps, 3,377)."""
        if getattr(self, "model_", None) is not None:
            return WINDOW_BATCH
        cells = max(1, int(self.input_shape_[0]) * int(self.window_))
        return int(min(NEIGHBOR_BATCH, max(WINDOW_BATCH, NEIGHBOR_CELLS // cells)))

    @property
    def _has_network(self) -> bool:
        """Whether a fitted detector holds a network (the neighbours alone train none, so loading
        one has no network's memory to check)."""
        return self.method != "neighbors"

    def _build_model(self) -> torch.nn.Module:
        if self._custom_network():
            return self._custom_model(latent_dim=self.latent_dim)
        return Conv1dAutoencoder(
            Conv1dConfig(
                in_channels=int(self.input_shape_[0]),
                channels=tuple(int(c) for c in self.channels),
                kernel_size=int(self.kernel_size),
                init=self.init,
                output_activation="sigmoid" if self.scaler == "minmax" else "linear",
                latent_dim=None if self.latent_dim is None else int(self.latent_dim),
                length=int(self.input_shape_[1]),
            )
        )

    def _resolve_window(self, x: np.ndarray) -> tuple[int, str]:
        n = len(x)
        if self.window != "auto":
            if self.window > n:
                raise DataError(
                    f"the window of {self.window} steps is longer than the training stretch of {n} "
                    f"steps; give a longer training stretch or a smaller window"
                )
            return int(self.window), "given"
        period, r = dominant_period(x)
        if period:
            return period, f"autocorrelation peak at lag {period} (r={r:.2f})"
        window = max(2, min(FALLBACK_WINDOW, n // 2))
        return window, f"no period in the autocorrelation; {window} steps"

    # ---- training --------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any = None,
        *,
        channel_names: Sequence[str] | None = None,
        **run: Any,
    ) -> SeriesDetector:
        """Train on a normal stretch ``X`` (steps,) or (steps, channels); ``y`` is ignored.

        Parameters
        ----------
        X : array-like or pandas DataFrame
            The training stretch: rows are time steps, columns channels.
        channel_names : sequence of str, optional
            Channel names (a DataFrame's columns when not given).
        **run :
            How the run is kept and watched: ``trainer=aekit.Trainer(...)``, or its fields
            (``checkpoint_dir``, ``resume``, ``callbacks``, ``tensorboard``, ``mlflow``) by name.

        Returns
        -------
        self

        Examples
        --------
        >>> det = SeriesDetector().fit(normal_stretch)          # doctest: +SKIP
        """
        trainer = Trainer.from_options(run, self)
        self.check_params()
        channel_names = column_names(X, channel_names)
        x = as_series(X)
        check_steps_by_channels(x, channel_names)
        check_channel_names(channel_names, x.shape[1])
        x, tail = self._split_calibration(x)
        check_not_constant(x, channel_names)
        held = np.all(x == x[:1], axis=0)  # channels that hold one value: any change scores high
        self.constant_channels_ = [
            channel_names[i] if channel_names is not None else str(i) for i in np.flatnonzero(held)
        ]
        self.channel_names_ = None if channel_names is None else [str(c) for c in channel_names]
        record_feature_names(self)
        self.detrend_, self.detrend_source_ = resolve_detrend(self.detrend, x, self.channel_names_)
        # the period of a trending stretch is found on its differences (the trend would hide it)
        self.window_, self.window_source_ = self._resolve_window(
            x if self.detrend_ == "none" else difference(x)
        )
        # (steps, channels): what the windows and the scaler see from here
        x = whole(detrender(self.detrend_, self.window_), x)
        self._check_calibration_length(len(x), tail)
        if self.stride > self.window_:
            raise UsageError(
                f"stride ({self.stride}) must not exceed the window ({self.window_}): steps between "
                f"windows would be scored by none"
            )
        self.level_ = self._level()
        self.input_shape_ = (x.shape[1], self.window_)  # one window: (channels, window)
        self.n_features_in_ = x.shape[1]
        self.scaler_ = Scaler(self.scaler).fit(x)  # per channel: x is (steps, channels)
        scaled = self.scaler_.transform(x)
        for name in ("model_", "neighbors_"):  # a refit with another method keeps none of the last
            self.__dict__.pop(name, None)
        self.method_, self.reconstruction_scale_, self.history_ = self.method, 1.0, []
        self._note_unused_options(trainer)
        if self.method != "reconstruction":
            # on the free cores, as scoring: beside two busy processes, torch's one thread per core
            # waited at every product's barrier (a 20,000-step fit took 6 s instead of 0.5)
            with using_threads(resolve(self._threads())):
                self.neighbors_ = WindowNeighbors(self.references, self.level_).fit(
                    scaled, self.window_
                )
            self.neighbors_.to(self._device())
            self.neighbors_.check_matched(len(scaled), self.stride, self.references)
        if self.method != "neighbors":
            self._fit_reconstruction(scaled, trainer)
        with using_threads(self._scoring_threads()):
            self.decision_scores_ = self._train_scores(scaled).astype(np.float32)
        self.__dict__.pop("calibration_scores_", None)
        self.calibration_ = {"method": "none", "steps": 0}
        if tail is not None:
            self._set_calibration(self._scores([tail]), "tail")
        return self

    def _note_unused_options(self, trainer: Trainer) -> None:
        """One line when the options of the method not fitted were given: the autoencoder's to the
        neighbours alone (the default: a user's --epochs would otherwise do nothing, silently), or
        the neighbours' to the autoencoder alone; another for fit's run options (checkpoints...)."""
        if self.method == "neighbors":
            trainer.say_unused("method='neighbors' trains no network ('reconstruction' does)")
            given = self._changed_params(NETWORK_OPTIONS)
            what = "set the autoencoder's training, and method='neighbors' trains none"
            other = "'reconstruction' (or 'both') to train it"
        elif self.method == "reconstruction":
            given = self._changed_params(NEIGHBOR_OPTIONS)
            what = "set the neighbours' search, and method='reconstruction' has none"
            other = "'neighbors' (or 'both') to search them"
        else:
            return
        if given:
            note(
                f"{', '.join(given)} {what}: they are not used; give method={other}",
                (*given, "method"),
            )

    def _fit_reconstruction(self, scaled: np.ndarray, trainer: Trainer) -> None:
        """Train the autoencoder on the windows of the scaled stretch; with the neighbours, its error
        is taken in units of its mean over the training windows, as theirs is."""
        windows = WindowRows(scaled, self.window_, self.stride)  # views, no copies
        model = self._seeded_model(self._build_model, len(windows))
        self.model_ = self._fit_model(
            model, reconstruction_loss(self.loss), windows, trainer=trainer
        )
        if self.method == "both":
            self.model_.eval()
            errors = np.concatenate(
                [
                    self._reconstruction_errors(w)[0]
                    for w in _batches(scaled, self.window_, self.stride)
                ]
            )
            self.reconstruction_scale_ = max(float(errors.mean()), 1e-12)

    def _train_scores(self, scaled: np.ndarray) -> np.ndarray:
        """Per-step scores of the training stretch: each window's neighbour is sought a window or
        more away from it (else every window would be its own neighbour, at distance 0)."""
        starts = iter(window_starts(len(scaled), self.window_, self.stride))

        def errors(windows: np.ndarray) -> np.ndarray:
            at = np.fromiter(itertools.islice(starts, len(windows)), np.int64, len(windows))
            return self._window_errors(windows, at)

        chunks = step_scores(
            [scaled], self.window_, self.stride, errors, self._window_batch(), self._aggregate()
        )
        return np.concatenate(list(chunks))

    # ---- scores ------------------------------------------------------------------------------
    def _channel_errors(self, windows: np.ndarray) -> np.ndarray:
        """(B, 1 + C): each scaled window's score (:meth:`_window_errors`), then each channel's share
        of it: its distance to the nearest training window (in units of the channel's mean) and its
        own part of the reconstruction error, as ``method`` adds them."""
        return self._window_errors(windows, channels=True)

    @torch.inference_mode()
    def _window_errors(
        self, windows: np.ndarray, starts: np.ndarray | None = None, *, channels: bool = False
    ) -> np.ndarray:
        """The score of each scaled window of a (B, C, W) view (see ``method``); ``starts``: where
        training windows start, so that their neighbours are sought a window away. ``channels``:
        (B, 1 + C), the score and then each channel's share (one pass of the network for both)."""
        score = np.zeros(len(windows))
        shares = np.zeros((len(windows), windows.shape[1])) if channels else None  # (B, C)
        if getattr(self, "neighbors_", None) is not None:
            # per channel, in units of how far apart normal windows lie where the nearest one is; the
            # channel furthest from anything normal decides (one faulty sensor of eight is seen)
            near = self.neighbors_.distances(windows, starts)  # (B, C)
            score += near.max(axis=1)
            if shares is not None:
                shares += near
        if getattr(self, "model_", None) is not None:
            errors, each = self._reconstruction_errors(windows, channels=channels)
            score += errors / self.reconstruction_scale_
            if shares is not None:
                shares += each / self.reconstruction_scale_
        return score if shares is None else np.column_stack([score, shares])

    @torch.inference_mode()
    def _reconstruction_errors(
        self, windows: np.ndarray, *, channels: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Reconstruction error of each scaled window of a (B, C, W) view, (B,); with ``channels``
        each channel's own error too, (B, C) (else None)."""
        xb = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32)).to(
            self._model_device()
        )
        out = self.model_(xb)
        errors = per_sample_error(out, xb, self.error).double().cpu().numpy()
        if not channels:
            return errors, None
        diff = out - xb  # (B, C, W)
        each = diff.square() if self.error == "mse" else diff.abs()
        return errors, each.mean(dim=2).double().cpu().numpy()

    def _check_names(self, X: Any, name: str) -> None:
        """A DataFrame's columns are the channels trained on, by name and in order (as scikit-learn
        refuses reordered or renamed feature names); arrays are taken in the training order."""
        check_columns(X, getattr(self, "channel_names_", None), name)

    def _check_channels(self, x: np.ndarray, name: str) -> np.ndarray:
        if x.shape[1] != self.input_shape_[0]:
            raise DataError(
                f"{name} has {x.shape[1]} channels but the model was trained on {self.input_shape_[0]}; "
                f"give the same channels"
            )
        return x

    def iter_scores(
        self, chunks: Iterable[Any], *, cover: bool = False, channels: bool = False
    ) -> Iterator[Any]:
        """Per-step scores of a series given in consecutive chunks, yielded as they become final.

        Memory stays bounded by one chunk plus one window, whatever the series' length: this is
        how ``aekit score`` scores a file longer than memory.

        Parameters
        ----------
        chunks : iterable of array-like (steps, channels)
        cover : bool, default False
            Yield ``(scores, cover)`` pairs: with each step's score, the number of windows scoring
            above ``threshold_`` that cover it, which narrows a range to its fault
            (:class:`aekit.estimators.series.RangeTracker`).
        channels : bool, default False
            Yield (steps, 1 + channels) scores: the step's score, then each channel's score (its
            share of the windows' scores, spread over the steps alike): which channels drove it.

        Yields
        ------
        ndarray of float64
            The scores of the next steps, in order (together, one per step of the series).

        Examples
        --------
        >>> scores = np.concatenate(list(det.iter_scores(np.array_split(x, 10))))   # doctest: +SKIP
        """
        self.check_is_fitted()
        if getattr(self, "model_", None) is not None:
            self.model_.eval()

        def checked() -> Iterator[np.ndarray]:
            for chunk, x in numbered_chunks(chunks, "the series"):
                self._check_names(chunk, "the series")
                yield self._check_channels(x, "the series")

        # the transform carries the steps before each chunk to the next
        pairs = scores_and_cover(
            map(self.scaler_.transform, through(detrender(self.detrend_, self.window_), checked())),
            self.window_,
            self.stride,
            self._channel_errors if channels else self._window_errors,
            self._window_batch(),
            self._aggregate(),
            self.threshold_ if cover else None,
            1 + self.n_features_in_ if channels else None,
        )
        # the threads a prediction uses (the free cores, as the forward's work allows): a scoring
        # beside busy neighbours on every core waits at each op's barrier (4x slower beside two).
        # Set around each chunk's work, not across the yield: the caller's code between chunks
        # (a live loop, for hours) runs with its own setting
        choice = self._scoring_threads()
        while True:
            with using_threads(choice):
                pair = next(pairs, None)
            if pair is None:
                return
            yield pair if cover else pair[0]

    def _scoring_threads(self) -> ThreadChoice:
        """CPU threads for scoring: ``threads`` when set, else as for any prediction (the forward's
        work and the free cores); the neighbours alone: the free cores."""
        if getattr(self, "model_", None) is not None:
            return self._thread_choice(self.model_, WINDOW_BATCH, passes=1)
        return resolve(self._threads())

    def _scores(self, chunks: Iterable[np.ndarray]) -> np.ndarray:
        return np.concatenate(list(self.iter_scores(chunks)))

    def _scores_and_cover(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """(per-step scores, cover) of a whole series ``X``."""
        self.check_is_fitted()
        self._check_names(X, "X")
        x = self._check_channels(as_series(X), "X")
        chunks = (x[i : i + SCORE_CHUNK] for i in range(0, len(x), SCORE_CHUNK))
        pairs = list(self.iter_scores(chunks, cover=True))
        return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])

    def score_samples(self, X: Any) -> np.ndarray:
        """The anomaly score of every step of ``X`` (higher = more anomalous).

        Parameters
        ----------
        X : array-like (steps,) or (steps, channels)

        Returns
        -------
        ndarray of shape (steps,)

        Examples
        --------
        >>> det.score_samples(series)                          # doctest: +SKIP
        """
        self.check_is_fitted()
        self._check_names(X, "X")
        x = self._check_channels(as_series(X), "X")
        return self._scores(x[i : i + SCORE_CHUNK] for i in range(0, len(x), SCORE_CHUNK))

    def channel_scores(self, X: Any) -> np.ndarray:
        """Which channels drove each step's score: (steps, channels), each channel's share of the
        windows' scores (its distance to the nearest training window, its part of the reconstruction
        error), spread over the steps as the scores are.

        Examples
        --------
        >>> det.channel_scores(series)[r.peak_step].argmax()            # doctest: +SKIP
        3
        """
        self.check_is_fitted()
        self._check_names(X, "X")
        x = self._check_channels(as_series(X), "X")
        chunks = (x[i : i + SCORE_CHUNK] for i in range(0, len(x), SCORE_CHUNK))
        return np.concatenate(list(self.iter_scores(chunks, channels=True)))[:, 1:]

    def decision_function(self, X: Any) -> np.ndarray:
        """Same as :meth:`score_samples` (higher = more anomalous)."""
        return self.score_samples(X)

    def predict(self, X: Any) -> np.ndarray:
        """1 for each anomalous step (score > ``threshold_``), else 0.

        Examples
        --------
        >>> det.predict(series)                                # doctest: +SKIP
        array([0, 0, ..., 1, 1, 0])
        """
        return (self.score_samples(X) > self.threshold_).astype(np.int64)

    def ranges(self, X: Any) -> list[AnomalyRange]:
        """Where ``X`` goes wrong: ``(start, end, peak_score, peak_step)``, ``end`` inclusive.

        Each run of anomalous steps (score > ``threshold_``) narrowed to the steps that the most
        windows above the threshold cover: the fault, without the up to a window on either side
        whose scores its windows raised (:mod:`aekit.estimators.series.windows`).

        Examples
        --------
        >>> det.ranges(series)                                 # doctest: +SKIP
        [AnomalyRange(start=4180, end=4241, peak_score=3.1, peak_step=4197)]
        """
        scores, cover = self._scores_and_cover(X)
        return find_ranges(scores, self.threshold_, cover)

    def evaluate(self, X: Any, y: Any) -> dict[str, Any]:
        """Figures of the scores of ``X`` against per-step labels ``y`` (1 = anomalous); see
        :func:`aekit.estimators.series.metrics.series_metrics`.

        Examples
        --------
        >>> det.evaluate(test_series, labels)["pr_auc"]        # doctest: +SKIP
        """
        scores, cover = self._scores_and_cover(X)
        steps = f"the series has {len(scores)} steps"
        labels = check_labels(label_vector(y, len(scores), "y", steps, per="step"), "y")
        if len(labels) and labels.all():  # nothing normal to compare with: the figures mean nothing
            raise DataError(
                f"every one of the {len(labels)} steps of y is labelled anomalous (1); the figures "
                f"compare anomalous steps with normal ones (0): check the labels"
            )
        flagged = find_ranges(scores, self.threshold_, cover)  # as ranges() gives them
        return series_metrics(labels, scores, self.threshold_, flagged=flagged, window=self.window_)

    # ---- persistence ---------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        state = super()._get_state()
        state.update(
            window=self.window_,
            window_source=self.window_source_,
            detrend=self.detrend_,
            detrend_source=self.detrend_source_,
            level_weight=self.level_,
            scaler=self.scaler_.get_state(),
            channel_names=self.channel_names_,
            constant_channels=self.constant_channels_,
            threshold_value=self.threshold_,
            method=self.method_,
            reconstruction_scale=self.reconstruction_scale_,
            calibration=self._calibration_state(),
        )
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.window_, self.window_source_ = int(state["window"]), str(state["window_source"])
        # runs saved before detrending modelled the levels
        self.detrend_ = str(state.get("detrend", "none"))
        self.detrend_source_ = str(state.get("detrend_source", "given"))
        # runs saved before level="auto" recorded the weight as the parameter only; runs saved
        # before level existed scored by reconstruction alone, where it weighs nothing
        level = state.get("level_weight", self.level)
        self.level_ = 0.0 if level == "auto" else float(level)
        self.n_features_in_ = int(self.input_shape_[0])
        self.scaler_ = Scaler.from_state(state["scaler"])
        self.channel_names_ = state.get("channel_names")
        record_feature_names(self)
        self.constant_channels_ = [str(c) for c in state.get("constant_channels") or []]
        # runs saved before ``method`` existed scored by reconstruction alone
        self.method_ = str(state.get("method", "reconstruction"))
        self.method = self.method_
        self.reconstruction_scale_ = float(state.get("reconstruction_scale", 1.0))
        saved = dict(state.get("calibration") or {"method": "none", "steps": 0})
        if "scores" in saved:
            self.calibration_scores_ = np.asarray(saved.pop("scores"), np.float32)
        self.calibration_ = saved

    def _get_tensors(self) -> dict[str, torch.Tensor]:
        tensors = super()._get_tensors() if getattr(self, "model_", None) is not None else {}
        if getattr(self, "neighbors_", None) is not None:
            tensors.update(self.neighbors_.tensors())
        tensors["decision_scores"] = torch.as_tensor(np.asarray(self.decision_scores_, np.float32))
        return tensors

    def _set_tensors(self, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
        self.decision_scores_ = tensors["decision_scores"].cpu().numpy().astype(np.float32)
        if "neighbors_references" in tensors:
            self.neighbors_ = WindowNeighbors.from_tensors(tensors, self.window_, self.level_).to(
                self._device()
            )
        if self.method_ != "neighbors":
            super()._set_tensors(tensors, state)
        else:
            self.device_ = str(self._device())

    # ---- fitted-state guard: a detector by neighbours alone has no model_ -----------------------
    def check_is_fitted(self) -> None:
        """Raise :class:`aekit.errors.NotFittedError` (one line) unless the detector is fitted."""
        if not self.__sklearn_is_fitted__():
            from ...errors import NotFittedError

            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X) first "
                f"or load a trained one with aekit.load(RUN)"
            )

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "decision_scores_")
