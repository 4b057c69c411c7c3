"""The built-in datasets: MNIST, Fashion-MNIST, binarized MNIST and ECG5000.

Each class declares its files as :class:`~aekit.data.download.Resource` entries and reads
them from ``data_root(root) / folder``. Loading never touches the network unless
``download=True``; :meth:`download` is safe to repeat and needs neither the network nor write
access when the files are already there and verified.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import RunFailure, UsageError, WriteFailure, one_line
from .container import Data
from .download import Resource, download_resource, no_folder_left_empty, verify
from .idx import read_idx
from .root import data_origin, data_root

logger = logging.getLogger(__name__)

_MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
_FASHION_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
)
# The UCR archive (2018) ships the TSV files only inside one large zip protected by the password
# published on its web page; each member is extracted and verified on its own.
_UCR_ZIP = "https://www.cs.ucr.edu/~eamonn/time_series_data_2018/UCRArchive_2018.zip"


def _resources(urls: tuple[str, ...], table: list[tuple[str, str, int]]) -> list[Resource]:
    return [Resource(name, sha, size, tuple(u + name for u in urls)) for name, sha, size in table]


def _ucr(name: str, sha256: str, size: int) -> Resource:
    return Resource(
        name,
        sha256,
        size,
        (_UCR_ZIP,),
        member=f"UCRArchive_2018/ECG5000/{name}",
        password=b"someone",
    )


def _make_folder(folder: Path, root: str | os.PathLike | None) -> None:
    """Make a dataset's folder, or one line saying whose it is and how to put it elsewhere (it was
    "permission denied: /nonexistent/.cache" with HOME unset: not said to be the data cache)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteFailure(
            f"cannot make the built-in datasets' folder {folder} (from {data_origin(root)}): "
            f"{(exc.strerror or str(exc)).lower()}; pass --data-dir or set AEKIT_DATA to a folder "
            "you can write",
            errno=exc.errno,
            filename=str(folder),
        ) from None


def _present(folder: Path, filename: str) -> Path | None:
    """The file as stored (``NAME.gz``) or uncompressed (``NAME``), whichever exists first."""
    base = filename[:-3] if filename.endswith(".gz") else filename
    for candidate in (filename, base, base + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


class BuiltinDataset:
    """Base class: a named dataset made of files in ``data_root(root) / folder``."""

    name: ClassVar[str]
    folder: ClassVar[str]
    description: ClassVar[str]
    shape: ClassVar[tuple[int, ...]]  # of one sample
    resources: ClassVar[list[Resource]]
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    # class names by label (for figure legends), if named
    classes: ClassVar[tuple[str, ...] | None] = None

    def __init__(
        self, root: str | os.PathLike | None = None, split: str = "train", download: bool = False
    ):
        if split not in self.splits:
            raise UsageError(
                f"unknown split {split!r} for dataset {self.name}; expected one of: {', '.join(self.splits)}"
            )
        self.split = split
        self.root = data_root(root)
        if download:
            type(self).download(self.root)
        self.data, self.targets = self._load()

    @classmethod
    def path(cls, root: str | os.PathLike | None = None) -> Path:
        """The folder that holds this dataset's files."""
        return data_root(root) / cls.folder

    @classmethod
    def download(cls, root: str | os.PathLike | None = None, **kwargs) -> Path:
        """Fetch the files that are missing or fail their checksum; return the dataset folder.

        ``kwargs`` go to :func:`~aekit.data.download.download_resource`.
        """
        folder = cls.path(root)
        with no_folder_left_empty(folder):  # ROOT/<dataset>, made here, went with a failure
            _make_folder(folder, root)
            for resource in cls.resources:
                present = _present(folder, resource.filename)
                if present is not None and verify(present, resource):
                    logger.debug("%s is present and verified", present)
                    continue
                if present is not None:
                    logger.warning("%s fails its checksum; downloading it again", present)
                download_resource(resource, folder, **kwargs)
        return folder

    def _file(self, filename: str) -> Path:
        path = _present(self.root / self.folder, filename)
        if path is None:
            raise UsageError(
                f"dataset {self.name} not found in {self.root / self.folder}; run 'aekit datasets download "
                f"{self.name}' or pass --data-dir / set AEKIT_DATA"
            )
        return path

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def to_data(self) -> Data:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(split={self.split!r}, n={len(self)}, root='{self.root}')"


class MNIST(BuiltinDataset):
    """MNIST handwritten digits (LeCun, Cortes, Burges): 28x28 grayscale, 10 classes.

    Parameters
    ----------
    root : str or PathLike, optional
        The data root (see :func:`data_root`); the files are read from ``root/mnist``.
    split : {"train", "test"}, default "train"
        60000 training or 10000 test images.
    download : bool, default False
        Fetch missing files first (checksums verified); otherwise a missing file is a
        one-line error that says how to get it.

    Attributes
    ----------
    data : ndarray of uint8, shape (n, 28, 28)
    targets : ndarray of int64, shape (n,)

    Examples
    --------
    >>> ds = MNIST(split="test")          # doctest: +SKIP
    >>> len(ds), ds.to_data().x.shape     # doctest: +SKIP
    (10000, (10000, 1, 28, 28))
    """

    name = "mnist"
    folder = "mnist"
    description = "handwritten digits 0-9, 28x28 grayscale, 60000 train / 10000 test"
    shape = (1, 28, 28)
    resources = _resources(
        _MNIST_URLS,
        [
            (
                "train-images-idx3-ubyte.gz",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                47040016,
            ),
            (
                "train-labels-idx1-ubyte.gz",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                60008,
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                7840016,
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                10008,
            ),
        ],
    )

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        prefix = "train" if self.split == "train" else "t10k"
        images = read_idx(self._file(f"{prefix}-images-idx3-ubyte.gz"))
        labels = read_idx(self._file(f"{prefix}-labels-idx1-ubyte.gz"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise RunFailure(
                f"{self.name} {self.split} files do not match: images {images.shape}, labels {labels.shape}"
            )
        return images, labels.astype(np.int64)

    def _scale(self) -> np.ndarray:
        x = self.data[:, None].astype(np.float32)  # (n, 28, 28) -> (n, 1, 28, 28)
        return np.divide(x, np.float32(255), out=x)

    def to_data(self) -> Data:
        """Images as float32 ``(n, 1, 28, 28)`` in [0, 1], labels as int64."""
        return Data(
            x=self._scale(),
            y=self.targets.copy(),
            image_mode="L",
            source=f"{self.name}:{self.split}",
        )


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao, Rasul, Vollgraf, 2017): Zalando article images, a drop-in for MNIST.

    The files are read from ``root/fashion-mnist``; the attributes are those of :class:`MNIST`.

    Parameters
    ----------
    root, split, download :
        As for :class:`MNIST`.

    Examples
    --------
    >>> FashionMNIST(split="train").to_data().x.shape     # doctest: +SKIP
    (60000, 1, 28, 28)
    """

    name = "fashion-mnist"
    folder = "fashion-mnist"
    description = "Zalando clothing images in 10 classes, 28x28 grayscale, 60000 train / 10000 test"
    classes = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
    resources = _resources(
        _FASHION_URLS,
        [
            (
                "train-images-idx3-ubyte.gz",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                47040016,
            ),
            (
                "train-labels-idx1-ubyte.gz",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                60008,
            ),
            (
                "t10k-images-idx3-ubyte.gz",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                7840016,
            ),
            (
                "t10k-labels-idx1-ubyte.gz",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                10008,
            ),
        ],
    )


class BinarizedMNIST(MNIST):
    """MNIST with pixels set to 1 where the [0, 1] intensity is above 0.5, else 0 (TF VAE tutorial).

    The same files as :class:`MNIST`, in ``root/mnist``; only :meth:`to_data` differs.

    Parameters
    ----------
    root, split, download :
        As for :class:`MNIST`.

    Examples
    --------
    >>> x = BinarizedMNIST(split="test").to_data().x     # doctest: +SKIP
    >>> sorted(set(x.ravel().tolist()))                  # doctest: +SKIP
    [0.0, 1.0]
    """

    name = "binarized-mnist"
    folder = "mnist"  # the same files as MNIST
    description = "MNIST thresholded at 0.5 to 0/1 pixels (as in the TensorFlow VAE tutorial)"

    def _scale(self) -> np.ndarray:
        return (super()._scale() > 0.5).astype(np.float32)


_ECG_LENGTH = 140


def _read_table(path: Path, delimiter: str | None, ncols: int) -> np.ndarray:
    try:
        table = np.loadtxt(path, delimiter=delimiter, dtype=np.float64, ndmin=2)
    except (OSError, EOFError, ValueError) as exc:
        raise RunFailure(
            one_line(f"cannot read {path}: {exc}; delete it and download again")
        ) from exc
    if table.shape[1] != ncols or not np.isfinite(table).all():
        raise RunFailure(
            f"{path} does not hold rows of {ncols} finite numbers; delete it and download again"
        )
    return table


class ECG5000(BuiltinDataset):
    """ECG5000 (UCR archive, 2018): 5000 heartbeats of 140 samples, class 1 normal, 2-5 anomalous.

    Reads ``ECG5000_TRAIN.tsv`` and ``ECG5000_TEST.tsv`` (``.gz`` or not): each row is the class
    then the 140 values. ``split`` is the UCR split (500 train, 4500 test); for the
    anomaly-detection tutorial's split use :func:`ecg5000_classic_split`.

    Parameters
    ----------
    root : str or PathLike, optional
        The data root (see :func:`data_root`); the files are read from ``root/ecg5000``.
    split : {"train", "test"}, default "train"
    download : bool, default False
        Fetch missing files first.

    Attributes
    ----------
    data : ndarray of float64, shape (n, 140)
    targets : ndarray of int64, shape (n,)
        The class, 1 (normal) to 5.

    Examples
    --------
    >>> ds = ECG5000(split="train")               # doctest: +SKIP
    >>> ds.data.shape, sorted(set(ds.targets))    # doctest: +SKIP
    ((500, 140), [1, 2, 3, 4, 5])
    """

    name = "ecg5000"
    folder = "ecg5000"
    description = (
        "ECG heartbeats, 140 values each, class 1 normal / 2-5 anomalous, 500 train / 4500 test"
    )
    shape = (_ECG_LENGTH,)
    resources = [
        _ucr(
            "ECG5000_TRAIN.tsv",
            "df86ac15d7e283e731db6be7865f5004b65bc639014cb8b9753c26e24a9092a1",
            786687,
        ),
        _ucr(
            "ECG5000_TEST.tsv",
            "0192997dd1793880633bfb34ae3ad5129c09a8e0f210c469225451b92cdd8548",
            7083836,
        ),
    ]

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        filename = f"ECG5000_{self.split.upper()}.tsv"
        folder = self.root / self.folder
        if _present(folder, filename) is None and _present(folder, "ecg.csv") is not None:
            raise UsageError(
                f"{folder} holds only the tutorial's ecg.csv, which has no UCR split or classes; use the "
                "classic split (ecg5000_classic_split) or add ECG5000_TRAIN.tsv and ECG5000_TEST.tsv"
            )
        table = _read_table(self._file(filename), "\t", _ECG_LENGTH + 1)
        return table[:, 1:], table[:, 0].astype(np.int64)

    def to_data(self) -> Data:
        """Signals as float32 ``(n, 140)`` (raw, unscaled) and the class (1..5) as int64."""
        return Data(
            x=self.data.astype(np.float32),
            y=self.targets.copy(),
            source=f"{self.name}:{self.split}",
        )


def ecg5000_classic_split(
    root: str | os.PathLike | None = None, download: bool = False
) -> tuple[Data, Data]:
    """The classic anomaly-detection split of ECG5000: ``(train, test)`` with 4000 / 1000 rows.

    Concatenates TRAIN then TEST, labels ``class == 1`` as normal and splits with
    ``train_test_split(data, labels, test_size=0.2, random_state=21)``. In the returned
    :class:`Data`, ``y`` is 1 for normal and 0 for anomalous, ``x`` is raw float32 ``(n, 140)``.
    Falls back to the tutorial's ``ecg.csv`` (140 values then the 1/0 label) when it is the
    only file there.

    Parameters
    ----------
    root : str or PathLike, optional
        The data root (see :func:`data_root`).
    download : bool, default False
        Fetch the UCR files first when missing.

    Returns
    -------
    train, test : Data
        ``y`` is 1 for a normal beat, 0 for an anomalous one (the tutorial's labels: use
        ``1 - test.y`` as the labels of :meth:`aekit.AnomalyDetector.evaluate`).

    Examples
    --------
    >>> train, test = ecg5000_classic_split()  # doctest: +SKIP
    >>> train.x.shape, test.x.shape, int(train.y.sum() + test.y.sum())  # doctest: +SKIP
    ((4000, 140), (1000, 140), 2919)
    """
    from sklearn.model_selection import train_test_split

    folder = ECG5000.path(root)
    csv = _present(folder, "ecg.csv")
    have_tsv = all(_present(folder, r.filename) for r in ECG5000.resources)
    if csv is not None and not have_tsv and not download:
        table = _read_table(csv, ",", _ECG_LENGTH + 1)
        data, labels = table[:, :-1], table[:, -1]
        source = str(csv)
    else:
        parts = [
            ECG5000(root, split, download=download and split == "train")
            for split in ("train", "test")
        ]
        data = np.concatenate([p.data for p in parts])
        labels = np.concatenate([p.targets for p in parts]) == 1
        source = "ecg5000"
    x_train, x_test, y_train, y_test = train_test_split(
        data, labels, test_size=0.2, random_state=21
    )

    def pack(x: np.ndarray, y: np.ndarray, part: str) -> Data:
        return Data(x=x.astype(np.float32), y=y.astype(np.int64), source=f"{source}:classic-{part}")

    return pack(x_train, y_train, "train"), pack(x_test, y_test, "test")


#: The built-in datasets by the name the CLI uses.
DATASETS: dict[str, type[BuiltinDataset]] = {
    cls.name: cls for cls in (MNIST, FashionMNIST, BinarizedMNIST, ECG5000)
}


def get_dataset(name: str) -> type[BuiltinDataset]:
    """The dataset class registered under ``name``.

    Parameters
    ----------
    name : str
        "mnist", "fashion-mnist", "binarized-mnist" or "ecg5000" (``aekit datasets list``).

    Examples
    --------
    >>> get_dataset("mnist").shape
    (1, 28, 28)
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise UsageError(
            f"unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}"
        ) from None


def load_builtin(
    name: str, split: str = "train", root: str | os.PathLike | None = None, download: bool = False
) -> Data:
    """Load a built-in dataset's split as :class:`Data`.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "binarized-mnist", "ecg5000"}
    split : {"train", "test"}, default "train"
    root : str or PathLike, optional
        The data root; default ``$AEKIT_DATA``, then the per-user cache (see :func:`data_root`).
    download : bool, default False
        Fetch missing files first (checksums verified).

    Returns
    -------
    Data
        Images as float32 ``(n, 1, 28, 28)`` in [0, 1], ECG5000 as float32 ``(n, 140)``;
        ``y`` the class labels.

    Examples
    --------
    >>> data = load_builtin("mnist", "test")  # doctest: +SKIP
    >>> data.x.shape, data.x.dtype, data.y[:3]  # doctest: +SKIP
    ((10000, 1, 28, 28), dtype('float32'), array([7, 2, 1]))
    """
    return get_dataset(name)(root=root, split=split, download=download).to_data()
