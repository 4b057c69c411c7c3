"""A served run: its inputs and outputs in the protocol's terms, computed by the estimator.

Each family answers with the estimator's public methods, the ones ``aekit score``, ``encode``,
``reconstruct``, ``denoise`` and ``sample`` call, so a served output is the command's output:

- a detector (``anomaly``): ``score`` (``decision_function``), ``label`` (score > ``threshold_``)
  and ``p_value`` (against ``calibration_scores_``), and ``feature_errors`` when a request names it
  (``feature_errors``: each feature's part of the score, the columns of ``aekit score
  --feature-errors``);
- an autoencoder (``basic``, ``stacked``): ``latent`` (``transform``) and ``reconstruction``;
- the denoiser: ``denoised`` (``transform``);
- the VAE: ``latent``, ``reconstruction``, and ``sample`` when a request names it (``sample(n,
  seed)``, its ``n`` and ``seed`` from the parameters);
- a series detector: ``score`` and ``label`` of every step of the posted stretch, and ``p_value``
  when it has calibration scores (``threshold="fpr:RATE"``, or ``aekit calibrate``);
- an image detector: ``score``, ``label`` and ``p_value`` of every image, and its anomaly ``map``
  when a request names it (``anomaly_maps``).

Rows come as one tensor ``input`` shaped ``[rows, *sample shape]``, or, for runs that know their
columns' names (a table read with a header, a series' channels), as one tensor per column named
after it: picked by name with :func:`aekit.data.columns_by_name`, as ``aekit score`` picks a CSV's
columns, so order and extra columns do not matter. The run's id column, when posted, comes back
unchanged as an output of the same name.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..estimators.outputs import raw_columns
from ..estimators.thresholds import p_values
from .protocol import InferRequest, ProtocolError, Tensor, numbers, scalars
from .watch import RunWatch

INPUT = "input"  # the name of the one-tensor input
ANY = -1  # a dimension of any size, in shapes the metadata shows


@dataclass(frozen=True)
class TensorSpec:
    """An input or output as the metadata shows it."""

    name: str
    datatype: str
    shape: tuple[int, ...]

    def json(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclass
class Work:
    """What one request asks of the model: rows, the outputs to compute, how it may be batched.

    ``key`` groups work that can run in one call (None: runs alone); ``run(x, names)`` computes
    the named outputs of rows ``x`` (``x`` is None for a draw of samples).
    """

    x: np.ndarray | None
    names: tuple[str, ...]
    run: Callable[[np.ndarray | None, tuple[str, ...]], dict[str, np.ndarray]]
    key: Any = None
    rows: int = 1


class ServedModel:
    """One run behind the protocol (the base: rows in, per-row outputs out).

    Parameters
    ----------
    name : str
        The name clients use in ``/v2/models/{name}``.
    est : estimator
        The fitted estimator (``aekit.load``); only the server's inference thread calls it.
    config : dict
        The run's ``config.json`` (its id column).
    """

    kind = "model"
    batchable = True  # whether rows of several requests may run in one call

    def __init__(
        self,
        name: str,
        est: Any,
        config: dict[str, Any],
        path: str | Path = "",
        watch: RunWatch | None = None,
    ):
        self.name, self.est, self.path = name, est, str(path)
        self.sample_shape = tuple(int(d) for d in est.input_shape_)
        self.columns = self._column_names()
        self.id_column = (config.get("data") or {}).get("id_column")
        size = (config.get("data") or {}).get("image_size")  # --image-size: images resized to it
        self.image_size = tuple(size) if size is not None else None
        # a table's missing cells: filled with the run's recorded values, as aekit score fills them
        self.fill_values = (config.get("data") or {}).get("fill_values")
        # a --categorical run's columns as its table held them (text for an encoded one), which a
        # request posts by name as aekit score reads a file: name -> (text, required); else None
        self.categorical = (config.get("data") or {}).get("categorical") or None
        self.raw = None
        if self.categorical and self.columns:
            self.raw = dict(raw_columns(self.columns, self.categorical))
        self.tabular = len(self.sample_shape) == 1
        self.outputs = self._outputs()
        # a calibrate of the run while served: said in the log (load_model's, taken before the load)
        self.watch = watch or RunWatch(name, path)

    # ---- what the metadata shows ------------------------------------------------------------------
    def _column_names(self) -> list[str] | None:
        names = getattr(self.est, "feature_names_in_", None)
        if names is None or len(self.sample_shape) != 1:
            return None
        return [str(n) for n in names]

    def input_shape(self) -> tuple[int, ...]:
        return (ANY, *self.sample_shape)

    def inputs(self) -> list[TensorSpec]:
        specs = [TensorSpec(INPUT, "FP32", self.input_shape())]
        if self.raw is not None:  # the table's own columns: an encoded one as text
            return specs + [
                TensorSpec(c, "BYTES" if text else "FP32", (ANY,))
                for c, (text, _) in self.raw.items()
            ]
        return specs + [TensorSpec(c, "FP32", (ANY,)) for c in self.columns or []]

    def _outputs(self) -> list[TensorSpec]:  # pragma: no cover - each family says
        raise NotImplementedError

    def default_outputs(self) -> tuple[str, ...]:
        """The outputs a request that names none gets."""
        return tuple(o.name for o in self.outputs)

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "versions": [],
            "platform": f"aekit/{type(self.est).__name__}",
            "inputs": [t.json() for t in self.inputs()],
            "outputs": [t.json() for t in self.outputs],
        }

    # ---- a request into work --------------------------------------------------------------------
    def work(self, req: InferRequest) -> list[Work]:
        """The request checked against this model: what to compute (ProtocolError if it cannot)."""
        self.watch.check()
        names = self._requested(req)
        x = self.rows(req)
        own = _own_size(req, x)
        if own is None or not self.RESIZED_BACK:
            return [Work(x, names, self.compute, self._key(x), len(x))]
        # images resized to the run's size: their images and maps go back to their own size, as
        # aekit denoise and aekit score write them (so only requests of one own size batch together)
        back = functools.partial(self._back, own=own)
        return [Work(x, names, back, (self._key(x), own), len(x))]

    RESIZED_BACK: tuple[str, ...] = ()  # outputs brought back to the posted images' own size

    def _back(self, x: np.ndarray, names: tuple[str, ...], own) -> dict[str, np.ndarray]:
        from ..data import resize_images

        out = self.compute(x, names)
        for n in set(self.RESIZED_BACK) & set(out):
            a = np.asarray(out[n], np.float32)
            out[n] = resize_images(a, own) if a.ndim == 4 else resize_images(a[:, None], own)[:, 0]
        return out

    def _requested(self, req: InferRequest) -> tuple[str, ...]:
        if req.outputs is None:
            return self.default_outputs()
        known = {o.name for o in self.outputs}
        unknown = [n for n in req.outputs if n not in known]
        if unknown:
            raise ProtocolError(
                f"model {self.name!r} has no output {unknown[0]!r}; expected one of "
                f"{', '.join(sorted(known))}"
            )
        return tuple(req.outputs)

    def _key(self, x: np.ndarray) -> Any:
        return x.shape[1:] if self.batchable else None

    def rows(self, req: InferRequest) -> np.ndarray:
        """The request's rows as float32, shaped ``[rows, *sample shape]``."""
        given = [n for n in req.inputs if n != INPUT]
        if INPUT in req.inputs:
            if given and self.columns and any(n in self.columns for n in given):
                raise ProtocolError(
                    f"give either {INPUT!r} or the columns by name, not both (got {INPUT!r} and "
                    f"{given[0]!r})"
                )
            x = self._at_run_size(numbers(req.inputs[INPUT], self.tabular))
            self._check_shape(x)
        elif self._raw_posted(req):
            x = self._by_raw_name(req)
        elif self.columns:
            x = self._by_name(req)
        else:
            raise ProtocolError(
                f"model {self.name!r} takes one input named {INPUT!r} shaped "
                f"{list(self.input_shape())}; got {', '.join(map(repr, req.inputs)) or 'none'}"
            )
        if len(x) == 0:
            raise ProtocolError("the input has no rows; expected at least one")
        return self._filled(x).astype(np.float32)

    def _filled(self, x: np.ndarray) -> np.ndarray:
        """A table's missing cells (``null``, NaN) filled with the run's recorded values, as
        ``aekit score`` fills a file's; a run that records none (``--fill none``): refused, naming
        the columns."""
        if not self.tabular or not np.isnan(x).any():
            return x
        from ..data.missing import count_missing, fill_cells

        names = self.columns or [str(j) for j in range(x.shape[1])]
        rows, per = count_missing(x, names)
        if self.fill_values is None:
            cols = ", ".join(f"{n}: {c}" for n, c in list(per.items())[:8])
            raise ProtocolError(
                f"{rows} of {len(x)} rows have missing values ({cols}); the model records no "
                f"values to fill them with (a run trained with --fill none, or a model saved from "
                f"Python): send every cell"
            )
        return fill_cells(x, self.fill_values, names)

    def _at_run_size(self, x: np.ndarray) -> np.ndarray:
        """Images of another size than a run's ``--image-size`` resized to it, as the run's command
        resizes them (:func:`aekit.data.resize_images`): for the image detector, whose ``aekit
        score`` reads image files only, images of 8-bit values (a photo read and scaled to [0, 1])
        as 8-bit pixels, since the float resize's rounding difference
        (under 1/255) moved a resized run's map by up to 0.26, 15% of its pixel threshold."""
        if self.image_size is None or x.ndim != 4:
            return x
        from ..data.images import eight_bit_values, resize_images

        x = x.astype(np.float32)
        # the image detector only: the other families' commands read .npy arrays too and resize
        # them as floats, so a served array answers as that command does (review 60)
        eight_bit = self.kind == ImageDetector.kind and eight_bit_values(x)
        return resize_images(x, self.image_size, eight_bit=eight_bit)

    def _check_shape(self, x: np.ndarray) -> None:
        want = self.input_shape()
        if len(x.shape) != len(want) or any(w not in (ANY, g) for w, g in zip(want, x.shape)):
            raise ProtocolError(
                f"the input {INPUT!r} has shape {list(x.shape)}; model {self.name!r} expects "
                f"{list(want)} (-1: any size)"
            )

    def _by_name(self, req: InferRequest) -> np.ndarray:
        """One tensor per column, picked by the run's names (others ignored), as ``aekit score`` does."""
        from ..data import Data, columns_by_name
        from ..errors import DataError

        posted = [n for n in req.inputs if n in self.columns]
        if not posted:  # none of its columns: a misnamed 'input' more likely than absent columns
            shown = ", ".join(self.columns[:5]) + (" ..." if len(self.columns) > 5 else "")
            raise ProtocolError(
                f"model {self.name!r} takes one input named {INPUT!r} shaped "
                f"{list(self.input_shape())}, or one input per column named after it ({shown}); "
                f"got {', '.join(map(repr, req.inputs)) or 'none'}"
            )
        cols = _same_rows([_column(req.inputs[n], self.tabular) for n in posted])
        x = np.stack(cols, axis=1) if cols else np.empty((0, 0))
        try:
            return columns_by_name(
                Data(x=x, feature_names=posted, source="the request"), self.columns
            )
        except DataError as exc:
            raise ProtocolError(str(exc)) from None

    def _raw_posted(self, req: InferRequest) -> bool:
        """Whether a --categorical run's request posts the table's own columns: one of them missing
        among the encoded ones (``plan``, not ``plan=pro``), or a text column posted as text (a
        date's column keeps its name: ``day`` as ISO dates, not as days). Else every encoded
        column is posted as numbers, read as such."""
        if self.raw is None:
            return False
        text = [n for n, (is_text, _) in self.raw.items() if is_text and n in req.inputs]
        return not set(self.columns) <= set(req.inputs) or any(
            req.inputs[n].datatype == "BYTES" for n in text
        )

    def _by_raw_name(self, req: InferRequest) -> np.ndarray:
        """A --categorical run's rows from the table's own columns posted by name (``plan`` as
        text, not ``plan=pro``), read as ``aekit score`` reads a file's (:func:`read_cells`)."""
        from ..data import columns_by_name
        from ..data.cells import Cells
        from ..data.parquet import read_cells
        from ..errors import DataError

        need = [n for n, (_, required) in self.raw.items() if required and n not in req.inputs]
        if need:
            more = f" (and {len(need) - 5} more)" if len(need) > 5 else ""
            raise ProtocolError(
                f"model {self.name!r} takes the table's columns by name; missing "
                f"{', '.join(map(repr, need[:5]))}{more} (text columns as BYTES)"
            )
        posted = [n for n in self.raw if n in req.inputs]
        cells = _same_rows([_cells(req.inputs[n], self.raw[n][0]) for n in posted])
        read = dict(columns=self.columns, categorical=self.categorical, fill_values=None)
        try:
            data = read_cells(posted, Cells(cells, len(cells[0])), "the request", **read)
            return columns_by_name(data, self.columns)
        except DataError as exc:
            raise ProtocolError(str(exc)) from None

    def echoed(self, req: InferRequest, rows: int) -> dict[str, Any] | None:
        """The run's id column as posted (an output of the same name), or None."""
        t = req.inputs.get(self.id_column) if isinstance(self.id_column, str) else None
        if t is None or t.name == INPUT:
            return None
        values = scalars(t)
        if len(values) != rows:
            raise ProtocolError(
                f"the id column {t.name!r} has {len(values)} values for {rows} rows"
            )
        return {"name": t.name, "datatype": t.datatype, "shape": [rows], "data": values}

    # ---- computing -------------------------------------------------------------------------------
    def compute(self, x: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The named outputs of rows ``x`` (called on the inference thread only)."""
        raise NotImplementedError  # pragma: no cover - each family says


def _own_size(req: InferRequest, x: np.ndarray) -> tuple[int, int] | None:
    """The posted images' own (height, width) when they were resized to the run's, else None."""
    t = req.inputs.get(INPUT)
    if t is None or len(t.shape) != 4 or tuple(t.shape[2:]) == tuple(x.shape[2:]):
        return None
    return tuple(int(d) for d in t.shape[2:])


def _column(t: Tensor, missing: bool = False) -> np.ndarray:
    """A column posted by name: shape [rows] or [rows, 1] (``missing``: null for a missing cell)."""
    if len(t.shape) == 1 or (len(t.shape) == 2 and t.shape[1] == 1):
        return numbers(t, missing).reshape(-1)
    raise ProtocolError(f"the column {t.name!r} has shape {list(t.shape)}; expected [rows]")


def _same_rows(columns: list) -> list:
    """``columns`` posted by name, checked to hold one number of rows."""
    if columns and any(len(c) != len(columns[0]) for c in columns):
        raise ProtocolError("the columns have different numbers of rows; give each the same")
    return columns


def _cells(t: Tensor, text: bool) -> list[str]:
    """A column posted by name as a table's text cells (a missing one ``""``): a text column's
    values (numbers too: codes such as store ids), a number column's numbers."""
    if not text:
        return ["" if math.isnan(v) else repr(float(v)) for v in _column(t, missing=True)]
    return ["" if v is None else str(v) for v in scalars(t)]


def _calibrated(est: Any) -> bool:
    """Whether the detector has calibration scores, and so a p-value for every score."""
    return getattr(est, "calibration_scores_", None) is not None


class Detector(ServedModel):
    """``aekit train anomaly``: a score per row, its label, and a p-value where the estimator has one;
    each feature's part of the score (``feature_errors``, shaped as the rows) when a request names it."""

    kind = "detector"
    SCORE = "FP32"  # the score's datatype in the metadata
    FEATURES = "feature_errors"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.threshold = float(self.est.threshold_)

    def _decisions(self) -> list[TensorSpec]:
        """The outputs every detector has: the score, its label and, when calibrated, its p-value."""
        out = [TensorSpec("score", self.SCORE, (ANY,)), TensorSpec("label", "INT64", (ANY,))]
        if _calibrated(self.est):  # a series run: only when trained with fpr:RATE, or calibrated
            out.append(TensorSpec("p_value", "FP64", (ANY,)))
        return out

    def _outputs(self) -> list[TensorSpec]:
        return [*self._decisions(), TensorSpec(self.FEATURES, "FP32", (ANY, *self.sample_shape))]

    def default_outputs(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs if o.name != self.FEATURES)

    def compute(self, x: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        more = {self.FEATURES: self.est.feature_errors(x)} if self.FEATURES in names else {}
        return self._decided(np.asarray(self.est.decision_function(x)), names, **more)

    def _decided(self, scores: np.ndarray, names: tuple[str, ...], **more) -> dict[str, np.ndarray]:
        """The named outputs from the scores (and ``more`` computed beside them): the label and the
        p-value need no second pass of the network (the feature errors, when asked, take one)."""
        out = {"score": scores, "label": (scores > self.threshold).astype(np.int64), **more}
        if "p_value" in names:
            # a series' steps count as the windows they span (SeriesDetector.calibration_windows_)
            windows = getattr(self.est, "calibration_windows_", None)
            out["p_value"] = p_values(self.est.calibration_scores_, scores, windows)
        return {n: out[n] for n in names}


class Series(Detector):
    """``aekit train series``: a request is one stretch of consecutive steps; a score and label per step."""

    kind = "series"
    SCORE = "FP64"
    batchable = False  # each stretch is a series of its own: its windows never mix with another's

    def _column_names(self) -> list[str] | None:
        names = getattr(self.est, "channel_names_", None)
        return None if names is None else [str(n) for n in names]

    def input_shape(self) -> tuple[int, ...]:
        return (ANY, int(self.est.n_features_in_))  # [steps, channels]

    def _outputs(self) -> list[TensorSpec]:
        return self._decisions()  # per step: no feature's part (aekit score --channels has them)

    def compute(self, x: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        out = super().compute(x, names)
        if "score" in out:
            out["score"] = out["score"].astype(np.float64)
        return out


class ImageDetector(Detector):
    """``aekit train anomaly --data FOLDER``: a score, label and p-value per image; its map when asked.

    Images come as one tensor ``[images, channels, height, width]`` of values in [0, 1] (8-bit
    pixels divided by 255), any height and width; images of one size run together. ``map`` is
    each image's anomaly map ``[images, height, width]``, the float maps of ``aekit score
    --maps-format npy``: large, so only a request that names it gets it.
    """

    kind = "images"
    SCORE = "FP64"
    MAP = "map"
    RESIZED_BACK = (MAP,)

    def input_shape(self) -> tuple[int, ...]:
        return (ANY, self.sample_shape[0], ANY, ANY)

    def _outputs(self) -> list[TensorSpec]:
        return [*self._decisions(), TensorSpec(self.MAP, "FP32", (ANY, ANY, ANY))]

    def default_outputs(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs if o.name != self.MAP)

    def compute(self, x: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        maps = np.asarray(self.est.anomaly_maps(x), np.float32)  # (images, H, W)
        return self._decided(self.est.image_scores(maps), names, **{self.MAP: maps})


class Encoder(ServedModel):
    """``aekit train basic|stacked``: the latent vector and the reconstruction of each row."""

    kind = "encoder"

    def _outputs(self) -> list[TensorSpec]:
        # the code as transform gives it: (z,) for a vector, (C, H, W) for a conv encoder's map
        code = tuple(int(d) for d in self.est.latent_shape_)
        return [
            TensorSpec("latent", "FP32", (ANY, *code)),
            TensorSpec("reconstruction", "FP32", self.input_shape()),
        ]

    def compute(self, x: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        methods = {"latent": self.est.transform, "reconstruction": self.est.reconstruct}
        return {n: np.asarray(methods[n](x)) for n in names}


class Denoiser(ServedModel):
    """``aekit train denoise``: the denoised images, any height and width (the built-in network's
    convolutions take any; the user's own network takes its training size only, so says that)."""

    kind = "denoiser"
    RESIZED_BACK = ("denoised",)

    def input_shape(self) -> tuple[int, ...]:
        if self.est.get_params(deep=False).get("encoder") is not None:
            return (ANY, *self.sample_shape)
        return (ANY, self.sample_shape[0], ANY, ANY)

    def _outputs(self) -> list[TensorSpec]:
        return [TensorSpec("denoised", "FP32", self.input_shape())]

    def compute(self, x: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        return {"denoised": np.asarray(self.est.transform(x))}


class VAE(Encoder):
    """``aekit train vae``: latent and reconstruction per row; ``sample`` (new images) when asked."""

    kind = "vae"
    SAMPLE = "sample"

    def __init__(self, *args: Any, max_elements: int = 2**21, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.max_samples = max(1, max_elements // max(1, math.prod(self.sample_shape)))

    def _outputs(self) -> list[TensorSpec]:
        return [*super()._outputs(), TensorSpec(self.SAMPLE, "FP32", self.input_shape())]

    def default_outputs(self) -> tuple[str, ...]:
        return ("latent", "reconstruction")

    def work(self, req: InferRequest) -> list[Work]:
        self.watch.check()
        names = self._requested(req)
        jobs = []
        if self.SAMPLE in names:
            n, seed = self._sample_args(req)
            jobs.append(Work(None, (self.SAMPLE,), lambda _x, _n: self._sample(n, seed), None, n))
        rest = tuple(n for n in names if n != self.SAMPLE)
        if rest or not jobs:
            x = self.rows(req)
            jobs.append(Work(x, rest, self.compute, self._key(x), len(x)))
        return jobs

    def _sample_args(self, req: InferRequest) -> tuple[int, int | None]:
        given = {**req.parameters, **((req.outputs or {}).get(self.SAMPLE) or {})}
        n, seed = given.get("n", 1), given.get("seed")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= self.max_samples:
            raise ProtocolError(
                f"the parameter 'n' (images to sample) is {n!r}; expected a whole number from 1 to "
                f"{self.max_samples}"
            )
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63
        ):
            raise ProtocolError(
                f"the parameter 'seed' is {seed!r}; expected a whole number from 0 to {2**63 - 1}"
            )
        return n, seed

    def _sample(self, n: int, seed: int | None) -> dict[str, np.ndarray]:
        return {self.SAMPLE: self._as_declared(self.est.sample(n, seed=seed))}

    def compute(self, x: np.ndarray | None, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        out = super().compute(x, names)
        if "reconstruction" in out:
            out["reconstruction"] = self._as_declared(out["reconstruction"])
        return out

    def _as_declared(self, images: Any) -> np.ndarray:
        """Images in the declared shape, the network's [n, C, H, W]: a VAE fitted in Python on rows
        or (n, H, W) gives them back in that form, which the metadata does not say (review 60)."""
        images = np.asarray(images)
        return images.reshape(len(images), *self.sample_shape)


#: The estimator class (config.json's "estimator") -> how it is served.
SERVED = {
    "AnomalyDetector": Detector,
    "SeriesDetector": Series,
    "ImageAnomalyDetector": ImageDetector,
    "Autoencoder": Encoder,
    "Denoiser": Denoiser,
    "VAE": VAE,
}


def load_model(name: str, path: str | Path, max_elements: int = 2**21) -> ServedModel:
    """The run at ``path`` loaded and wrapped for serving (a RunFailure or UsageError if it cannot).

    ``max_elements``: the most numbers one draw of VAE samples may hold (its answer's size).
    """
    from ..errors import RunFailure
    from ..recipes import load_run

    watch = RunWatch(name, path)  # before reading it: a calibrate meanwhile is a change too
    est, _, config = load_run(path)
    kind = type(est).__name__
    if kind not in SERVED:
        raise RunFailure(f"{path}: a {kind} cannot be served; expected one of {', '.join(SERVED)}")
    if "verbose" in est.get_params(deep=False):
        est.set_params(verbose=0)  # no progress bars on the server's terminal
    extra = {"max_elements": max_elements} if kind == "VAE" else {}
    return SERVED[kind](name, est, config, path, watch=watch, **extra)
