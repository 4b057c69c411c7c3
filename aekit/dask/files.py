"""``aekit score RUN --input 'data/*.parquet' --output scores/ --dask ADDRESS``: Parquet files scored on
a Dask cluster, one output part per input file.

Each input file is one task, run where the scheduler puts it: the worker reads the file in batches
of rows (:data:`BATCH_ROWS`, so its memory is bounded whatever the file's size), scores them with
the model it loaded once (:mod:`aekit.dask.models`) and writes ``OUTPUT/<input name>`` with the id
column under its own name, ``score``, ``is_anomaly`` (and ``p_value`` when the detector has it).
The parts go into a staging folder beside the output, which replaces the output only once every
part is written: a failure leaves the previous output as it was. Workers read the inputs and write
the parts themselves, so both must be on storage that every worker sees (a shared file system);
the inputs go to them as absolute paths. The model goes in a worker plugin of the scoring's own,
unregistered when it ends (success or failure): a scoring leaves no model on the cluster.
"""

from __future__ import annotations

import glob
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from .._io import atomic_path
from .._outputs import check_output
from .._transaction import staged_folder
from ..data.encoding import SEPARATOR
from ..errors import RunFailure, UsageError, one_line
from ..estimators.outputs import input_columns, output_frame
from .frames import estimator, recorded_preparation, ship
from .models import Shipped, model

BATCH_ROWS = 16_384  # rows a worker reads, scores and writes at a time


def input_files(pattern: str | list[str]) -> list[Path]:
    """The Parquet files a glob pattern (or a list of them) names, sorted; one line when none."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    found = sorted({Path(p) for pat in patterns for p in glob.glob(str(pat))})
    if not found:
        raise UsageError(
            f"--input {pattern}: no file matches; expected Parquet files, e.g. 'data/*.parquet'"
        )
    bad = [p for p in found if p.suffix.lower() != ".parquet" or not p.is_file()]
    if bad:
        raise UsageError(
            f"--input {pattern}: {bad[0]} is not a .parquet file; with --dask the input is Parquet files"
        )
    names = [p.name for p in found]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise UsageError(
            f"--input {pattern}: two files are named {twice}; each output part takes its input's name"
        )
    return found


def score_files(
    run: Any,
    inputs: str | list[str],
    output: str,
    *,
    scheduler: str,
    overwrite: bool = False,
    id_column: str | None = None,
    **params,
) -> tuple[int, int]:
    """Score Parquet files on the Dask cluster at ``scheduler`` into the folder ``output``.

    Parameters
    ----------
    run : str or Path
        A run folder of ``aekit train anomaly``.
    inputs : str or list of str
        Parquet files or glob patterns (``'data/*.parquet'``).
    output : str
        The folder of output parts (one per input file, under the input's name).
    scheduler : str
        The scheduler's address (``tcp://host:8786``).
    overwrite : bool, default False
        Replace an existing output folder.
    id_column : str, optional
        The id column (default: the run's recorded one, when the inputs have it).
    **params
        Threshold settings for this scoring, as in :func:`aekit.dask.score`.

    Returns
    -------
    (rows, parts)

    Examples
    --------
    >>> score_files("runs/ecg", "data/*.parquet", "scores", scheduler="tcp://127.0.0.1:8786")  # doctest: +SKIP
    (200000, 8)
    """
    _client_class()  # before an input is opened: pyarrow's line would come first (probe 64 #7)
    files = input_files(inputs)
    _refuse_file_name(output)
    target = check_output(output, overwrite=overwrite, inputs=files, kind="output")
    est = estimator(run, "scores", params)
    id_column = id_column or _recorded_id(run, files[0])
    with (
        _connect(scheduler) as client,
        _shipped(est, client) as shipped,
        # the parts are written into a staging folder beside the output, which is swapped in whole
        # (with its manifest, keeping any files of the user's) once every part is there
        staged_folder(target, "output") as staging,
    ):
        futures = client.map(
            score_file,
            # absolute: a worker opens them in its own working directory, not the client's
            [str(f.absolute()) for f in files],
            [str(staging / f.name) for f in files],
            shipped=shipped,
            id_column=id_column,
            prepare=recorded_preparation(run),
            pure=False,
        )
        rows = sum(client.gather(futures))
    return rows, len(files)


@contextmanager
def _shipped(est: Any, client: Any) -> Iterator[Shipped]:
    """The model on the cluster for one scoring: a worker plugin of this scoring's own (a scoring of
    the same model beside it keeps its own), unregistered at the end, success or failure, so that
    the scheduler and the workers let go of the model (a loop that retrains and scores would
    otherwise leave one more on each at every round)."""
    name = f"aekit-scoring-{uuid.uuid4().hex}"
    try:
        yield ship(est, client, name=name)
    finally:
        # the cluster gone (the error said already), or the plugin never registered: nothing to undo
        with suppress(OSError, TimeoutError, ValueError):
            client.unregister_worker_plugin(name)


def _refuse_file_name(output: str) -> None:
    """One line for an output named like a file (``scores.csv``): the parts go into a folder."""
    path = Path(output)
    if path.suffix and not path.is_dir():
        raise UsageError(
            f"--output {output}: --dask writes a folder of .parquet parts (one per input file), "
            f"not a {path.suffix} file; name a folder without a file extension (e.g. {path.stem})"
        )


def _recorded_id(run: Any, first: Path) -> str | None:
    from ..data.parquet import open_parquet
    from .frames import recorded_id_column

    return recorded_id_column(run, open_parquet(first).schema_arrow.names)


def _client_class():
    """distributed's Client, or one line for the extra that brings it (and pyarrow with it)."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--dask needs Dask's distributed scheduler: pip install 'aekit[dask]'"
        ) from None
    return Client


def _connect(scheduler: str):
    """A Client of the scheduler at ``scheduler``; one line when it does not answer."""
    Client = _client_class()
    try:
        return Client(scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise RunFailure(
            f"--dask {scheduler}: cannot reach the Dask scheduler ({one_line(exc)}); start one "
            f"with 'dask scheduler' and pass its address, e.g. tcp://127.0.0.1:8786"
        ) from None


def score_file(
    src: str, dest: str, *, shipped: Shipped, id_column: str | None, prepare: dict | None = None
) -> int:
    """On a worker: score the Parquet file ``src`` batch by batch into ``dest``; the rows written.
    Each batch is read as ``aekit score`` reads a chunk of a table (``prepare``: the run's recorded
    categorical columns and fill values)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..data.parquet import open_parquet

    est, lock = model(shipped)
    pfile = open_parquet(Path(src))
    have = pfile.schema_arrow.names
    names = input_columns(est)
    # the model's columns, or the column NAME of a one-hot NAME=VALUE
    bases = [c if c in have else c.partition(SEPARATOR)[0] for c in (names or have)]
    wanted = list(dict.fromkeys(c for c in bases if c in have and c != id_column))
    wanted = ([id_column] if id_column in have else []) + wanted
    rows, writer = 0, None
    with atomic_path(dest, suffix=".parquet") as tmp:
        try:
            for batch in pfile.iter_batches(batch_size=BATCH_ROWS, columns=wanted):
                with lock:
                    out = output_frame(
                        est,
                        batch.to_pandas(),
                        id_column=id_column,
                        source=src,
                        prepare=prepare,
                        first_row=rows + 1,
                    )
                table = pa.Table.from_pandas(out, preserve_index=False)
                writer = writer or pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
                rows += len(out)
            if writer is None:  # no rows: an empty part with the columns
                empty = pfile.schema_arrow.empty_table().select(wanted).to_pandas()
                out = output_frame(est, empty, id_column=id_column, source=src, prepare=prepare)
                pq.write_table(pa.Table.from_pandas(out, preserve_index=False), tmp)
        finally:
            if writer is not None:
                writer.close()
    return rows
