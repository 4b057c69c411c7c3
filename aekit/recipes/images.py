"""The image anomaly recipe: ``aekit train anomaly --data good_images/`` (a folder of images).

The anomaly family's image row (:mod:`aekit.families`): a folder of images trains an
:class:`aekit.ImageAnomalyDetector` (a table or an array trains the :class:`aekit.AnomalyDetector`,
:mod:`aekit.recipes.anomaly`). The images are grayscale or RGB, of any size:

* ``--image-size WxH`` resizes them all (later commands resize to it too);
* ``--patch SIZE`` cuts ``--patches N`` random SIZE x SIZE crops (seeded) of each image, which are
  then the samples (split, fitted, calibrated): large images at their own scale. The maps of later
  images of any size are the same per-pixel maps, but an image's score is the mean of its map's
  highest values (at most 256 pixels), so a larger image scores higher than a crop: calibrate the
  run on whole good images (``aekit calibrate RUN --data good/``) to flag whole images at the rate
  asked;
* otherwise images of several sizes are cut to their central part of the smallest size (one note).

A folder whose images lie in class sub-folders is labelled: ``good/`` (or ``--normal-label NAME``)
holds the good images, any other sub-folder defective ones. The detector trains on the good images
of the training split; the held-out split (``--validation-split``) gives ``metrics.json``: the
share of good images flagged, and with defective images the image ROC-AUC and PR-AUC.

:func:`score_images` is what ``aekit score`` runs for an image run (a score per image, a map and an
overlay per image); :meth:`ImageAnomalyRecipe.evaluate_masks` what ``aekit evaluate --masks`` runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import _io, plots
from .._notes import note
from .._transaction import staged_folder
from ..data import Data, read_path
from ..data.checks import unicode_forms
from ..data.images import (
    MIN_SIDE,
    crop_count,
    find_images,
    image_files,
    mask_file,
    random_patches,
    read_image,
    read_mask,
    relative_names,
    size_groups,
)
from ..data.readers import iter_image_batches, read_image_files
from ..errors import DataError, UsageError
from ..estimators.anomaly import SCORE_COLUMNS
from ..estimators.thresholds import p_values
from ..models.imagescore import TOP_FRACTION, TOP_MOST
from ..training.progress import Pass
from ..training.trainer import Trainer
from .anomaly import labels_match, normal_rows, promised_rate, target_rate
from .base import Recipe, figure_indices, split_data
from .spec import DataSpec

NORMAL_CLASS = "good"  # the class sub-folder of good images (MVTec AD's name)
MAP_FORMATS = ("png", "npy")
FIGURE_IMAGES = 8  # held-out images drawn with their maps in figures/maps.png


def map_scale(est) -> float:
    """The map value drawn white in a map PNG and in the last colour of an overlay: twice the pixel
    threshold, so that the threshold sits in the middle of the scale (128 of 255 in a PNG)."""
    t = float(est.pixel_threshold_)
    return 2 * t if t > 0 else 1.0


def check_mode(channels: int, mode: str | None, where: Any) -> None:
    """One line naming the input whose images are grayscale for a run of ``channels`` 3 (colour),
    or the reverse (the detector's own message names only its argument, X)."""
    want = "L" if int(channels) == 1 else "RGB"
    if mode is not None and mode != want:
        raise DataError(
            f"{where} is read as {MODE_WORDS[mode]}, but the run was trained on "
            f"{MODE_WORDS[want]} images; convert the images (an indexed-colour PNG, even of grays, "
            f"reads as colour)"
        )


MODE_WORDS = {"L": "grayscale", "RGB": "colour (RGB)"}


def refuse_thin(data: Data, path: str | Path) -> None:
    """One line naming an image of ``data`` (read from ``path``, a folder or one image) too thin
    for a map: the detector's own message named its argument, X, and the size height first."""
    h, w = data.x.shape[-2:]
    if min(h, w) >= MIN_SIDE:
        return
    own = data.sizes[0] if data.sizes else (h, w)
    where = Path(path) / data.names[0] if Path(path).is_dir() and data.names else Path(path)
    raise DataError(
        f"{where} is {own[1]}x{own[0]} pixels; expected at least {MIN_SIDE} pixels in width and "
        f"height"
    )


def good_labels(data: Data, normal_label: Any = None, by_masks: bool = False) -> Data:
    """``data`` with ``y`` 0 for the good images (the class sub-folder ``good``, or
    ``normal_label``), 1 for the others; unlabelled when the folder has no class sub-folders, or
    none named ``good`` (sub-folders that only sort the images: one note says so, and what labels
    the images then: nothing, or ``by_masks``, the defect masks of ``aekit evaluate --masks``)."""
    if data.y is None:
        loose = _refuse_loose_images(data.names or [], data.source, normal_label)
        only = _one_sub_folder(data.names or [])
        if only is not None:  # MVTec's layout for one defect type: scratch/ alone
            return _one_class(data, only, normal_label, by_masks)
        if normal_label is not None:
            raise UsageError(
                f"--normal-label {normal_label} names the class sub-folder of the good images, but "
                f"{data.source} has no class sub-folders{loose}; drop it"
            )
        return data
    normal = NORMAL_CLASS if normal_label is None else normal_label
    good = labels_match(data.y, normal)
    found = ", ".join(map(str, np.unique(data.y)[:10]))
    if not good.any() and normal_label is not None:
        raise UsageError(
            f"--normal-label {normal_label}: {data.source} has no class sub-folder of that name; "
            f"its sub-folders are {found}{unicode_forms([normal_label], np.unique(data.y))}"
        )
    if not good.any():  # sub-folders that sort the images, not classes: every image is good
        _note_no_good(data, f"sub-folders {found}", by_masks)
        return dataclasses.replace(data, y=None)
    return dataclasses.replace(data, y=(~good).astype(np.int64))


def _note_no_good(data: Data, folders: str, by_masks: bool) -> None:
    """The note for class sub-folders of which none holds the good images: what labels them."""
    taken = "labelled by the masks" if by_masks else "all images taken as good"
    note(
        f"{data.source}: {folders}, none named {NORMAL_CLASS!r}: {taken} "
        f"(--normal-label NAME names the sub-folder of the good ones)"
    )


def _one_sub_folder(names: list[str]) -> str | None:
    """The one sub-folder every image lies in (the reader gives a single class no labels), else None."""
    classes = {n.split("/", 1)[0] for n in names if "/" in n}
    inside = bool(names) and all("/" in n for n in names)
    return classes.pop() if inside and len(classes) == 1 else None


def _one_class(data: Data, folder: str, normal_label: Any, by_masks: bool) -> Data:
    """``data`` of the one class sub-folder ``folder``: good images when it is the good one;
    else a ``--normal-label`` naming another is refused (naming this one), and without one a
    note says what labels the images, as for several sub-folders none named good."""
    normal = NORMAL_CLASS if normal_label is None else str(normal_label)
    if folder == normal:
        return data
    if normal_label is not None:
        raise UsageError(
            f"--normal-label {normal_label}: {data.source} has no class sub-folder of that name; "
            f"its one sub-folder is {folder}{unicode_forms([normal_label], np.array([folder]))}"
        )
    _note_no_good(data, f"sub-folder {folder}", by_masks)
    return data


def _refuse_loose_images(names: list[str], source: Any, normal_label: Any) -> str:
    """Refuse a folder whose ``good/`` sub-folder lies beside images at its top level: sub-folders
    are classes only when every image lies in one, so the defective images would be trained on as
    good ones, silently. Otherwise the words for a refused ``--normal-label`` ("" or why)."""
    top = [n for n in names if "/" not in n]
    classes = sorted({n.split("/", 1)[0] for n in names if "/" in n})
    if not top or not classes:
        return ""
    normal = NORMAL_CLASS if normal_label is None else str(normal_label)
    if normal in classes:
        shown = ", ".join(f"{c}/" for c in classes[:5]) + (", ..." if len(classes) > 5 else "")
        raise UsageError(
            f"{source} has class sub-folders ({shown}) and {len(top)} image(s) at its top "
            f"({', '.join(top[:3])}{', ...' if len(top) > 3 else ''}): sub-folders are classes only "
            f"when every image lies in one; move those images into a sub-folder or out of the folder"
        )
    return (
        f" (sub-folders are classes only when every image lies in one; {len(top)} lie at its top)"
    )


def _patched(spec: DataSpec, seed: int) -> Data:
    """Random ``spec.patch`` crops of each image of ``spec.data`` (at its own size, or resized)."""
    images, names, labels, modes = [], [], [], {}  # modes: a file of each, to name
    for batch in iter_image_batches(spec.data, spec.image_size):
        images += list(batch.x)
        names += batch.names
        labels += [] if batch.y is None else list(batch.y)
        modes.setdefault(batch.image_mode, batch.names[0])
    if len(modes) > 1:  # a file of each mode, as iter_images names them (a batch is of one size)
        (m0, n0), (m1, n1) = list(modes.items())[:2]
        raise DataError(
            f"{spec.data}: images have different modes: {n0} is {m0}, {n1} is {m1}; expected all "
            f"grayscale (L) or all colour (RGB)"
        )
    if not labels:  # good_labels sees the crops, not the files' names
        _refuse_loose_images(names, spec.data, spec.normal_label)
    per = spec.patches or crop_count([img.shape[1:] for img in images], spec.patch)
    crops = random_patches(images, names, spec.patch, per, seed)
    y = np.repeat(np.asarray(labels), per) if labels else None
    return Data(x=crops, y=y, image_mode=next(iter(modes)), source=str(spec.data))


class ImageAnomalyRecipe(Recipe):
    """``aekit train anomaly --data FOLDER``: see the module docstring.

    Examples
    --------
    >>> from aekit.recipes import DataSpec, train_run                          # doctest: +SKIP
    >>> est, metrics = train_run("anomaly", {}, DataSpec(data="good/"), "runs/parts")  # doctest: +SKIP
    """

    name = "anomaly"
    estimator = "ImageAnomalyDetector"
    default_dataset = None
    takes_tables = False
    defaults: dict[str, Any] = {}  # the estimator's own defaults
    presets: dict[str, dict[str, Any]] = {}

    def build(self, params: dict[str, Any]):
        """The detector; a parameter it does not take (a table detector's) is one line."""
        from ..estimators.persistence import estimator_class

        known = estimator_class(self.estimator)().get_params(deep=False)
        unknown = sorted(k for k in params if k not in known and k != "preset")
        if unknown:
            raise UsageError(
                f"{unknown[0]} does not apply to a folder of images (it trains the image detector, "
                f"ImageAnomalyDetector); drop it"
            )
        return super().build(params)

    def read(self, spec: DataSpec, path: str | None = None, crop_mixed: bool = False) -> Data:
        """The images at ``path`` (default: the run's), resized as the run resizes, labelled by
        their class sub-folders (:func:`good_labels`)."""
        path = path or spec.data
        data = read_path(path, image_size=spec.image_size, crop_mixed=crop_mixed)
        refuse_thin(self.require_images(data, path), path)
        return good_labels(data, spec.normal_label)

    def read_good(self, spec: DataSpec, path: str | Path, channels: int) -> np.ndarray:
        """The good images at ``path`` to calibrate a run of ``channels`` on (a class sub-folder
        ``good``'s alone), at the run's image size; images of several sizes are one line (a score
        grows with the image), and so are images of the other mode."""
        files = image_files(Path(path)) if Path(path).is_dir() else [Path(path)]
        if spec.image_size is None and len(size_groups(files)) > 1:
            raise UsageError(
                f"{path} holds images of several sizes; calibrate on good images of the size the "
                f"run will score (an image's score is the mean of its map's highest values, which "
                f"grows with the image)"
            )
        data = self.read(spec, path)
        check_mode(channels, data.image_mode, path)
        return normal_rows(data).x

    def load_data(self, spec: DataSpec, seed: int) -> tuple[Data, Data]:
        if spec.data is None:  # the family's table row trains without --data (ECG5000)
            raise UsageError("the image detector trains on --data FOLDER, a folder of good images")
        if spec.patch is not None:
            data = good_labels(_patched(spec, seed), spec.normal_label)
        else:
            data = self.read(spec, crop_mixed=spec.image_size is None)
        return split_data(data, spec.validation_split, seed, stratify=data.y is not None)

    def load_eval_data(self, spec: DataSpec, seed: int, path: str | None = None) -> Data:
        """A folder (or image) at the run's image size, else the run's held-out split."""
        if path is None:
            return self.load_data(spec, seed)[1]
        return self.read(spec, path)

    def fit(self, est, train: Data, val: Data, trainer: Trainer):
        x = normal_rows(train).x
        if len(x) == 0:
            raise UsageError(f"no good images to train on in {train.source}; check --normal-label")
        # the run's checkpoints and logs are the ssim network's: the other methods train none
        return est.fit(x, trainer=trainer if est.method == "ssim" else None)

    def compare_baselines(self, est, spec: DataSpec, seed: int, data: Data | None = None):
        raise UsageError(
            "--baselines compares a table detector with scikit-learn's; this run detects anomalies "
            "in images: drop --baselines"
        )

    def evaluate(self, est, data: Data) -> dict[str, Any]:
        """The held-out figures: with labels, the image ROC-AUC and PR-AUC and the share of good
        images flagged (:meth:`aekit.ImageAnomalyDetector.evaluate`); else what is flagged."""
        check_mode(est.input_shape_[0], data.image_mode, data.source)
        if data.y is None:
            scores = est.decision_function(data.x)
            out = {
                "threshold": float(est.threshold_),
                "n_images": int(len(scores)),
                "anomaly_rate": float(np.mean(scores > est.threshold_)),
                "mean_score": float(np.mean(scores)),
            }
        else:
            out = est.evaluate(data.x, data.y)
        return {**out, "pixel_threshold": float(est.pixel_threshold_)}

    def quality_warnings(self, est, metrics: dict[str, Any], data: Data) -> list[str]:
        """The base checks, and the ssim network's learning rate as the basic, stacked and denoise
        recipes judge theirs (:func:`aekit.recipes.quality.lr_too_high`): at --lr 1000 its loss
        rose to 1, no structure reconstructed, and the run was kept and calibrated without a word.
        The other methods train no network."""
        from .quality import lr_too_high

        found = lr_too_high(est.history_, est.lr) if est.method == "ssim" else None
        useless = (
            f"the ssim network trained badly (its loss did not fall), so its scores and "
            f"threshold say little: {found}"
        )
        return super().quality_warnings(est, metrics, data) + ([useless] if found else [])

    def evaluate_masks(
        self, est, spec: DataSpec, path: str | None, masks: str | Path
    ) -> dict[str, Any]:
        """The figures of :meth:`evaluate` on the images at ``path`` and, against the defect masks
        in the folder ``masks`` (same relative names; none for a good image), the pixel ROC-AUC
        and PRO. A ``masks`` folder inside ``path`` (anomalib's ``Folder`` layout: ``good/``,
        ``crack/``, ``mask/crack/``) holds no images to score: it is left out of them."""
        if path is None:
            raise UsageError(
                "--masks needs --data FOLDER: the images the masks belong to (this run's held-out "
                "images are crops, with no mask files)"
            )
        data = self.require_images(_images_besides(Path(path), Path(masks), spec), path)
        refuse_thin(data, path)
        data = good_labels(data, spec.normal_label, True)
        check_mode(est.input_shape_[0], data.image_mode, data.source)
        truth, found = read_masks(data, Path(masks))
        y = truth.reshape(len(truth), -1).any(1) if data.y is None else data.y
        out = est.evaluate(data.x, y, truth, names=data.names)
        return {**out, "pixel_threshold": float(est.pixel_threshold_), "n_masks": found}

    def figures(self, est, data: Data, folder: Path) -> list[Path]:
        folder = Path(folder)
        picks = figure_indices(data, FIGURE_IMAGES, int(est.seed))
        maps = est.anomaly_maps(data.x[picks])
        t, scale = float(est.pixel_threshold_), map_scale(est)
        written = [
            plots.plot_map_overlays(
                data.x[picks], maps, folder / "maps.png", threshold=t, scale=scale, overwrite=True
            )
        ]
        scores = est.decision_function(data.x)
        y = np.zeros(len(scores), np.int64) if data.y is None else np.asarray(data.y)
        written.append(
            plots.plot_error_histogram(
                scores[y == 0],
                scores[y == 1],
                est.threshold_,
                folder / "score_histogram.png",
                xlabel=score_words(est),
                title="image scores of held-out images",  # no method's score is a reconstruction's
                target_rate=target_rate(est.threshold),
                promised_rate=promised_rate(est.threshold, len(est.calibration_scores_)),
                overwrite=True,
            )
        )
        if 0 < y.sum() < len(y):
            written.append(
                plots.plot_roc(y, scores, folder / "roc.png", title="image ROC", overwrite=True)
            )
        if est.history_:
            written.append(plots.plot_history(est.history_, folder / "loss.png", overwrite=True))
        return written


def score_words(est) -> str:
    """What the score axis holds, by the rule the detector records (``image_score_``): the mean of
    its map's top pixels, or the map's maximum for a run saved before that score."""
    if getattr(est, "image_score_", "top") == "max":
        return "image score (its map's maximum)"
    return f"image score (mean of its map's top {TOP_FRACTION:.0%}, at most {TOP_MOST} pixels)"


def _images_besides(folder: Path, masks: Path, spec: DataSpec) -> Data:
    """The images at ``folder`` but those inside ``masks``: read as a class sub-folder of
    defective images, the masks took the pixel ROC-AUC from 0.995 to 0.66 (and grayscale masks
    beside colour images were refused as images of two modes)."""
    try:
        inside = masks.resolve().relative_to(folder.resolve()).as_posix()
    except (ValueError, OSError):  # not inside (or not a folder): nothing to leave out
        return read_path(folder, image_size=spec.image_size)
    if inside == ".":
        raise UsageError(f"--masks {masks} is the --data folder itself; give the masks' own folder")
    files = image_files(folder)
    keep = [not name.startswith(inside + "/") for name in relative_names(files, folder)]
    if not all(keep):
        note(f"{masks} lies inside {folder}: its {keep.count(False)} mask image(s) are not scored")
    return read_image_files([f for f, k in zip(files, keep) if k], folder, spec.image_size)


def read_masks(data: Data, folder: Path) -> tuple[np.ndarray, int]:
    """The bool (n, H, W) defect masks of ``data``'s images from ``folder`` (at the images' size
    in ``data``), and how many mask files there were; an image without one is good (all False).
    ``data.y``, when given, is 1 for a defective image (:func:`good_labels`): a folder that holds
    no mask of any image is refused, and a defective image without a mask is noted, with the masks
    that match no image; without ``data.y`` such a mask is refused. Masks of intermediate values
    are noted (:func:`read_mask`)."""
    if not folder.is_dir():
        raise UsageError(f"--masks {folder} is not a folder; expected a folder of mask images")
    shape = data.x.shape[-2:]
    masks, has = np.zeros((len(data), *shape), bool), np.zeros(len(data), bool)
    claimed, graded = set(), []
    for i, name in enumerate(data.names):
        path = mask_file(folder, name)
        if path is None:
            continue
        own = data.sizes[i] if data.sizes is not None else shape
        masks[i] = read_mask(path, name, own, shape if data.sizes is not None else None, graded)
        has[i] = True
        claimed.add(path)
    _check_found(data, folder, has, _unclaimed(folder, claimed))
    if graded:
        note(
            f"--masks {folder}: {len(graded)} of the {len(claimed)} masks hold values between 0 "
            f"and their largest (such as {graded[0]}: a JPEG's compression, anti-aliased edges); "
            f"their defect pixels are those of at least half their largest value"
        )
    return masks, int(has.sum())


def _unclaimed(folder: Path, claimed: set[Path]) -> str:
    """The words for the mask files in ``folder`` no image claimed ("" when there are none)."""
    files, _ = find_images(folder)
    stray = sorted(p.relative_to(folder).as_posix() for p in files if p not in claimed)
    return ", ".join(stray[:3]) + (", ..." if len(stray) > 3 else "")


def _check_found(data: Data, folder: Path, has: np.ndarray, stray: str) -> None:
    """Refuse masks that match no image (the defect's own folder given for the folder above it
    scored every defect pixel as good, with null pixel figures), and, where the masks are the
    labels, any one mask that matches no image (a misnamed one left its image counted good,
    without a word); note defective-labelled images without a mask, whose pixels are all taken
    as good, with the masks that match no image."""
    defective = np.ones(len(has), bool) if data.y is None else np.asarray(data.y) == 1
    if not has.any() and defective.any():
        stem = Path(data.names[int(np.argmax(defective))]).with_suffix("")
        raise UsageError(
            f"--masks {folder}: no mask for any of the {len(has)} images; looked for masks under "
            f"the images' names, such as {folder / stem}.png or {folder / stem}_mask.png; give the "
            f"folder whose files (or sub-folders) are named as those of --data"
            + ("" if data.y is not None else ", or, if these images are all good, drop --masks")
        )
    if data.y is None and stray:
        raise UsageError(
            f"--masks {folder}: masks that match no image ({stray}); the masks label these images, "
            f"so its image would be counted good: name each mask as its image (NAME.png or "
            f"NAME_mask.png, any image extension), or remove it"
        )
    missing = [n for n, d, h in zip(data.names, defective, has) if d and not h]
    if data.y is not None and missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        note(
            f"--masks {folder}: {len(missing)} of the {int(defective.sum())} defective-labelled "
            f"images have no mask ({shown}); their pixels are all taken as good"
            + (f"; masks that match no image: {stray}" if stray else "")
        )


# ---- aekit score: a score per image, a map and an overlay per image --------------------------------


def output_names(names: Sequence[str], ext: str, option: str) -> list[str]:
    """Each input's relative name with the suffix ``ext``; two inputs that would share an output name
    (``a.png`` and ``a.jpg``) are one line."""
    out = [str(Path(n).with_suffix(ext).as_posix()) for n in names]
    seen: dict[str, str] = {}
    for name, given in zip(out, names):
        if name in seen:
            raise UsageError(
                f"{option}: {seen[name]} and {given} would both write {name}; rename one of them"
            )
        seen[name] = given
    return out


@dataclasses.dataclass
class ImageOutputs:
    """Where ``score_images`` writes besides the scores: a folder of maps and one of overlays."""

    maps: str | Path | None = None
    maps_format: str = "png"  # one of MAP_FORMATS
    overlays: str | Path | None = None


def score_images(
    est,
    path: str | Path,
    output: str | Path,
    outputs: ImageOutputs | None = None,
    *,
    image_size=None,
    verbose: int = 1,
) -> dict[str, int]:
    """Score the image (or the folder of images) ``path`` into the table ``output`` (``file, score,
    is_anomaly, p_value`` per image, in the folder's order) and, when asked, a map and an overlay
    per image under the input's relative name (``.png`` or ``.npy``); return the counts.

    Images of any sizes are read and scored a batch of one size at a time (``image_size``: all
    resized to it, their maps and overlays then brought back to each input's own size). Every
    output appears whole or not at all: the folders are built beside their place and swapped in
    with the table, and an existing output folder is replaced only if aekit wrote it (files of
    yours in it are kept).
    """
    outputs = outputs or ImageOutputs()
    path = Path(path)
    names = relative_names(image_files(path), path) if path.is_dir() else [path.name]
    ext = ".npy" if outputs.maps_format == "npy" else ".png"
    targets = {
        "maps": output_names(names, ext, "--maps") if outputs.maps else None,
        "overlays": output_names(names, ".png", "--overlay") if outputs.overlays else None,
    }
    with contextlib.ExitStack() as stack:
        work = {
            kind: stack.enter_context(staged_folder(getattr(outputs, kind), "output"))
            for kind in ("maps", "overlays")
            if getattr(outputs, kind)
        }
        writer = _MapWriter(est, path, work, targets, names, ext)
        scores = writer.run(image_size, verbose)
        _write_scores(output, est, names, scores)
    return {"images": len(names), "flagged": int(np.sum(scores > est.threshold_))}


class _MapWriter:
    """Scores the images a batch at a time, writing each one's map and overlay into the staged folders."""

    def __init__(self, est, path: Path, work: dict, targets: dict, names: list[str], ext: str):
        self.est, self.path, self.work, self.targets, self.ext = est, path, work, targets, ext
        self.index = {name: i for i, name in enumerate(names)}
        self.threshold, self.scale = float(est.pixel_threshold_), map_scale(est)

    def run(self, image_size, verbose: int) -> np.ndarray:
        scores = np.zeros(len(self.index))
        with Pass(len(self.index), "score", unit="images", verbose=verbose) as progress:
            for batch in iter_image_batches(self.path, image_size):
                where = self.path / batch.names[0] if self.path.is_dir() else self.path
                check_mode(self.est.input_shape_[0], batch.image_mode, where)
                refuse_thin(batch, self.path)
                maps = self.est.anomaly_maps(batch.x)
                scored = self.est.image_scores(maps)
                for j, name in enumerate(batch.names):
                    i = self.index[name]
                    scores[i] = scored[j]
                    self.write(i, name, maps[j], batch.x[j], batch.sizes[j], image_size)
                progress.update(len(batch))
        return scores

    def write(self, i: int, name: str, amap: np.ndarray, image, own, image_size) -> None:
        if not self.work:
            return
        if image_size is not None and tuple(own) != amap.shape:  # back to the input's own size
            amap = _resized(amap, own)
            if "overlays" in self.work:  # drawn over the input as it is
                image = read_image(self.path / name if self.path.is_dir() else self.path)
        if "maps" in self.work:
            target = self.work["maps"] / self.targets["maps"][i]
            target.parent.mkdir(parents=True, exist_ok=True)
            _save_map(target, amap, self.scale)
        if "overlays" in self.work:
            target = self.work["overlays"] / self.targets["overlays"][i]
            target.parent.mkdir(parents=True, exist_ok=True)
            plots.plot_map_overlay(
                image, amap, target, threshold=self.threshold, scale=self.scale, overwrite=True
            )


def _resized(amap: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """A map at ``size`` (height, width), bilinear."""
    from PIL import Image

    im = Image.fromarray(np.asarray(amap, np.float32), "F")
    return np.asarray(im.resize((int(size[1]), int(size[0])), Image.Resampling.BILINEAR))


def _save_map(target: Path, amap: np.ndarray, scale: float) -> None:
    """A map as ``.npy`` (float32, as computed) or an 8-bit grayscale PNG: 0 to ``scale`` as 0 to 255."""
    if target.suffix == ".npy":
        with open(target, "wb") as f:
            np.save(f, np.asarray(amap, np.float32))
        return
    from PIL import Image

    pixels = np.round(np.clip(amap / scale, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(pixels, "L").save(target, format="PNG")


def _write_scores(output: str | Path, est, names: list[str], scores: np.ndarray) -> None:
    """The table ``file, score, is_anomaly, p_value``, atomically (.tsv: tab-separated)."""
    sep = "\t" if str(output).lower().endswith(".tsv") else ","
    flags = (scores > est.threshold_).astype(int)
    p = p_values(est.calibration_scores_, scores)
    with _io.atomic_path(output) as tmp, _io.text_file(tmp) as f:
        writer = _io.CsvRows(f, delimiter=sep)
        writer.writerow(["file", *SCORE_COLUMNS])
        writer.writerows(
            # float32 scores in 9 digits, float64 p-values in repr: both read back equal
            [n, f"{s:.9g}", int(a), repr(float(q))]
            for n, s, a, q in zip(names, scores, flags, p)
        )


RECIPE = ImageAnomalyRecipe()
