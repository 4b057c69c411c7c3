"""``aekit index`` and ``aekit neighbors``: search a run's latent space for the items most like a query."""

from __future__ import annotations

import argparse

from .options import add_data_options, recorded_image_size
from .types import positive_int

FIGURE_QUERIES = 8  # queries on each page of the neighbours figure
FIGURE_CAP = 64  # queries drawn by default (--figure-queries): 8 pages


def register(subparsers) -> None:
    ix = subparsers.add_parser(
        "index", help="encode data with a run's model into an index for 'aekit neighbors'"
    )
    ix.add_argument("run", metavar="RUN", help="a basic, stacked or vae run folder")
    ix.add_argument(
        "--input",
        required=True,
        metavar="PATH",
        help="the items: .npy, .npz, .csv/.tsv or a folder "
        "of images (file names or --id-column become ids)",
    )
    ix.add_argument("--output", required=True, metavar="INDEX", help="the index folder to write")
    ix.add_argument(
        "--metric",
        choices=("euclidean", "cosine"),
        default="euclidean",
        help="distance between latent vectors (default euclidean)",
    )
    add_data_options(ix, builtin=False)
    ix.add_argument("--overwrite", action="store_true", help="replace an existing index")
    ix.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (it shows none: taken as by every command on a run)",
    )
    ix.set_defaults(func=cmd_index)

    nb = subparsers.add_parser(
        "neighbors", help="the nearest items of an index to each query, with distances"
    )
    nb.add_argument("index", metavar="INDEX", help="an index folder written by 'aekit index'")
    nb.add_argument(
        "--query",
        required=True,
        metavar="PATH",
        help="the queries, read like the index's --input (its --label-column and --id-column "
        "where the file has them)",
    )
    nb.add_argument(
        "-k",
        type=positive_int,
        default=None,
        metavar="K",
        help="neighbours per query (default 10, or all the index holds when fewer; more than it "
        "holds is refused, as LatentIndex.kneighbors refuses it)",
    )
    nb.add_argument(
        "--output",
        required=True,
        metavar="CSV",
        help="query,rank,neighbor,distance rows; for images "
        "also a figure beside it (same name, .png)",
    )
    nb.add_argument(
        "--no-figure",
        action="store_true",
        help="skip the figure of queries beside their neighbours",
    )
    nb.add_argument(
        "--figure-queries",
        type=positive_int,
        metavar="N",
        help=f"queries drawn in the figure, {FIGURE_QUERIES} a page (OUTPUT.png, OUTPUT-2.png, ...; "
        f"default the first {FIGURE_CAP})",
    )
    nb.add_argument("--overwrite", action="store_true", help="replace existing output files")
    nb.add_argument(
        "--quiet",
        action="store_true",
        help="no progress on stderr (it shows none: taken as by every command on a run)",
    )
    nb.set_defaults(func=cmd_neighbors)


def _read(path: str, read: dict, est, run: str, config: dict):
    """The items or queries at ``path``, read as ``aekit encode`` reads them for the run: the index's
    reading options, the model's feature columns by name, and the run's recorded table preparation
    (fill values, encoded columns, its id column where ``path`` has it)."""
    from .options import read_for_model

    size = read.get("image_size")
    given = argparse.Namespace(
        run=run,
        input=path,
        npz_key=read.get("npz_key"),
        label_column=read.get("label_column"),
        id_column=read.get("id_column"),
        image_size=tuple(size) if size is not None else None,
    )
    return read_for_model(given, est, config)


def _query_read(config: dict, path: str) -> dict:
    """The index's reading options for the queries at ``path``, its label and id columns only where
    that table has them: the labels are the index items' (the neighbours'), and queries mostly come
    without either (then numbered, as a file without ids is)."""
    from .options import recorded_column

    read = config.get("read") or {}
    own = {key: recorded_column({"data": read}, key, path) for key in ("label_column", "id_column")}
    return {**read, **own}


def _ids(data) -> list:
    """File names, the id column, or row numbers."""
    if data.names is not None:
        return list(data.names)
    if data.ids is not None:
        return [v.item() if hasattr(v, "item") else v for v in data.ids]
    return list(range(len(data)))


def cmd_index(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .._outputs import check_output
    from ..errors import UsageError
    from ..estimators.neighbors import LatentIndex
    from ..estimators.provenance import record_items, record_model
    from ..recipes import load_run

    est, _, config = load_run(args.run)
    if not hasattr(est, "inverse_transform"):  # only latent-variable models map samples to vectors
        raise UsageError(
            f"{args.run} is a run of the {config.get('family', type(est).__name__)} family, without a latent space "
            f"to search; use a basic, stacked or vae run"
        )
    out = check_output(
        args.output, overwrite=args.overwrite, inputs=[args.input, args.run], kind="index"
    )
    read = {
        "npz_key": args.npz_key,
        "label_column": args.label_column,
        "id_column": args.id_column,
        # the size the run was trained at unless another is given (as every command on a run)
        "image_size": list(args.image_size or recorded_image_size(config) or []) or None,
    }
    data = _read(args.input, read, est, args.run, config)
    index = LatentIndex(encoder=est, metric=args.metric).fit(data.x, ids=_ids(data))
    labels = None if data.y is None else [v.item() if hasattr(v, "item") else v for v in data.y]
    index.save(
        out,
        overwrite=args.overwrite,
        extra={
            "run": str(Path(args.run).resolve()),
            # found again when the run and the index move together (a project folder moved)
            "run_from_index": _relative(Path(args.run).resolve(), Path(out).resolve()),
            "input": str(Path(args.input).resolve()),
            "read": read,
            "labels": labels,
            # what the index answers for: the model that encoded the items, and the items themselves
            "model": record_model(args.run),
            "items": record_items(args.input, data.names),
        },
    )
    print(
        f"wrote an index of {len(index.ids_)} vectors of size {index.vectors_.shape[1]} ({args.metric}) "
        f"to {args.output}"
    )
    return 0


def _open_index(path: str):
    """(index.json checked, the run's estimator, the run's config) of an index whose model and
    items are unchanged."""
    from .._transaction import readable
    from ..estimators.neighbors import INDEX_CONFIG, read_index_config
    from ..estimators.provenance import check_items, check_model, check_recorded, items_gone
    from ..recipes import load_run

    config = _made_here(read_index_config(path), path)
    config = check_recorded(config, readable(path) / INDEX_CONFIG)
    config["run"] = _run_there(config, path)
    est, _, run_config = load_run(config["run"])
    check_model(config["model"], config["run"], path)
    if not items_gone(config["items"]):  # the vectors answer alone; changed items would be misnamed
        # a table's id column is stored with the vectors: its answers name the items as indexed
        check_items(config["items"], path, ids_stored=(config["read"] or {}).get("id_column"))
    return config, est, run_config


def _made_here(config: dict, path: str) -> dict:
    """``config``, unless the index was saved from Python (``LatentIndex.save``): without the run
    and input 'aekit index' records, which this command needs."""
    from ..errors import UsageError

    if {"run", "input", "items"} & config.keys():
        return config
    raise UsageError(
        f"{path} is an index saved from Python (LatentIndex.save), without the run and input that "
        f"'aekit neighbors' needs: build one with 'aekit index RUN --input ITEMS --output INDEX', "
        f"or search this one in Python with LatentIndex.load(PATH, encoder=aekit.load(RUN))"
    )


def _relative(run, index) -> str | None:
    """The run's path from the index, or None where there is none (another drive on Windows:
    the two cannot move together)."""
    import os

    try:
        return os.path.relpath(run, index)
    except ValueError:
        return None


def _run_there(config: dict, path: str) -> str:
    """The run folder of an index: where it was when the index was built, or, moved together with
    the index, where its path from the index leads; else refused, naming where the path comes from."""
    import os

    from .._notes import note
    from ..errors import NotFound

    run, beside = config["run"], config.get("run_from_index")
    if os.path.isdir(run):
        return run
    # from where the index really is: ".." folded lexically past a link to it (review 1 F5)
    where = os.path.realpath(path)
    moved = os.path.normpath(os.path.join(where, beside)) if isinstance(beside, str) else None
    if moved is not None and os.path.isdir(moved):  # its weights are checked as ever (check_model)
        note(f"{path}: the run {run} moved; using {moved}, where it lies from the index as it did")
        return moved
    raise NotFound(
        f"{path}: the run {run} that its index.json names is not there (moved or deleted); "
        f"put it back there, or build the index again with 'aekit index RUN --input ... "
        f"--output {path} --overwrite'",
        filename=run,
    )


def cmd_neighbors(args: argparse.Namespace) -> int:
    import contextlib
    import io
    from pathlib import Path

    from .. import _io
    from .._io import CsvRows
    from .._outputs import check_output
    from ..errors import UsageError
    from ..estimators.neighbors import LatentIndex

    if Path(args.output).suffix.lower() not in (".csv", ".tsv"):
        raise UsageError(
            f"--output {args.output}: expected a .csv or .tsv file (the figure, for images, is "
            f"written beside it as .png)"
        )
    config, est, run_config = _open_index(args.index)
    inputs = [args.query, args.index, config["input"], config["run"]]
    out = check_output(args.output, overwrite=args.overwrite, inputs=inputs)
    index = LatentIndex.load(args.index)  # its model checked against the run: _open_index
    index.encoder = est
    queries = _read(args.query, _query_read(config, args.query), est, config["run"], run_config)
    pages = _pages(args, queries, inputs)
    if args.k is not None and args.k > len(index.ids_):  # not silently fewer than asked for
        raise UsageError(
            f"-k {args.k}: the index {args.index} holds {len(index.ids_)} items; ask for at most "
            f"that many (-k {len(index.ids_)})"
        )
    query_ids = _ids(queries)
    dist, idx = index.kneighbors(queries.x, k=min(args.k or 10, len(index.ids_)), ids=query_ids)
    labels = config.get("labels")
    buf = io.StringIO()
    writer = CsvRows(buf, delimiter="\t" if out.suffix.lower() == ".tsv" else ",")
    writer.writerow(["query", "rank", "neighbor", "distance"] + (["label"] if labels else []))
    for q in range(len(idx)):
        for r, (i, d) in enumerate(zip(idx[q], dist[q]), start=1):
            writer.writerow(
                [query_ids[q], r, index.ids_[i], repr(float(d))] + ([labels[i]] if labels else [])
            )
    # the CSV and every page staged, moved into place together once all are complete
    with contextlib.ExitStack() as stack:
        with _io.text_file(stack.enter_context(_io.atomic_path(out))) as f:
            f.write(buf.getvalue())  # UTF-8 whatever the locale, names not UTF-8 as their bytes
        staged = [stack.enter_context(_io.atomic_path(p, suffix=".png")) for p in pages]
        if pages:
            cap = _drawn(args, len(idx))
            _figure(config, args.index, queries, idx, dist, labels, staged, query_ids, cap)
    print(f"wrote {idx.shape[1]} neighbours of each of {len(idx)} queries to {args.output}")
    _say_pages(args, pages, len(idx), queries.x.ndim == 4)
    return 0


def _say_pages(args: argparse.Namespace, pages: list, n: int, images: bool) -> None:
    """The pages written; for an index of images, the pages by this call's names that it did not
    write (an earlier call's, drawing more pages or with a figure: beside the new CSV they show
    other queries). Said, never removed: aekit cannot tell them from the user's own files."""
    import itertools
    from pathlib import Path

    from .._notes import note

    if pages:
        cap = _drawn(args, n)
        more = "" if cap == n else f" (--figure-queries {n} draws them all)"
        print(f"wrote {', '.join(map(str, pages))}: queries 1-{cap} of {n}{more}")
    if not images:  # an index of vectors draws no page: a PNG there is the user's
        return
    figure = Path(args.output).with_suffix(".png")
    stale = []
    # OUTPUT.png, OUTPUT-2.png, ... from the first this call did not write
    for p in itertools.count(len(pages)):
        page = figure if p == 0 else figure.with_name(f"{figure.stem}-{p + 1}.png")
        if not page.exists():
            break
        stale.append(str(page))
    if stale:
        one = len(stale) == 1
        drew = f"{len(pages)} page{'' if len(pages) == 1 else 's'}" if pages else "no figure"
        note(
            f"{', '.join(stale)}: not written by this call (it drew {drew}); "
            f"{'if it is' if one else 'if they are'} an earlier call's figure, "
            f"{'it shows' if one else 'they show'} other queries than {args.output}"
        )


def _drawn(args: argparse.Namespace, n: int) -> int:
    """How many of ``n`` queries the figure draws (--figure-queries, else FIGURE_CAP)."""
    return min(n, args.figure_queries or FIGURE_CAP)


def _pages(args: argparse.Namespace, queries, inputs: list) -> list:
    """The figure's pages beside --output (FIGURE_QUERIES queries each), each checked like the
    output; none for vectors or with --no-figure."""
    from pathlib import Path

    from .._outputs import check_output
    from ..errors import UsageError

    if queries.x.ndim != 4 or args.no_figure:
        if args.figure_queries is not None:  # it sizes a figure that is not drawn
            why = "--no-figure" if args.no_figure else "an index of vectors (no images to draw)"
            raise UsageError(f"--figure-queries sizes the figure, and {why} draws none; drop it")
        return []
    figure = Path(args.output).with_suffix(".png")
    cap = _drawn(args, len(queries.x))
    names = [
        figure if p == 0 else figure.with_name(f"{figure.stem}-{p + 1}.png")
        for p in range(-(-cap // FIGURE_QUERIES))
    ]
    return [check_output(n, overwrite=args.overwrite, inputs=inputs) for n in names]


def _figure(config, index_path, queries, idx, dist, labels, pages, query_ids, cap) -> None:
    """The first ``cap`` queries beside the neighbours the CSV names (read by name from the index's
    input), a page of FIGURE_QUERIES each, each query named."""
    import numpy as np

    from ..estimators.provenance import read_items
    from ..plots import plot_neighbors

    read = config.get("read") or {}
    for p, path in enumerate(pages):
        rows = np.arange(p * FIGURE_QUERIES, min((p + 1) * FIGURE_QUERIES, cap))
        shown = idx[rows]
        panel_labels = None
        if labels and queries.y is not None:
            panel_labels = [
                v for q, row in zip(rows, shown) for v in [queries.y[q], *[labels[i] for i in row]]
            ]
        plot_neighbors(
            queries.x[rows],
            read_items(config["items"], shown, read, index_path),
            path,
            distances=dist[rows],
            labels=panel_labels,
            title=f"nearest neighbours by latent vector ({config['metric']}): queries "
            f"{rows[0] + 1}-{rows[-1] + 1} of {len(idx)}",
            query_names=[query_ids[q] for q in rows],
            overwrite=True,
        )
