"""Where a run's data comes from: :class:`DataSpec`, recorded in ``config.json`` and read back."""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _io
from ..data import Data, read_path
from ..errors import DataError, UsageError


@dataclass
class DataSpec:
    """Where a run's data comes from: a built-in dataset or the user's own file or folder."""

    dataset: str | None = None  # built-in name (mnist, fashion-mnist, binarized-mnist, ecg5000)
    data: str | None = None  # path to .npy/.npz/.csv/.tsv or a folder of images
    data_dir: str | None = None  # root of the built-in datasets
    npz_key: str | None = None
    label_column: str | None = None
    normal_label: str | None = None  # anomaly detection: the label value of normal rows
    id_column: str | None = None
    image_size: tuple[int, int] | None = None
    validation_split: float = 0.2  # held-out fraction of the user's own data
    download: bool = True  # fetch missing built-in datasets
    # read the user's data from disk batch by batch; None: when over memory_cap
    stream: bool | None = None
    # bytes the data may take in memory (None: aekit.data.default_memory_cap())
    memory_cap: int | None = None
    # a series: the column of each step's time, carried through to scores
    time_column: str | None = None
    # a series: fill gaps ("linear", "previous") instead of refusing them; a table: what fills its
    # missing cells ("median" when None, "mean", "zero", "none": aekit.data.missing)
    fill: str | None = None
    columns: list[str] | None = None  # a table: the feature columns (default: its numeric ones)
    drop_columns: list[str] | None = None  # a table: columns left out of the features
    categorical: list[str] | None = None  # a table: text columns encoded (dates, one-hot)
    # a table: the values that fill missing cells, learned from the training rows (by feature name)
    fill_values: dict[str, float] | None = None
    # a series: train on its first N steps (its figures still cover the whole series, as the UCR
    # archive's do)
    train_steps: int | None = None
    patch: int | None = None  # a folder of images: train on random square crops of this side
    patches: int | None = None  # with patch: crops per image (None: aekit.data.images.crop_count)
    # sha256 of the data read (built-in: the files' published ones)
    checksums: dict[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        """As recorded in a run's ``config.json``: paths made absolute, the data root that was used
        (so that later commands find built-in data without ``$AEKIT_DATA``) and the data's checksums."""
        d = dataclasses.asdict(self)
        if self.data is not None:
            d["data"] = str(Path(self.data).resolve())
        else:
            from ..data import data_root

            d["data_dir"] = str(data_root(self.data_dir).resolve())
        if d["checksums"] is None:
            d["checksums"] = self.fingerprint()
        return d

    def fingerprint(self, every_file: bool = False) -> dict[str, str]:
        """sha256 checksums of the data: a built-in dataset's files (published), a file's bytes, or one
        digest of a folder's images (relative names and contents; ``every_file``: of all its
        files, as runs recorded it before)."""
        if self.data is None:
            from ..data import get_dataset

            return (
                {r.filename: r.sha256 for r in get_dataset(self.dataset).resources}
                if self.dataset
                else {}
            )
        path = Path(self.data)
        if path.is_file():
            return {path.name: _sha256([path])}
        if path.is_dir():
            return {path.name + "/": _sha256(_folder_files(path, every_file), names_from=path)}
        return {}

    def changed(self) -> bool:
        """Whether the user's data file or folder is there but differs from the checksums recorded
        at training (so its seeded split is no longer the run's). False for a built-in dataset
        (checked when read), a run that recorded no checksums, or data that is gone (the read
        says so)."""
        if self.data is None or not self.checksums or not Path(self.data).exists():
            return False
        if self.fingerprint() == self.checksums:
            return False
        # a run recorded before the folder's digest took its images alone: every file, then
        return not (Path(self.data).is_dir() and self.fingerprint(True) == self.checksums)

    def name_columns(self) -> None:
        """Name a label, id or time column given by index (``--id-column 0``) as the table's header
        names it: a run records its columns by name, as every later file is read (a recorded index
        would be looked for as a column named ``"0"``, and the ids dropped)."""
        from ..data.tables import table_columns

        names = table_columns(self.data) if self.data is not None else None
        if not names:  # no header (an index is all there is), not a table, or a built-in dataset
            return

        def named(column):
            if column is None or str(column) in names:
                return column
            try:
                index = int(column)
            except (TypeError, ValueError):
                return column  # not a column: the read says so
            return names[index] if -len(names) <= index < len(names) else column

        self.label_column, self.id_column = named(self.label_column), named(self.id_column)
        self.time_column = named(self.time_column)  # a series': its times, by name too
        self._check_columns(names)

    def _check_columns(self, names: list[str]) -> None:
        """``--columns`` names the table's own columns (or ``NAME=VALUE`` of one): a typo was "lacks
        the model's columns ... the model was trained on", before there was a model (probe 59
        locale L5)."""
        from ..data.checks import listed, unicode_forms
        from ..data.encoding import SEPARATOR
        from ..data.tables import column_labels

        unknown = [
            str(c)
            for c in self.columns or ()
            if str(c) not in names and str(c).partition(SEPARATOR)[0] not in names
        ]
        if unknown:
            raise UsageError(
                f"--columns {', '.join(map(repr, unknown))}: {self.data} has no column of "
                f"{'that name' if len(unknown) == 1 else 'those names'}; its columns are: "
                f"{listed(column_labels(names))}; "
                f"name its own columns in --columns{unicode_forms(unknown, names)}"
            )

    def reading_from(self, data_dir: str | None = None) -> DataSpec:
        """This spec, to read the run's data again: from ``data_dir`` (``--data-dir``) when given, else
        from the root recorded at training when it still exists, else from the default root."""
        spec = dataclasses.replace(self)
        if data_dir is not None:
            spec.data_dir = data_dir
        elif spec.data_dir is not None and not Path(spec.data_dir).is_dir():
            spec.data_dir = None  # moved or another machine: $AEKIT_DATA, then the user cache
        return spec

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DataSpec:
        known = {f.name for f in dataclasses.fields(cls)}
        spec = cls(**{k: v for k, v in d.items() if k in known})
        if spec.image_size is not None:
            spec.image_size = tuple(spec.image_size)
        return spec

    def streams(self, path: str | None = None) -> bool:
        """Whether the user's data is read from disk batch by batch (``--stream``, or too big for memory)."""
        if self.stream is not None:
            return self.stream
        from ..data import should_stream

        return should_stream(path or self.data, self.memory_cap)

    def table_options(self, columns=None, path: str | None = None) -> dict[str, Any]:
        """How to read a table as the run reads it: its columns (``columns``: a model's feature
        names, which take precedence), the encoded ones and the recorded fill values. The user's
        ``--columns`` holding every ``--categorical`` one are read as the table ``path``'s other
        columns dropped, so that those are encoded (a model's columns name the encoded features)."""
        others = self._others(path) if columns is None else None
        return dict(
            columns=list(columns) if columns is not None else None if others else self.columns,
            drop_columns=others or self.drop_columns,
            categorical=self.categorical,
            fill_values=self.fill_values,
        )

    def _others(self, path: str | None) -> list[str] | None:
        """The columns of the table ``path`` outside ``--columns`` when ``--columns`` holds every
        ``--categorical`` column and the table names them all; else None."""
        from ..data.tables import table_columns

        if not self.columns or not self.categorical or path is None:
            return None
        chosen, encode = {str(c) for c in self.columns}, {str(c) for c in self.categorical}
        names = table_columns(path)
        if not names or not encode <= chosen or not chosen <= set(names):
            return None  # read as --columns: what is wrong is said there
        return [n for n in names if n not in chosen]

    def read_user(self, path: str | None = None, **kw: Any) -> Data:
        """The user's data: in memory, or with ``x`` a row store on disk when it :meth:`streams`."""
        path = path or self.data
        kw = {**self.table_options(path=path), **kw}
        if not self.streams(path):
            return read_path(
                path,
                npz_key=self.npz_key,
                label_column=self.label_column,
                id_column=self.id_column,
                image_size=self.image_size,
                **kw,
            )
        from ..data import open_rows

        # .npy is mapped where it lies; tables and image folders are converted once into a .npy
        # in a temporary folder that lives as long as this process.
        disk = open_rows(
            path,
            cache_dir=_spill_dir(),
            label_column=self.label_column,
            id_column=self.id_column,
            image_size=self.image_size,
            **kw,
        )
        return Data(
            x=disk.rows,
            y=disk.y,
            ids=disk.ids,
            feature_names=disk.feature_names,
            names=disk.names,
            image_mode=disk.image_mode,
            source=disk.source,
            id_name=disk.id_name,
        )


def _folder_files(path: Path, every_file: bool) -> list[Path]:
    """The files a folder's digest covers: the images read from it (a notes file put beside them
    changes no split), or every file."""
    from ..data.images import image_files

    if not every_file:
        try:
            return image_files(path)
        except DataError:  # no images: the read will say so
            return []
    files = (p for p in path.rglob("*") if p.is_file())
    return sorted(files, key=lambda p: p.relative_to(path).as_posix())


def _sha256(files: list[Path], names_from: Path | None = None) -> str:
    """One sha256 over ``files``' bytes (and, for a folder, their names relative to it), read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    for f in files:
        if names_from is not None:
            # the name's bytes as the file system holds them (os.fsencode: a name that is not
            # UTF-8, from a Windows zip, is text with surrogates that .encode() refuses)
            digest.update(os.fsencode(f.relative_to(names_from).as_posix()) + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _spill_dir() -> str:
    """A temporary folder for converted data, removed when the process exits; one a killed
    process left (as large as its data) is removed by the next (:func:`aekit._io.temp_folder`)."""
    import atexit

    folder = _io.temp_folder("aekit-stream-")
    atexit.register(shutil.rmtree, folder, True)
    return folder
