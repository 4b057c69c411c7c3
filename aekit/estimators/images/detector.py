"""``ImageAnomalyDetector``: which images are defective, and where (a per-pixel anomaly map).

Trained on good images only. Three methods, chosen by ``method`` (the benchmark
``benchmarks/bench_image_anomaly.py`` compares them):

* ``"features"`` (the default): a memory bank of per-pixel texture statistics (window statistics of
  a Gaussian-derivative filter bank, :mod:`aekit.models.patchfeatures`); a pixel's anomaly is its
  distance to the nearest normal one (:class:`aekit.models.patchbank.PatchBank`).
* ``"pixels"``: the same bank on raw pixel patches (PatchCore's idea without a pretrained backbone).
* ``"ssim"``: a convolutional autoencoder trained with an SSIM loss, its map ``1 - SSIM`` between
  an image and its reconstruction (Bergmann et al., VISAPP 2019).

An image's score is the mean of the highest values of its map (:mod:`aekit.models.imagescore`).
A share ``calibration_fraction`` of the training images is held out of the bank (or the
autoencoder's training) and scored once: their scores give
the image-level threshold (``threshold``, by default ``"fpr:0.01"``, the conformal rule of
:mod:`aekit.estimators.thresholds`) and the p-values; their pixels give the pixel-level threshold
(``pixel_threshold``) that draws a defect's contour on the map.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..._memory import check_fits
from ..._notes import note
from ...data.checks import check_numeric, to_float32, to_numpy
from ...errors import DataError, UsageError
from ...models.conv import ConvAutoencoder, ConvConfig
from ...models.imagescore import image_score
from ...models.patchbank import PatchBank, PatchBankConfig
from ...models.ssim import ssim_map
from ...models.ssimae import ReconstructionMap
from ...training.threads import ThreadChoice, resolve
from ...training.trainer import Trainer
from .. import params
from ..base import NeuralEstimator, as_images, check_widths
from ..thresholds import FalseAlarmRate, p_values, threshold_rule
from ..validation import RANGE_TOLERANCE, binary_labels, outside_unit_range, refuse_one_image
from .metrics import image_map_metrics

# the texture features' scales of runs saved before they were recorded (aekit.models.patchbank)
FIRST_SCALES = {"sigmas": (1.0, 2.0), "windows": (2.0, 6.0)}
PIXEL_BUDGET = 2**18  # pixels per inference batch: a (pixels, bank_size) distance block each
PIXEL_SAMPLE = 200_000  # calibration pixels the pixel threshold is computed from, at most


class ImageAnomalyDetector(NeuralEstimator):
    """Anomaly detection on images with per-pixel anomaly maps, trained on good images only.

    Parameters
    ----------
    method : {"features", "pixels", "ssim"}, default "features"
        See the module docstring.
    bank_size : int, default 16384
        Normal pixel features the bank keeps ("features", "pixels").
    patch : int, default 7
        Side of the raw pixel patch ("pixels"); odd.
    smoothing : float, default 2.0
        The Gaussian that smooths the map, in pixels.
    channels : tuple of int, default (32, 64, 64)
        The autoencoder's conv widths ("ssim"); each halves height and width.
    kernel_size : int, default 3
    threshold : str or float, default "fpr:0.01"
        The image-level rule on the calibration images' scores (``aekit.estimators.thresholds``).
    pixel_threshold : str or float, default "fpr:0.005"
        The pixel-level rule on the calibration images' map values (the contour of a defect).
    calibration_fraction : float in [0, 0.5), default 0.2
        Share of the training images held out to calibrate the thresholds (0: the training
        images themselves, whose scores are optimistic).
    epochs, batch_size, lr, seed, device, threads, verbose
        The autoencoder's training ("ssim"); ``seed`` also draws the bank and the held-out images.

    Attributes
    ----------
    model_ : torch.nn.Module
        ``model_(x)`` maps (B, C, H, W) images to (B, H, W) maps.
    input_shape_ : tuple of int
        ``(C, H, W)`` of the training images.
    calibration_scores_ : ndarray
        The held-out images' scores, sorted.
    pixel_threshold_ : float
    image_score_ : {"top", "max"}
        How an image's score comes from its map (:mod:`aekit.models.imagescore`), saved with the run.
    filter_scales_ : dict or None
        "features": the Gaussian derivatives' ``sigmas`` and the statistics' ``windows`` the bank
        was filled with (:class:`aekit.models.patchbank.PatchBankConfig`), saved with the run.

    Examples
    --------
    >>> import numpy as np, aekit
    >>> X = np.random.default_rng(0).random((20, 1, 16, 16), dtype=np.float32)
    >>> det = aekit.ImageAnomalyDetector(bank_size=256).fit(X)
    >>> det.anomaly_maps(X[:2]).shape, det.score_samples(X[:2]).shape
    ((2, 16, 16), (2,))
    """

    parameters = params.IMAGE_DETECTOR
    auto_steps = 3000  # "ssim": optimizer steps of an epochs="auto" training
    auto_max_epochs = 300

    def __init__(
        self,
        method: str = "features",
        bank_size: int = 16384,
        patch: int = 7,
        smoothing: float = 2.0,
        channels: tuple[int, ...] = (32, 64, 64),
        kernel_size: int = 3,
        threshold: str | float = "fpr:0.01",
        pixel_threshold: str | float = "fpr:0.005",
        calibration_fraction: float = 0.2,
        epochs: int | str = "auto",
        batch_size: int = 16,
        lr: float = 1e-3,
        seed: int = 0,
        device: str = "auto",
        threads: int | None = None,
        verbose: int = 0,
    ):
        self.method = method
        self.bank_size = bank_size
        self.patch = patch
        self.smoothing = smoothing
        self.channels = channels
        self.kernel_size = kernel_size
        self.threshold = threshold
        self.pixel_threshold = pixel_threshold
        self.calibration_fraction = calibration_fraction
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device
        self.threads = threads
        self.verbose = verbose

    def _check_combinations(self) -> None:
        if self.method == "pixels" and self.patch % 2 == 0:
            raise UsageError(f"patch must be odd (centred on its pixel), got {self.patch}")

    # ---- inputs -------------------------------------------------------------------------------
    def _images(
        self, X: Any, name: str = "X", reset: bool = False, fitted: tuple[int, ...] | None = None
    ) -> np.ndarray:
        """(n, C, H, W) float32 in [0, 1]; (n, H, W) gains a channel axis. ``fitted``: the fitted
        model's (C, H, W), against which one channels-last image (H, W, C) is told from a batch."""
        X = self._check_x(X, name, reset=reset) if reset else self._check_aux(X, name)
        if X.ndim not in (3, 4):  # as given: rows (n, d) would become one-row images
            raise DataError(
                f"{name} has shape {X.shape}; the ImageAnomalyDetector expects images shaped "
                f"(n, C, H, W) or (n, H, W) (one image: X[None])"
            )
        if fitted is not None:
            refuse_one_image(X.shape, fitted, name)
        X = as_images(X)
        if X.shape[-1] < 2 or X.shape[-2] < 2:
            raise DataError(  # width x height, as every other line writes a size
                f"{name} holds images of {X.shape[-1]}x{X.shape[-2]} pixels (width x height); "
                f"expected at least 2x2 (width and height of 2 or more)"
            )
        lo, hi = float(X.min()), float(X.max())
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            # "divide by 255" for 8-bit pixels only: 16-bit ones / 255 reach 257 and were told it again
            raise outside_unit_range(lo, hi, name, "the ImageAnomalyDetector", None)
        return np.ascontiguousarray(X, dtype=np.float32)

    def check_fit_data(self, X: Any) -> None:
        self._images(X, "X")

    def _fitted_images(self, X: Any, name: str = "X") -> np.ndarray:
        """Images for the fitted model: its channel count, any height and width."""
        self.check_is_fitted()
        X = self._images(X, name, fitted=self.input_shape_)
        if X.shape[1] != self.input_shape_[0]:
            raise DataError(
                f"{name} has {X.shape[1]} channels; the detector was trained on "
                f"{self.input_shape_[0]}-channel images (1 = grayscale, 3 = RGB)"
            )
        return X

    # ---- the model ----------------------------------------------------------------------------
    def _build_model(self) -> torch.nn.Module:
        c = int(self.input_shape_[0])
        if self.method == "ssim":
            ae = ConvAutoencoder(
                ConvConfig(
                    in_channels=c,
                    channels=check_widths("channels", self.channels),
                    kernel_size=int(self.kernel_size),
                )
            )
            return ReconstructionMap(ae, float(self.smoothing))
        config = PatchBankConfig(
            in_channels=c,
            features="filters" if self.method == "features" else "pixels",
            patch=int(self.patch),
            bank_size=int(self.bank_size),
            smoothing=float(self.smoothing),
        )
        # a loaded run: the scales its bank was filled with (saved in its state)
        scales = getattr(self, "filter_scales_", None)
        if scales is not None:
            config.sigmas, config.windows = (tuple(scales[k]) for k in ("sigmas", "windows"))
        return PatchBank(config)

    def _model_device(self) -> torch.device:
        # the bank has buffers and no parameters
        tensor = next(iter(self.model_.parameters()), None)
        return (tensor if tensor is not None else next(iter(self.model_.buffers()))).device

    def _thread_choice(self, model: torch.nn.Module, batch_size: int, passes: int) -> ThreadChoice:
        return resolve(self._threads())

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(fit images, calibration images), a seeded split; no calibration part below 5 images."""
        n_cal = math.floor(self.calibration_fraction * n)
        if n_cal < 1 or n - n_cal < 4:
            return np.arange(n), None
        order = np.random.default_rng(self.seed).permutation(n)
        return np.sort(order[n_cal:]), np.sort(order[:n_cal])

    # ---- training -----------------------------------------------------------------------------
    def _note_untrained(self) -> None:
        """One line when the ssim network's training options were given to a method without one."""
        given = self._changed_params(("epochs", "batch_size", "lr", "channels", "kernel_size"))
        if given:
            note(
                f"{', '.join(given)} set the 'ssim' method's training, and method={self.method!r} "
                f"trains no network: they are not used; give method='ssim' to train it",
                (*given, "method"),
            )

    def fit(self, X: Any, y: Any = None, **run: Any) -> ImageAnomalyDetector:
        """Train on good images ``X`` (n, C, H, W) or (n, H, W) in [0, 1]; ``y`` is ignored.

        ``**run``: as for :meth:`aekit.Denoiser.fit` (``trainer=``, ``checkpoint_dir``, ...), used
        by the "ssim" method's training.
        """
        trainer = Trainer.from_options(run, self)
        self.check_params()
        X = self._images(X, "X", reset=True)
        if len(X) < 2:
            raise DataError(f"X has {len(X)} image; give at least 2 good images")
        self._record_input_shape(X)
        if self.smoothing > max(X.shape[-2:]):  # its kernel (6 sigma) would be built all the same
            raise UsageError(
                f"smoothing {self.smoothing:g} px is wider than the images ({X.shape[-1]}x"
                f"{X.shape[-2]}): it would flatten every map; give at most {max(X.shape[-2:])}"
            )
        fit_rows, cal_rows = self._split(len(X))
        self.filter_scales_ = None  # the model's own: recorded once built
        self.image_score_ = "top"
        model = self._seeded_model(self._build_model)
        if isinstance(model, PatchBank):
            self.filter_scales_ = {"sigmas": model.config.sigmas, "windows": model.config.windows}
        if self.method == "ssim":
            self.model_ = self._train_autoencoder(model, X[fit_rows], trainer)
        else:
            trainer.say_unused(f"method={self.method!r} trains no network (method='ssim' does)")
            self._note_untrained()
            self.history_ = []
            generator = torch.Generator().manual_seed(int(self.seed))
            model = model.to(self._device())
            model.fill(torch.as_tensor(X[fit_rows], device=self.bank_device(model)), generator)
            self.model_ = model.eval()
            self.device_ = str(self._device())
        self.calibrate(X if cal_rows is None else X[cal_rows])
        return self

    @staticmethod
    def bank_device(model: torch.nn.Module) -> torch.device:
        return next(iter(model.buffers())).device

    def _train_autoencoder(
        self, model: ReconstructionMap, X: np.ndarray, trainer: Trainer
    ) -> torch.nn.Module:
        def loss(net, x, target=None, generator=None):
            return 1 - ssim_map(x, net(x)).mean()  # SSIM loss: structure, not squared error

        self._fit_model(model.autoencoder, loss, X, trainer=trainer)
        return model.eval()

    def calibrate(self, X: Any) -> ImageAnomalyDetector:
        """New calibration from good images ``X`` the detector did not train on: the image scores
        and the pixel threshold come from them. Returns ``self``."""
        maps = self.anomaly_maps(X)
        self.calibration_scores_ = np.sort(self.image_scores(maps))
        pixels = maps.ravel()
        if len(pixels) > PIXEL_SAMPLE:  # a seeded sample: the quantile is as good, much cheaper
            rng = np.random.default_rng(self.seed)
            pixels = pixels[rng.choice(len(pixels), PIXEL_SAMPLE, replace=False)]
        self.pixel_threshold_ = threshold_rule(self.pixel_threshold).compute(pixels)
        self.calibration_ = {"images": int(len(maps))}
        self.check_calibration()
        return self

    def check_calibration(self) -> None:
        """Say in one line (a note) when the calibration images are too few for the false-alarm
        rate that ``threshold`` asks for; say nothing when they are enough or the rule is not ``fpr``."""
        rule = threshold_rule(self.threshold)
        n = len(self.calibration_scores_)
        if isinstance(rule, FalseAlarmRate):
            line = rule.shortfall(n, "images", "train on more good images (or calibrate on more)")
            if line:
                note(line)

    # ---- inference ----------------------------------------------------------------------------
    def _maps(self, X: np.ndarray) -> np.ndarray:
        pixels = math.prod(X.shape[2:])
        batch = int(max(1, PIXEL_BUDGET // pixels))
        if pixels > PIXEL_BUDGET:  # one image alone past the budget: will its map fit?
            per_pixel = getattr(self.model_, "bytes_per_pixel", None)
            if per_pixel is None:  # the SSIM autoencoder's: its network's activations
                self._check_one_fits(X.shape[1:])
            else:  # the memory bank's features (a 12000x12000 PNG took 23 GB and a kill)
                check_fits(
                    pixels * per_pixel(),
                    f"mapping an image of {X.shape[-1]}x{X.shape[-2]} pixels",
                    "score smaller images: resize them (--image-size WxH) or cut them into tiles",
                )
        return self.map_batches(self.model_, X, batch_size=batch)

    def anomaly_maps(self, X: Any) -> np.ndarray:
        """Per-pixel anomaly maps (n, H, W), higher = more anomalous; any height and width.

        Examples
        --------
        >>> maps = det.anomaly_maps(images)          # doctest: +SKIP
        """
        return self._maps(self._fitted_images(X))

    def image_scores(self, maps: np.ndarray) -> np.ndarray:
        """Each image's score from its map (n, H, W) -> (n,): the mean of the map's highest values
        (:func:`aekit.models.imagescore.image_score`; the maximum for runs saved before it)."""
        rule = getattr(self, "image_score_", "top")
        scores = image_score(torch.as_tensor(_checked_maps(maps)), rule)
        return scores.numpy().astype(np.float64)

    def decision_function(self, X: Any) -> np.ndarray:
        """Each image's anomaly score (higher = more anomalous): the mean of its map's highest values."""
        return self.image_scores(self.anomaly_maps(X))

    def score_samples(self, X: Any) -> np.ndarray:
        """Same as :meth:`decision_function`."""
        return self.decision_function(X)

    @property
    def threshold_(self) -> float:
        """The image-level threshold: ``threshold``'s rule on ``calibration_scores_``."""
        self.check_is_fitted()
        threshold = params.validate_param(self, "threshold")  # set_params after fit: unchecked
        return threshold_rule(threshold).compute(self.calibration_scores_)

    def predict(self, X: Any) -> np.ndarray:
        """1 for a defective image (score > ``threshold_``), else 0."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def fit_predict(self, X: Any, y: Any = None, **run: Any) -> np.ndarray:
        """``fit(X).predict(X)``: the training images' labels, as scikit-learn's outlier detectors give."""
        return self.fit(X, y, **run).predict(X)

    def p_values(self, X: Any) -> np.ndarray:
        """Conformal p-values of ``X``'s image scores against ``calibration_scores_``."""
        return p_values(self.calibration_scores_, self.decision_function(X))

    def evaluate(
        self, X: Any, y: Any = None, masks: Any = None, *, names: Any = None
    ) -> dict[str, Any]:
        """Image ROC-AUC and PR-AUC against ``y`` (1 = defective; from the masks when not given),
        pixel ROC-AUC and PRO against ``masks`` (n, H, W), the false-alarm rate of good images.
        A good image (``y`` 0) whose mask holds defect pixels is noted, named by ``names`` (the
        images' names; by default their positions).

        Examples
        --------
        >>> det.evaluate(X_test, masks=masks)["pixel_roc_auc"]     # doctest: +SKIP
        0.97
        """
        maps = self.anomaly_maps(X)
        masks = None if masks is None else _checked_masks(masks, maps.shape)
        if y is None:
            if masks is None:
                raise DataError("evaluate needs labels y or masks")
            y = masks.reshape(len(masks), -1).any(1)
        y = binary_labels(y, len(maps))
        if masks is not None:
            _note_good_with_defects(y, masks, names)
        scores = self.image_scores(maps)
        out: dict[str, Any] = image_map_metrics(y, scores, masks, maps)
        flagged = scores > self.threshold_
        out["threshold"] = self.threshold_
        out["false_alarm_rate"] = float(flagged[y == 0].mean()) if (y == 0).any() else None
        out["recall"] = float(flagged[y == 1].mean()) if (y == 1).any() else None
        out["n_images"], out["n_defective"] = int(len(y)), int(y.sum())
        return out

    # ---- persistence --------------------------------------------------------------------------
    def _get_state(self) -> dict[str, Any]:
        state = super()._get_state()
        state["calibration_scores"] = [float(s) for s in self.calibration_scores_]
        state["pixel_threshold"] = float(self.pixel_threshold_)
        scales = getattr(self, "filter_scales_", None)
        if scales is not None:
            state["filter_scales"] = {k: [float(s) for s in v] for k, v in scales.items()}
        if hasattr(self, "image_score_"):
            state["image_score"] = self.image_score_
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.calibration_scores_ = np.asarray(state["calibration_scores"], dtype=np.float64)
        self.pixel_threshold_ = float(state["pixel_threshold"])
        # saved before the scales were recorded: the first ones, which its bank was filled with
        self.filter_scales_ = state.get("filter_scales", FIRST_SCALES)
        self.image_score_ = state.get("image_score", "max")  # its calibration scores are maxima
        self.calibration_ = {"images": int(len(self.calibration_scores_))}  # what calibrate() says


def _checked_masks(masks: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Defect masks as bool (n, H, W) of ``shape``, the maps'; one line otherwise: another shape,
    masks of different shapes (numpy's own error named none), NaN or infinity."""
    if isinstance(masks, (list, tuple)):
        shapes = sorted({tuple(np.shape(m)) for m in masks})
        if len(shapes) > 1:
            shown = ", ".join(map(str, shapes[:3])) + (", ..." if len(shapes) > 3 else "")
            raise DataError(
                f"masks hold arrays of different shapes ({shown}); expected {tuple(shape)}, one "
                f"(H, W) mask per image"
            )
    masks = to_numpy(masks, "masks")  # a torch tensor too
    if masks.shape != shape:
        raise DataError(f"masks have shape {masks.shape}; expected {shape}")
    if masks.dtype.kind == "f" and not np.isfinite(masks).all():
        raise DataError("masks hold NaN or infinity; expected 0 (good) and non-zero (defect)")
    return masks.astype(bool)


def _note_good_with_defects(y: np.ndarray, masks: np.ndarray, names: Any) -> None:
    """A note naming the images labelled good whose masks hold defect pixels: the image figures
    count them good while the pixel figures count those pixels as defects, so ``y`` or the masks
    are wrong (a defect's mask filed under ``good/``)."""
    found = np.flatnonzero((y == 0) & masks.reshape(len(masks), -1).any(1))
    if not len(found):
        return
    first = f"image {found[0]}" if names is None else str(names[found[0]])
    one = len(found) == 1
    what = "1 image labelled good has" if one else f"{len(found)} images labelled good have"
    note(
        f"{what} defect pixels in {'its mask' if one else 'their masks'} (the first: {first}): "
        f"the image figures count {'it' if one else 'them'} as good, the pixel figures those "
        f"pixels as defects; check the labels or the masks"
    )


def _checked_maps(maps: Any) -> np.ndarray:
    """Anomaly maps (n, H, W) of finite numbers as float32; one line otherwise (one map (H, W) was
    taken as H maps of one row, a NaN pixel gave a NaN score)."""
    x = to_numpy(maps, "maps")
    check_numeric(x, "maps")
    if x.ndim != 3:
        raise DataError(
            f"maps has shape {x.shape}; expected anomaly maps (n, H, W) as anomaly_maps returns "
            f"them (one map: maps[None])"
        )
    return to_float32(x, "maps")
